from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from duktus.audit import verify_chain


class Command(BaseCommand):
    help = "Prüft die Hash-Kette des Zugriffsprotokolls und meldet das erste gebrochene Glied."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Audit-Kette intakt: {report.checked} Einträge geprüft."))
            return
        raise CommandError(f"Audit-Kette gebrochen bei Eintrag {report.broken_id}: {report.reason} (davor {report.checked} Einträge in Ordnung).")
