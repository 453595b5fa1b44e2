"""Load and validate the curated guideline evidence in ``sessions/evidence/*.json``.

No Django: the files are plain data, read once per process. Every schema problem raises
``ValueError`` naming the file and the entry id, so a bad edit fails loudly in tests and
at startup instead of reaching the panel.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVIDENCE_DIR = Path(__file__).resolve().parent

GRADES = frozenset({"Soll", "Sollte", "Kann", "A", "B", "0", "KKP", "Statement", ""})
FIELDS = (
    "id",
    "guideline",
    "guideline_short",
    "year",
    "chapter",
    "recommendation_number",
    "grade",
    "text",
    "keywords",
    "conditions",
    "source",
    "verified",
)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ICD10 = re.compile(r"^[A-Z]\d{2}(?:\.\d{1,2})?$")
# NVL numbering is "<chapter>-<n>"; anything else must not appear without a new rule here.
_NUMBER = re.compile(r"^\d{1,2}-\d{1,3}$")
_ABBREVIATIONS = re.compile(r"\b(?:z\. ?B|u\. ?a|d\. ?h|ggf|bzw|etc|ca|vs|bzgl|inkl|Kap|Nr|S)\.")


@dataclass(frozen=True)
class EvidenceEntry:
    id: str
    guideline: str
    guideline_short: str
    year: int
    chapter: str
    recommendation_number: str
    grade: str
    text: str
    keywords: tuple[str, ...]
    conditions: tuple[str, ...]
    source: str
    verified: bool
    file: str  # file name the entry came from, for error messages and review


def _fail(file: str, entry_id: object, message: str) -> ValueError:
    return ValueError(f"{file}: entry {entry_id!r}: {message}")


def _str(raw: dict[str, Any], key: str, file: str, entry_id: object, *, empty: bool) -> str:
    value = raw[key]
    if not isinstance(value, str):
        raise _fail(file, entry_id, f"{key} must be a string")
    if value != value.strip() or "\n" in value:
        raise _fail(file, entry_id, f"{key} has surrounding whitespace or a line break")
    if not empty and not value:
        raise _fail(file, entry_id, f"{key} must not be empty")
    return value


def _str_list(raw: dict[str, Any], key: str, file: str, entry_id: object) -> tuple[str, ...]:
    value = raw[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(file, entry_id, f"{key} must be a list of non-empty strings")
    return tuple(value)


def parse_entry(raw: object, file: str) -> EvidenceEntry:
    """Validate one raw JSON object and turn it into an EvidenceEntry."""
    if not isinstance(raw, dict):
        raise ValueError(f"{file}: every entry must be a JSON object")
    entry_id = raw.get("id", "<missing id>")
    missing = [k for k in FIELDS if k not in raw]
    if missing:
        raise _fail(file, entry_id, f"missing fields {missing}")
    extra = sorted(set(raw) - set(FIELDS))
    if extra:
        raise _fail(file, entry_id, f"unknown fields {extra}")

    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise _fail(file, entry_id, "id must be a lower-case slug (a-z, 0-9, '-')")
    year = raw["year"]
    if not isinstance(year, int) or isinstance(year, bool) or not 1990 <= year <= 2100:
        raise _fail(file, entry_id, "year must be an integer between 1990 and 2100")
    grade = _str(raw, "grade", file, entry_id, empty=True)
    if grade not in GRADES:
        raise _fail(file, entry_id, f"grade {grade!r} not in {sorted(GRADES)}")
    number = _str(raw, "recommendation_number", file, entry_id, empty=True)
    if number and not _NUMBER.match(number):
        raise _fail(file, entry_id, f"recommendation_number {number!r} has an unknown format")
    text = _str(raw, "text", file, entry_id, empty=False)
    sentences = len(re.findall(r"[.!?](?:\s|$)", _ABBREVIATIONS.sub("", text)))
    if not 1 <= sentences <= 3:
        raise _fail(file, entry_id, f"text must have 1–3 sentences, found {sentences}")
    keywords = _str_list(raw, "keywords", file, entry_id)
    if not keywords:
        raise _fail(file, entry_id, "keywords must not be empty")
    conditions = _str_list(raw, "conditions", file, entry_id)
    bad = [c for c in conditions if not _ICD10.match(c)]
    if bad:
        raise _fail(file, entry_id, f"conditions {bad} are not ICD-10 codes")
    verified = raw["verified"]
    if not isinstance(verified, bool):
        raise _fail(file, entry_id, "verified must be true or false")
    if verified and not (number and grade):
        # A verified entry is one checked together with its number and grade.
        raise _fail(file, entry_id, "verified entries need a recommendation_number and a grade")

    return EvidenceEntry(
        id=entry_id,
        guideline=_str(raw, "guideline", file, entry_id, empty=False),
        guideline_short=_str(raw, "guideline_short", file, entry_id, empty=False),
        year=year,
        chapter=_str(raw, "chapter", file, entry_id, empty=True),
        recommendation_number=number,
        grade=grade,
        text=text,
        keywords=keywords,
        conditions=conditions,
        source=_str(raw, "source", file, entry_id, empty=False),
        verified=verified,
        file=file,
    )


def load_file(path: Path) -> list[EvidenceEntry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name}: invalid JSON ({exc})") from exc
    if not isinstance(data, list):
        raise ValueError(f"{path.name}: top level must be a list of entries")
    return [parse_entry(raw, path.name) for raw in data]


def load_entries(directory: Path | None = None) -> list[EvidenceEntry]:
    """All entries from every ``*.json`` file in ``directory``, ids unique across files."""
    if directory is None:
        return list(_load_default())
    return _load(directory)


@functools.lru_cache(maxsize=1)
def _load_default() -> tuple[EvidenceEntry, ...]:
    return tuple(_load(EVIDENCE_DIR))


def _load(directory: Path) -> list[EvidenceEntry]:
    entries: list[EvidenceEntry] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.json")):
        for entry in load_file(path):
            if entry.id in seen:
                raise _fail(path.name, entry.id, f"duplicate id (also in {seen[entry.id]})")
            seen[entry.id] = path.name
            entries.append(entry)
    return entries
