"""Record a practice's instrument licence and load its licensed texts from a JSON file.

    manage.py load_instrument_licence --practice <practice code> --instrument isi \
        --file isi_de.json --note "Mapi Research Trust, Vertrag 2026-17" --owner inhaber@praxis.de

The file format is described in assessments.instruments.parse_licensed_form. The texts are
stored encrypted under the practice key and are never printed.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from assessments import services
from assessments.instruments import INSTRUMENTS, load_licensed_form
from duktus.models import Membership, Practice, Role


class Command(BaseCommand):
    help = "Lizenz für einen Fragebogen erfassen und lizenzierte Itemtexte aus einer JSON-Datei laden."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--practice", required=True, help="Code (UUID) der Praxis")
        parser.add_argument("--instrument", required=True, choices=[c for c, i in INSTRUMENTS.items() if not i.text_available])
        parser.add_argument("--file", required=True, help="JSON-Datei mit den lizenzierten Texten")
        parser.add_argument("--note", required=True, help="Lizenzvermerk (Lizenzgeber, Vertrag, Datum, Umfang)")
        parser.add_argument("--owner", required=True, help="E-Mail der Praxisinhaberin / des Praxisinhabers")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            practice = Practice.objects.get(code=uuid.UUID(options["practice"]))
        except (Practice.DoesNotExist, ValueError):
            raise CommandError("Praxis nicht gefunden.") from None
        membership = (
            Membership.objects.filter(practice=practice, role=Role.OWNER, user__email__iexact=options["owner"])
            .select_related("user").first()
        )
        if membership is None:
            raise CommandError("Lizenzen erfasst die Praxisinhaberin bzw. der Praxisinhaber dieser Praxis.")
        note = options["note"].strip()
        if not note or len(note) > 500:
            raise CommandError("Lizenzvermerk fehlt oder ist länger als 500 Zeichen.")
        try:
            form = load_licensed_form(options["instrument"], options["file"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        services.record_licence(practice=practice, instrument=options["instrument"], licence_note=note,
                                item_texts=form, request=None, actor=membership.user)
        name = INSTRUMENTS[options["instrument"]].short_name
        self.stdout.write(f"Lizenz für {name} erfasst: {len(form.items)} Itemtexte geladen; elektronische Formulare sind freigeschaltet.")
