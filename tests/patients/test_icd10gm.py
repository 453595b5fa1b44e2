"""Tests for the shipped ICD-10-GM code list and its loader (no database, no Django needed).

Run alone without the Django plugin:
    .venv/bin/pytest -p no:django -o addopts="" tests/patients/test_icd10gm.py -q
(``-o addopts=""`` because pytest.ini adds ``--reuse-db``, which only exists with
pytest-django.)  The module also runs inside the normal project test run.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import pytest

from patients import icd10gm
from patients.icd10gm import IcdCode

CSV_PATH = Path(icd10gm.__file__).resolve().parent / "data" / "icd10gm_2025.csv"
CODE_PATTERN = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")


# The project conftest has autouse fixtures that need Django's ``settings`` fixture.
# These tests touch neither the database nor settings; overriding the fixtures by
# name keeps the module runnable with ``-p no:django``.
@pytest.fixture(autouse=True)
def _celery_eager():  # type: ignore[no-untyped-def]
    yield


@pytest.fixture(autouse=True)
def _clear_cache():  # type: ignore[no-untyped-def]
    yield


@pytest.fixture(autouse=True)
def _fast_password_hasher():  # type: ignore[no-untyped-def]
    yield


@pytest.fixture(autouse=True)
def _default_list(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv(icd10gm.PATH_ENV, raising=False)
    icd10gm.clear_cache()
    yield
    icd10gm.clear_cache()


# --------------------------------------------------------------------------- lookup


@pytest.mark.parametrize(("code", "title"), [
    ("F32.0", "Leichte depressive Episode"),
    ("F32.1", "Mittelgradige depressive Episode"),
    ("F33.1", "Rezidivierende depressive Störung, gegenwärtig mittelgradige Episode"),
    ("F41.0", "Panikstörung [episodisch paroxysmale Angst]"),
    ("F41.1", "Generalisierte Angststörung"),
    ("F43.1", "Posttraumatische Belastungsstörung"),
    ("F43.2", "Anpassungsstörungen"),
    ("F60.31", "Emotional instabile Persönlichkeitsstörung: Borderline-Typ"),
    ("F10.2", "Psychische und Verhaltensstörungen durch Alkohol: Abhängigkeitssyndrom"),
    ("F50.00", "Anorexia nervosa, restriktiver Typ"),
    ("F50.01", "Anorexia nervosa, aktiver Typ"),
    ("F90.0", "Einfache Aktivitäts- und Aufmerksamkeitsstörung"),
    ("F45.41", "Chronische Schmerzstörung mit somatischen und psychischen Faktoren"),
    ("Z73", "Probleme mit Bezug auf Schwierigkeiten bei der Lebensbewältigung"),
])
def test_lookup_known_terminal_codes(code: str, title: str) -> None:
    found = icd10gm.lookup(code)
    assert found == IcdCode(code=code, title=title, version=2025, terminal=True)


@pytest.mark.parametrize("code", ["F32", "F40.0", "F50.0", "F60.3", "F45.3", "F45.4", "Z91"])
def test_lookup_nonterminal_codes_are_known_but_marked(code: str) -> None:
    found = icd10gm.lookup(code)
    assert found is not None and found.terminal is False


def test_codes_used_elsewhere_in_the_app_are_terminal() -> None:
    # patients/demo.py and the existing view/form tests rely on these.
    for code in ["F32.1", "F33.1", "F41.1", "F43.1", "F40.1", "F41.0", "F43.2", "F50.2", "F60.31", "F42.2"]:
        found = icd10gm.lookup(code)
        assert found is not None and found.terminal, code


@pytest.mark.parametrize("typed", ["f32.1", " F32.1 ", "F 32.1", "\tf32.1\n", "F32,1", "F321"])
def test_lookup_normalizes(typed: str) -> None:
    found = icd10gm.lookup(typed)
    assert found is not None and found.code == "F32.1"


def test_lookup_accepts_bfarm_markers() -> None:
    assert icd10gm.lookup("F32.-").code == "F32"  # type: ignore[union-attr]
    assert icd10gm.lookup("F00.0*").code == "F00.0"  # type: ignore[union-attr]


@pytest.mark.parametrize("typed", ["", "   ", None, "F99.9X", "F32.7", "F31.10", "X99", "32.1", "F32.1 G", "Depression", "F2"])
def test_lookup_unknown_returns_none(typed: str | None) -> None:
    assert icd10gm.lookup(typed) is None


def test_icdcode_is_frozen() -> None:
    found = icd10gm.lookup("F32.1")
    assert found is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.title = "x"  # type: ignore[misc]


def test_certainty_markers_are_separate_from_codes() -> None:
    assert icd10gm.CERTAINTY == {
        "G": "gesicherte Diagnose", "V": "Verdacht auf", "Z": "Zustand nach", "A": "ausgeschlossene Diagnose",
    }
    assert icd10gm.split_certainty("F32.1 G") == ("F32.1", "G")
    assert icd10gm.split_certainty("f43.1v") == ("F43.1", "V")
    assert icd10gm.split_certainty("F32.1") == ("F32.1", None)
    assert icd10gm.split_certainty("Z73") == ("Z73", None)


def test_billing_hint() -> None:
    assert icd10gm.billing_hint("F32.1") is None
    hint = icd10gm.billing_hint("F40.0")
    assert hint is not None and "keine endständige" in hint and "F40.00" in hint and "F40.01" in hint
    assert "kein gültiger" in (icd10gm.billing_hint("F99.9X") or "")
    assert [c.code for c in icd10gm.children("F60.3")] == ["F60.30", "F60.31"]


# --------------------------------------------------------------------------- search


def test_search_by_code_prefix_in_classification_order() -> None:
    assert [c.code for c in icd10gm.search("f43")] == ["F43", "F43.0", "F43.1", "F43.2", "F43.8", "F43.9"]
    assert [c.code for c in icd10gm.search("F40.0")] == ["F40.0", "F40.00", "F40.01"]


def test_search_by_words_case_and_umlaut_tolerant() -> None:
    for query in ["Posttraumatische", "posttraumatische belastungsstörung", "POSTTRAUMATISCHE BELASTUNGSSTOERUNG",
                  "belastungsstorung posttraum"]:
        assert "F43.1" in [c.code for c in icd10gm.search(query)], query
    assert "F60.31" in [c.code for c in icd10gm.search("borderline")]
    assert "F41.1" in [c.code for c in icd10gm.search("generalisierte angst")]


def test_search_combines_code_and_words() -> None:
    assert [c.code for c in icd10gm.search("F60 borderline")] == ["F60.31"]


def test_search_ranks_title_prefix_first_and_respects_limit() -> None:
    results = icd10gm.search("depressive episode", limit=3)
    assert len(results) == 3
    assert results[0].title.startswith("Depressive Episode")
    assert len(icd10gm.search("F", limit=20)) == 20
    assert icd10gm.search("") == [] and icd10gm.search("   ") == [] and icd10gm.search(None) == []
    assert icd10gm.search("xyzzy-nicht-vorhanden") == []


# --------------------------------------------------------------------------- BfArM import

# Synthetic lines in the layout of icd10gm2025syst_kodes.txt (2013+): level; T/N; X/S;
# chapter; first code of group; code with markers; code; code without dot; title; …
SAMPLE_2013_LAYOUT = """\
3;N;X;01;A00;A00.-;A00;A00;Cholera;Cholera;;;V;V;1-002;2-001;3-003;4-002;001;9;9;9999;9999;9;J;J;J;J
4;T;X;01;A00;A00.0;A00.0;A000;Cholera durch Vibrio cholerae O:1, Biovar cholerae;Cholera;Cholera durch Vibrio cholerae O:1, Biovar cholerae;;P;P;1-002;2-001;3-003;4-002;001;9;9;9999;9999;9;J;J;J;J
3;N;X;05;F00;F00.-*;F00;F00;Demenz bei Alzheimer-Krankheit;Demenz bei Alzheimer-Krankheit;;;V;V;UNDEF;UNDEF;UNDEF;UNDEF;112;9;9;9999;9999;9;N;J;N;N
4;T;X;05;F00;F00.0*;F00.0;F000;Demenz bei Alzheimer-Krankheit, mit frühem Beginn (Typ 2);Demenz bei Alzheimer-Krankheit;Demenz bei Alzheimer-Krankheit, mit frühem Beginn (Typ 2);;O;O;UNDEF;UNDEF;UNDEF;UNDEF;112;9;9;j040;j064;K;N;J;N;N
3;N;X;05;F30;F32.-;F32;F32;Depressive Episode;Depressive Episode;;;V;V;1-057;2-072;3-059;4-044;116;9;9;9999;9999;9;N;J;N;N
4;T;X;05;F30;F32.1;F32.1;F321;Mittelgradige depressive Episode;Depressive Episode;Mittelgradige depressive Episode;;P;P;1-057;2-072;3-059;4-044;116;9;9;9999;9999;9;N;J;N;N
4;N;X;05;F40;F40.0-;F40.0;F400;Agoraphobie;Phobische Störungen;Agoraphobie;;P;V;1-057;2-072;3-059;4-044;117;9;9;9999;9999;9;N;J;N;N
5;T;X;05;F40;F40.01;F40.01;F4001;Agoraphobie: Mit Panikstörung;Phobische Störungen;Agoraphobie;Mit Panikstörung;P;P;1-057;2-072;3-059;4-044;117;9;9;9999;9999;9;N;J;N;N
3;T;X;05;F20;F21;F21;F21;Schizotype Störung;Schizotype Störung;;;P;P;1-057;2-072;3-059;4-044;115;9;9;9999;9999;9;N;J;N;N
3;T;X;21;Z70;Z73;Z73;Z73;Probleme mit Bezug auf Schwierigkeiten bei der Lebensbewältigung;Probleme mit Bezug auf Schwierigkeiten bei der Lebensbewältigung;;;P;P;UNDEF;UNDEF;UNDEF;UNDEF;298;9;9;9999;9999;9;N;J;N;N
4;T;X;22;U00;U07.1!;U07.1;U071;COVID-19, Virus nachgewiesen;Krankheiten mit unklarer Ätiologie;COVID-19, Virus nachgewiesen;;Z;Z;UNDEF;UNDEF;UNDEF;UNDEF;UNDEF;9;9;9999;9999;9;N;J;J;J
"""

# Shorter 2004–2012 layout (no separate three/four/five-character titles) plus a
# line with extra trailing fields.
SAMPLE_OLD_LAYOUT = """\
4;T;X;05;F40;F41.1;F41.1;F411;Generalisierte Angststörung;P;P;1-057;2-072;3-059;4-044;117;9;9;9999;9999;9;N;J
4;T;X;05;F40;F43.1;F43.1;F431;Posttraumatische Belastungsstörung;Reaktionen auf schwere Belastungen und Anpassungsstörungen;Posttraumatische Belastungsstörung;;P;P;1-057;2-072;3-059;4-044;117;9;9;9999;9999;9;N;J;N;N;extra;fields;here
"""


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_parse_bfarm_file_keeps_f_and_z(tmp_path: Path) -> None:
    path = _write(tmp_path, "icd10gm2025syst_kodes.txt", SAMPLE_2013_LAYOUT)
    codes = icd10gm.parse_bfarm_file(path)
    assert [(c.code, c.terminal) for c in codes] == [
        ("F00", False), ("F00.0", True), ("F32", False), ("F32.1", True), ("F40.0", False), ("F40.01", True),
        ("F21", True), ("Z73", True),
    ]
    by_code = {c.code: c for c in codes}
    assert by_code["F32.1"] == IcdCode("F32.1", "Mittelgradige depressive Episode", 2025, True)
    assert by_code["F40.01"].title == "Agoraphobie: Mit Panikstörung"
    assert by_code["F00.0"].title == "Demenz bei Alzheimer-Krankheit, mit frühem Beginn (Typ 2)"
    assert all(c.version == 2025 for c in codes)


def test_parse_bfarm_file_all_chapters(tmp_path: Path) -> None:
    path = _write(tmp_path, "icd10gm2025syst_kodes.txt", SAMPLE_2013_LAYOUT)
    codes = [c.code for c in icd10gm.parse_bfarm_file(path, all_chapters=True)]
    assert codes[:2] == ["A00", "A00.0"] and "U07.1" in codes and len(codes) == 11


def test_parse_bfarm_file_old_layout_latin1_and_trailing_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, "icd10gmsyst_kodes2011.txt", SAMPLE_OLD_LAYOUT, encoding="latin-1")
    codes = icd10gm.parse_bfarm_file(path)
    assert codes == [
        IcdCode("F41.1", "Generalisierte Angststörung", 2011, True),
        IcdCode("F43.1", "Posttraumatische Belastungsstörung", 2011, True),
    ]


def test_parse_bfarm_file_version_and_errors(tmp_path: Path) -> None:
    unnamed = _write(tmp_path, "kodes.txt", SAMPLE_2013_LAYOUT)
    with pytest.raises(ValueError, match="Version"):
        icd10gm.parse_bfarm_file(unnamed)
    assert icd10gm.parse_bfarm_file(unnamed, version=2026)[0].version == 2026
    garbage = _write(tmp_path, "icd10gm2025syst_gruppen.txt", "A00;A09;01;Infektiöse Darmkrankheiten\n")
    with pytest.raises(ValueError, match="keine Zeilen"):
        icd10gm.parse_bfarm_file(garbage)


# --------------------------------------------------------------------------- CSV


def test_csv_round_trip(tmp_path: Path) -> None:
    source = _write(tmp_path, "icd10gm2025syst_kodes.txt", SAMPLE_2013_LAYOUT)
    codes = icd10gm.parse_bfarm_file(source)
    target = tmp_path / "out" / "icd10gm_2025.csv"
    assert icd10gm.write_csv(codes, target, 2025) == len(codes)
    assert target.read_text(encoding="utf-8").splitlines()[0] == "code;title;version;terminal"
    assert icd10gm.read_csv(target) == codes
    loaded = icd10gm.load(target)
    assert list(loaded) == [c.code for c in codes]
    assert loaded["F40.0"].terminal is False
    assert icd10gm.lookup("f40.01", path=target) == codes[5]


def test_write_csv_quotes_semicolons_and_rejects_bad_codes(tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    icd10gm.write_csv([IcdCode("F32.1", "Titel; mit Semikolon", 2025, True)], target)
    assert icd10gm.read_csv(target)[0].title == "Titel; mit Semikolon"
    with pytest.raises(ValueError):
        icd10gm.write_csv([IcdCode("F32.1G", "x", 2025, True)], target)


def test_load_honours_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "other.csv"
    icd10gm.write_csv([IcdCode("F99", "Psychische Störung ohne nähere Angabe", 2026, True)], target)
    monkeypatch.setenv(icd10gm.PATH_ENV, str(target))
    assert list(icd10gm.load()) == ["F99"] and icd10gm.lookup("F99").version == 2026  # type: ignore[union-attr]


def test_read_csv_tolerates_missing_terminal_column(tmp_path: Path) -> None:
    target = _write(tmp_path, "legacy.csv", "code;title;version\nF32.1;Mittelgradige depressive Episode;2025\n")
    assert icd10gm.read_csv(target) == [IcdCode("F32.1", "Mittelgradige depressive Episode", 2025, True)]


def test_read_csv_rejects_duplicates(tmp_path: Path) -> None:
    target = _write(tmp_path, "dup.csv", "code;title;version;terminal\nF32.1;a;2025;1\nf32.1;b;2025;1\n")
    with pytest.raises(ValueError, match="doppelt"):
        icd10gm.read_csv(target)


# --------------------------------------------------------------------------- shipped list


def _shipped_rows() -> list[dict[str, str]]:
    with open(CSV_PATH, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def test_shipped_csv_is_well_formed() -> None:
    raw = CSV_PATH.read_bytes()
    raw.decode("utf-8")  # valid UTF-8
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.splitlines()[0] == b"code;title;version;terminal"
    rows = _shipped_rows()
    for row in rows:
        assert set(row) == {"code", "title", "version", "terminal"}, row
        assert CODE_PATTERN.match(row["code"]), row
        assert row["title"] and row["title"] == row["title"].strip(), row
        assert row["version"] == "2025", row
        assert row["terminal"] in {"0", "1"}, row
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes)), "duplicate codes"


def test_shipped_csv_content() -> None:
    codes = icd10gm.load()
    f_codes = [c for c in codes if c.startswith("F")]
    assert len(f_codes) >= 350
    assert {c[0] for c in codes} <= {"F", "Z"}
    # Every three-character category F00–F99 that exists in ICD-10-GM 2025.
    expected_categories = {
        "F00", "F01", "F02", "F03", "F04", "F05", "F06", "F07", "F09", *(f"F1{i}" for i in range(10)),
        "F20", "F21", "F22", "F23", "F24", "F25", "F28", "F29", "F30", "F31", "F32", "F33", "F34", "F38", "F39",
        "F40", "F41", "F42", "F43", "F44", "F45", "F48", "F50", "F51", "F52", "F53", "F54", "F55", "F59",
        "F60", "F61", "F62", "F63", "F64", "F65", "F66", "F68", "F69", "F70", "F71", "F72", "F73", "F74", "F78",
        "F79", "F80", "F81", "F82", "F83", "F84", "F88", "F89", "F90", "F91", "F92", "F93", "F94", "F95", "F98",
        "F99",
    }
    assert {c for c in f_codes if "." not in c} == expected_categories


def test_shipped_tree_is_consistent() -> None:
    codes = icd10gm.load()
    for c in codes.values():
        if "." in c.code:
            digits = c.code.split(".")[1]
            parent = c.code[:-1] if len(digits) == 2 else c.code.split(".")[0]
            assert parent in codes, f"{c.code}: Elternkategorie {parent} fehlt"
            assert codes[parent].terminal is False, f"{parent} hat Unterkodes, ist aber als terminal markiert"
        has_children = bool(icd10gm.children(c.code))
        assert has_children == (not c.terminal), f"{c.code}: terminal={c.terminal}, Unterkodes={has_children}"
