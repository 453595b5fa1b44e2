from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from duktus import crypto


class Command(BaseCommand):
    help = (
        "Erzeugt eine neue Master-Key-Version, macht sie primär und verpackt alle Praxisschlüssel neu. "
        "Alte Versionen bleiben bis --destroy erhalten (kein Ausfall laufender Prozesse)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--destroy", type=int, nargs="*", default=None, help="alte Versionen endgültig löschen")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["destroy"]:
                crypto.destroy_master_versions(options["destroy"])
                self.stdout.write(self.style.SUCCESS(f"Master-Key-Versionen gelöscht: {options['destroy']}"))
                return
            version = crypto.rotate_master_key()
        except (ValueError, crypto.DecryptionError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Neue Master-Key-Version {version} ist primär; alle Praxisschlüssel neu verpackt."))
        self.stdout.write("Bitte die Schlüsseldatei sichern. Alte Versionen nach dem Backup-Fenster mit --destroy löschen.")
