"""Run the retention job once; --dry-run shows what would happen (counts only, no names)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from duktus.privacy import retention

LABELS = {
    "noticed": "Akten nach Ablauf der Frist, Löschung angekündigt (30 Tage)",
    "erased": "Akten gelöscht",
    "audit_deleted": "Protokolleinträge gelöscht",
    "exports_deleted": "abgelaufene Exportdateien gelöscht",
    "temp_files_deleted": "temporäre Dateien gelöscht",
    "keys_destroyed": "alte Hauptschlüssel-Versionen vernichtet",
}


class Command(BaseCommand):
    help = "Aufbewahrungsfristen: abgelaufene Akten, Protokolle, Exporte, Schlüsselversionen"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="nur anzeigen, nichts ändern")

    def handle(self, *args: Any, **options: Any) -> None:
        report = retention.run(dry_run=options["dry_run"])
        if report.dry_run:
            self.stdout.write("Probelauf – es wurde nichts geändert. Ein echter Lauf würde:")
        for key, value in report.counts.items():
            self.stdout.write(f"  {key}: {value}  ({LABELS.get(key, key)})")
