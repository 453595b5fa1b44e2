"""Run the retention job once; --dry-run shows what would happen (counts only, no names)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from duktus.privacy import retention


class Command(BaseCommand):
    help = "Aufbewahrungsfristen: abgelaufene Akten, Protokolle, Exporte, Schlüsselversionen"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        report = retention.run(dry_run=options["dry_run"])
        prefix = "Probelauf – würde: " if report.dry_run else ""
        for key, value in report.counts.items():
            self.stdout.write(f"{prefix}{key}: {value}")
