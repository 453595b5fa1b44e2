from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from patients import icd10gm


class Command(BaseCommand):
    help = (
        "Liest die amtliche BfArM-Datei (icd10gmJJJJsyst_kodes.txt) und schreibt die Codeliste "
        "(Kapitel V und Z) als CSV. Danach DUKTUS_ICD10GM_CSV auf die Datei setzen."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="Pfad zu icd10gmJJJJsyst_kodes.txt")
        parser.add_argument("--year", type=int, default=None, help="Jahr (sonst aus dem Dateinamen)")
        parser.add_argument("--out", default=None, help="Ziel-CSV (Standard: var/icd10gm/icd10gm_JJJJ.csv)")

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(options["file"])
        if not source.exists():
            raise CommandError(f"Datei nicht gefunden: {source}")
        try:
            codes = icd10gm.parse_bfarm_file(source, version=options["year"])
        except (ValueError, OSError) as exc:
            raise CommandError(f"Datei konnte nicht gelesen werden: {exc}") from exc
        if not codes:
            raise CommandError("Keine F- oder Z-Codes in der Datei gefunden.")
        version = codes[0].version
        out = Path(options["out"]) if options["out"] else Path(settings.VAR_DIR) / "icd10gm" / f"icd10gm_{version}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        count = icd10gm.write_csv(codes, out, version)
        icd10gm.clear_cache()
        self.stdout.write(self.style.SUCCESS(f"{count} Codes (Version {version}) nach {out} geschrieben."))
        self.stdout.write(f"Aktivieren mit: DUKTUS_ICD10GM_CSV={out}")
