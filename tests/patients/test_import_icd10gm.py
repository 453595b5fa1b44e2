from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from patients import icd10gm
from tests.patients.test_icd10gm import SAMPLE_2013_LAYOUT


def test_it_imports_the_official_layout(tmp_path: Path) -> None:
    src = tmp_path / "icd10gm2026syst_kodes.txt"
    src.write_text(SAMPLE_2013_LAYOUT, encoding="utf-8")
    out = tmp_path / "out.csv"
    buf = StringIO()
    call_command("import_icd10gm", str(src), "--out", str(out), stdout=buf)
    assert "Codes (Version 2026)" in buf.getvalue()
    codes = icd10gm.load(out)
    assert codes and all(c.version == 2026 for c in codes.values())
    assert all(c.code[0] in "FZ" for c in codes.values())


def test_it_rejects_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="nicht gefunden"):
        call_command("import_icd10gm", str(tmp_path / "fehlt.txt"))
