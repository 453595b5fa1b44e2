"""ICD-10-GM code list used to validate patient diagnoses.

The app ships a curated subset of ICD-10-GM 2025 (chapter V "Psychische und
Verhaltensstörungen" F00–F99 complete, plus the Z codes psychotherapists use) in
``patients/data/icd10gm_2025.csv``.  The full official list can be converted from
the BfArM download with :func:`parse_bfarm_file` and :func:`write_csv` (see
``patients/data/README.md``).

Deliberately free of Django imports so it can be used from scripts and tests.

Conventions
-----------
* Codes are stored in the BfArM notation without markers: ``F32.1``, ``F60.31``,
  ``F43`` (three-character category), never ``F32.-``, ``G30.0+``, ``F00.0*``
  or ``U07.1!``.
* ``terminal`` is the BfArM "T/N" flag: only terminal codes (leaves of the
  classification tree) may be used for billing/documentation.  Non-terminal
  categories are kept so that a typed ``F40.0`` can be answered with a helpful
  hint (:func:`billing_hint`) instead of "unknown code".
* The diagnostic certainty (G/V/Z/A) is *not* part of the code; the app stores it
  separately.  :data:`CERTAINTY` lists the markers, :func:`split_certainty`
  separates a marker someone typed behind the code.
"""

from __future__ import annotations

import csv
import functools
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_VERSION = 2025
DEFAULT_PATH = DATA_DIR / f"icd10gm_{DEFAULT_VERSION}.csv"
#: Environment variable that points :func:`load` at another CSV (e.g. the full
#: official list converted with :func:`write_csv`).
PATH_ENV = "DUKTUS_ICD10GM_CSV"

CSV_FIELDS = ("code", "title", "version", "terminal")

#: Diagnostic certainty markers for vertragsärztliche documentation.  They are not
#: part of the ICD code.
CERTAINTY = {
    "G": "gesicherte Diagnose",
    "V": "Verdacht auf",
    "Z": "Zustand nach",
    "A": "ausgeschlossene Diagnose",
}

#: Chapters kept by :func:`parse_bfarm_file` unless ``all_chapters=True``.
DEFAULT_CODE_LETTERS = frozenset({"F", "Z"})

CODE_RE = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")
_NO_DOT_RE = re.compile(r"^([A-Z]\d{2})(\d{1,2})$")
_CODEISH_RE = re.compile(r"^[A-Z]\d")
_CERTAINTY_SUFFIX_RE = re.compile(r"^(?P<code>.+?)[\s\-/]*(?P<certainty>[GVZA])$")
_BFARM_FILE_YEAR_RE = re.compile(r"(?:icd10gm|syst_kodes)\D*((?:19|20)\d{2})", re.IGNORECASE)


@dataclass(frozen=True)
class IcdCode:
    code: str
    title: str
    version: int
    terminal: bool = True

    @property
    def label(self) -> str:
        return f"{self.code} – {self.title}"

    def __str__(self) -> str:
        return self.label


# --------------------------------------------------------------------------- normalisation


def normalize(code: str | None) -> str:
    """Canonical form of a typed code: ``" f32.1 "`` → ``"F32.1"``.

    Removes all whitespace, upper-cases, accepts a decimal comma (``F32,1``), the
    BfArM markers ``+ * !`` and a trailing ``-`` (``F32.-`` → ``F32``), and inserts
    the dot for the dotless notation (``F321`` → ``F32.1``).  The result is not
    validated – use :data:`CODE_RE` or :func:`lookup`.
    """
    if not code:
        return ""
    value = re.sub(r"\s+", "", str(code)).upper().replace(",", ".")
    value = value.strip("+*!†")
    value = value.rstrip("-").rstrip(".")
    value = value.strip("+*!†")
    match = _NO_DOT_RE.match(value)
    if match:
        value = f"{match.group(1)}.{match.group(2)}"
    return value


def split_certainty(text: str | None) -> tuple[str, str | None]:
    """Split ``"F32.1 G"`` / ``"F32.1G"`` into ``("F32.1", "G")``.

    Only splits if the part before the marker is itself a well-formed code, so a
    bare code is returned unchanged with ``None``.
    """
    value = re.sub(r"\s+", " ", str(text or "")).strip().upper()
    match = _CERTAINTY_SUFFIX_RE.match(value)
    if match:
        code = normalize(match.group("code"))
        if CODE_RE.match(code):
            return code, match.group("certainty")
    return normalize(value), None


def _fold(text: str, *, umlaut_e: bool) -> str:
    """Case-fold and remove accents. ``umlaut_e`` writes ä/ö/ü as ae/oe/ue."""
    text = text.casefold().replace("ß", "ss")
    if umlaut_e:
        text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# --------------------------------------------------------------------------- loading


def _parse_terminal(value: str | None) -> bool:
    if value is None or str(value).strip() == "":
        return True
    v = str(value).strip().upper()
    if v in {"1", "T", "J", "TRUE", "JA", "YES", "Y"}:
        return True
    if v in {"0", "N", "FALSE", "NEIN", "NO"}:
        return False
    raise ValueError(f"ungültiger Wert für 'terminal': {value!r}")


def read_csv(path: str | os.PathLike[str]) -> list[IcdCode]:
    """Read a code list in the shipped format (``code;title;version;terminal``).

    ``terminal`` may be missing (then every code counts as terminal) and so may
    ``version`` (then :data:`DEFAULT_VERSION`).  Raises ``ValueError`` with the line
    number for malformed rows or duplicate codes.
    """
    codes: list[IcdCode] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader((line for line in fh if line.strip() and not line.lstrip().startswith("#")), delimiter=";")
        if not reader.fieldnames or "code" not in reader.fieldnames or "title" not in reader.fieldnames:
            raise ValueError(f"{path}: Kopfzeile 'code;title;version;terminal' fehlt")
        for lineno, row in enumerate(reader, start=2):
            code = normalize(row.get("code"))
            title = (row.get("title") or "").strip()
            if not CODE_RE.match(code) or not title:
                raise ValueError(f"{path}, Zeile {lineno}: ungültiger Eintrag {row!r}")
            if code in seen:
                raise ValueError(f"{path}, Zeile {lineno}: doppelter Code {code}")
            seen.add(code)
            version_raw = (row.get("version") or "").strip()
            codes.append(IcdCode(
                code=code,
                title=title,
                version=int(version_raw) if version_raw else DEFAULT_VERSION,
                terminal=_parse_terminal(row.get("terminal")),
            ))
    return codes


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> dict[str, IcdCode]:
    return {c.code: c for c in read_csv(path)}


def load(path: str | os.PathLike[str] | None = None) -> dict[str, IcdCode]:
    """All codes of the list, keyed by normalised code (cached per path).

    Without ``path`` the file named by ``$DUKTUS_ICD10GM_CSV`` or the shipped
    ``icd10gm_2025.csv`` is used.  The returned dict is shared – do not modify it.
    """
    if path is None:
        path = os.environ.get(PATH_ENV) or DEFAULT_PATH
    return _load_cached(str(Path(path).resolve()))


def clear_cache() -> None:
    _load_cached.cache_clear()


# --------------------------------------------------------------------------- queries


def lookup(code: str | None, *, path: str | os.PathLike[str] | None = None) -> IcdCode | None:
    """The entry for ``code`` (``"f32.1"``, ``" F32.1 "``, ``"F321"`` …) or ``None``."""
    normalized = normalize(code)
    if not CODE_RE.match(normalized):
        return None
    return load(path).get(normalized)


def children(code: str, *, path: str | os.PathLike[str] | None = None) -> list[IcdCode]:
    """Direct sub-codes of ``code`` in classification order (``F40`` → ``F40.0``, ``F40.1`` …)."""
    parent = normalize(code)
    result = []
    for c in load(path).values():
        if c.code == parent or not c.code.startswith(parent):
            continue
        rest = c.code[len(parent):]
        if ("." not in parent and re.fullmatch(r"\.\d", rest)) or ("." in parent and re.fullmatch(r"\d", rest)):
            result.append(c)
    return result


def terminal_codes(code: str, *, path: str | os.PathLike[str] | None = None) -> list[IcdCode]:
    """All terminal codes at or below ``code``."""
    prefix = normalize(code)
    below = prefix if "." in prefix else prefix + "."
    return [c for c in load(path).values() if c.terminal and (c.code == prefix or c.code.startswith(below))]


def billing_hint(code: str, *, path: str | os.PathLike[str] | None = None) -> str | None:
    """German hint if ``code`` cannot be used for documentation/billing, else ``None``.

    ``None`` for terminal codes; an explanation for unknown and for non-terminal
    codes (with the terminal sub-codes to choose from).
    """
    found = lookup(code, path=path)
    if found is None:
        shown = normalize(code) or str(code or "").strip()
        return f"„{shown}“ ist kein gültiger ICD-10-GM-Code dieser Liste."
    if found.terminal:
        return None
    options = terminal_codes(found.code, path=path)
    listed = ", ".join(c.code for c in options[:6])
    if len(options) > 6:
        listed += f" (insgesamt {len(options)} Möglichkeiten)"
    return (f"{found.code} ({found.title}) ist keine endständige Schlüsselnummer und darf so nicht "
            f"kodiert werden. Bitte genauer kodieren, z. B. {listed}.")


def search(query: str | None, limit: int = 20, *, path: str | os.PathLike[str] | None = None) -> list[IcdCode]:
    """Codes matching ``query`` (case-insensitive, umlaut-tolerant).

    Every whitespace-separated token must match: a code-like token (``f32``,
    ``F43.1``) matches codes starting with it, any token matches as a substring of
    the title.  Umlauts may be typed as ``ä``, ``ae`` or ``a`` (``Stoerung``,
    ``Storung`` and ``Störung`` all find "Störung").  Pure code queries return the
    codes in classification order; text queries rank titles that start with the
    query first.
    """
    raw = (query or "").strip()
    if not raw or limit <= 0:
        return []
    tokens = [t for t in re.split(r"[\s;/]+", raw) if t]
    prepared = []
    for token in tokens:
        code_prefix = normalize(token) if _CODEISH_RE.match(token.upper()) else None
        prepared.append((code_prefix, _fold(token, umlaut_e=True), _fold(token, umlaut_e=False)))
    folded_query_e = _fold(raw, umlaut_e=True)
    folded_query_plain = _fold(raw, umlaut_e=False)

    scored: list[tuple[int, int, IcdCode]] = []
    for position, c in enumerate(load(path).values()):
        title_e = _fold(c.title, umlaut_e=True)
        title_plain = _fold(c.title, umlaut_e=False)
        all_code_hits = True
        ok = True
        for code_prefix, tok_e, tok_plain in prepared:
            if code_prefix and (c.code.startswith(code_prefix) or c.code.replace(".", "").startswith(code_prefix.replace(".", ""))):
                continue
            all_code_hits = False
            if tok_e in title_e or tok_plain in title_plain:
                continue
            ok = False
            break
        if not ok:
            continue
        if all_code_hits:
            rank = 0
        elif title_e.startswith(folded_query_e) or title_plain.startswith(folded_query_plain):
            rank = 1
        else:
            rank = 2
        scored.append((rank, position, c))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [c for _, _, c in scored[:limit]]


# --------------------------------------------------------------------------- BfArM import


def _decode_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1").splitlines()


def _version_from_filename(path: Path) -> int | None:
    match = _BFARM_FILE_YEAR_RE.search(path.name) or re.search(r"((?:19|20)\d{2})", path.name)
    return int(match.group(1)) if match else None


def parse_bfarm_file(
    path: str | os.PathLike[str],
    *,
    all_chapters: bool = False,
    version: int | None = None,
) -> list[IcdCode]:
    """Parse the BfArM text export ``icd10gmYYYYsyst_kodes.txt`` (ClaML-derived).

    Semicolon-separated, one code per line.  Fields used (1-based, as documented
    by the BfArM):

    1. Klassifikationsebene (3/4/5)
    2. Ort der Schlüsselnummer im Klassifikationsbaum: ``T`` terminal, ``N`` nicht terminal
    3. Art der Vierstellerbeschreibung (X/S)
    4. Kapitelnummer
    5. Erster Dreisteller der Gruppe
    6. Schlüsselnummer mit Strich, Stern, Kreuz, Ausrufezeichen (``F32.-``, ``F00.0*``)
    7. Schlüsselnummer ohne Strich … (the code, e.g. ``F32.1``)
    8. Schlüsselnummer ohne Punkt (``F321``)
    9. Klassentitel
    10+. three/four/five-character titles, usage and plausibility fields …

    Everything after field 9 is ignored, so both the 2013+ layout and the shorter
    2004–2012 layout (and lines with extra trailing fields) are accepted.  Lines
    that are not code lines (header, blank) are skipped.  Only chapter V (F) and Z
    codes are kept unless ``all_chapters=True``.  ``version`` defaults to the year
    in the file name.  Files are read as UTF-8 (current) with a fallback to
    Windows-1252/Latin-1 (releases before 2010).
    """
    p = Path(path)
    if version is None:
        version = _version_from_filename(p)
    if version is None:
        raise ValueError(f"{p.name}: Version nicht aus dem Dateinamen ableitbar – bitte version= angeben")
    codes: list[IcdCode] = []
    seen: set[str] = set()
    code_lines = 0
    for line in _decode_lines(p):
        fields = [f.strip() for f in line.split(";")]
        if len(fields) < 9 or fields[0] not in {"3", "4", "5"} or fields[1].upper() not in {"T", "N"}:
            continue
        code = normalize(fields[6]) or normalize(fields[5])
        title = fields[8]
        if not CODE_RE.match(code) or not title:
            continue
        code_lines += 1
        if not all_chapters and code[0] not in DEFAULT_CODE_LETTERS:
            continue
        if code in seen:
            continue
        seen.add(code)
        codes.append(IcdCode(code=code, title=title, version=int(version), terminal=fields[1].upper() == "T"))
    if code_lines == 0:
        raise ValueError(f"{p.name}: keine Zeilen im Format der BfArM-Kodedatei gefunden")
    return codes


def write_csv(codes: Iterable[IcdCode], path: str | os.PathLike[str], version: int | None = None) -> int:
    """Write ``codes`` in the shipped CSV format; returns the number of rows.

    ``version`` overrides the version of every row (e.g. when converting a file
    whose name carries no year).  The target is written atomically.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    count = 0
    seen: set[str] = set()
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(CSV_FIELDS)
        for c in codes:
            code = normalize(c.code)
            if not CODE_RE.match(code):
                raise ValueError(f"ungültiger Code {c.code!r}")
            if code in seen:
                raise ValueError(f"doppelter Code {code}")
            seen.add(code)
            writer.writerow((code, c.title, int(version if version is not None else c.version), 1 if c.terminal else 0))
            count += 1
    os.replace(tmp, target)
    clear_cache()
    return count


def _main(argv: list[str] | None = None) -> int:
    """``python -m patients.icd10gm KODEDATEI ZIEL.csv [--all-chapters]`` converts the BfArM file."""
    import argparse

    parser = argparse.ArgumentParser(description="BfArM icd10gmYYYYsyst_kodes.txt in die duktus-Codeliste umwandeln")
    parser.add_argument("source", help="icd10gmYYYYsyst_kodes.txt aus dem BfArM-Download (Klassifikationsdateien/)")
    parser.add_argument("target", help="Ziel-CSV, z. B. patients/data/icd10gm_2026.csv")
    parser.add_argument("--all-chapters", action="store_true", help="alle Kapitel übernehmen (Standard: nur F und Z)")
    parser.add_argument("--version", type=int, default=None, help="Jahr, falls nicht im Dateinamen")
    args = parser.parse_args(argv)
    codes = parse_bfarm_file(args.source, all_chapters=args.all_chapters, version=args.version)
    n = write_csv(codes, args.target)
    print(f"{n} Codes nach {args.target} geschrieben")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
