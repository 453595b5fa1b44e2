from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from duktus import crypto
from duktus.models import Practice


class Command(BaseCommand):
    help = "Erzeugt eine neue Version des Praxisschlüssels und verpackt alle Patientenschlüssel neu."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("practice", help="UUID der Praxis")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            practice = Practice.objects.get(code=options["practice"])
        except (Practice.DoesNotExist, ValueError) as exc:
            raise CommandError("Praxis nicht gefunden.") from exc
        version = crypto.rotate_practice_key(practice)
        self.stdout.write(self.style.SUCCESS(f"Praxisschlüssel Version {version} aktiv."))
