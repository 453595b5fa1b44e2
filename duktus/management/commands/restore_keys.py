"""After restoring a database dump: bring the live key rows into it (duktus/privacy/backups.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from duktus.privacy import backups


class Command(BaseCommand):
    help = "Schlüsselzeilen des laufenden Systems in eine wiederhergestellte Datenbank übernehmen"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database-name", required=True, help="Name der wiederhergestellten Datenbank (gleicher Server)")

    def handle(self, *args: Any, **options: Any) -> None:
        alias = backups.add_database_alias(options["database_name"])
        counts = backups.apply_live_keys(alias)
        for key, value in counts.items():
            self.stdout.write(f"{key}: {value}")
