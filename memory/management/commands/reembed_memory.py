"""Re-embed memory entries, e.g. after switching the embedding backend (offline ↔ provider)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from memory import services
from patients.models import Patient


class Command(BaseCommand):
    help = "Berechnet die Suchvektoren des klinischen Gedächtnisses neu."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--practice", help="nur diese Praxis (UUID)")
        parser.add_argument("--patient", help="nur diese Patientin / diesen Patienten (UUID)")
        parser.add_argument("--stale-only", action="store_true", help="nur fehlende oder mit anderem Verfahren erzeugte Vektoren")

    def handle(self, *args: Any, **opts: Any) -> None:
        qs = Patient.objects.select_related("data_key", "practice").order_by("id")
        if opts["practice"]:
            qs = qs.filter(practice__code=opts["practice"])
        if opts["patient"]:
            qs = qs.filter(code=opts["patient"])
        if (opts["practice"] or opts["patient"]) and not qs.exists():
            raise CommandError("Keine passende Praxis bzw. Patient/in gefunden.")
        made = services.reembed(patients=qs.iterator(chunk_size=200), stale_only=opts["stale_only"])
        self.stdout.write(f"{made} Vektoren neu berechnet.")
