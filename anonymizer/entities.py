"""Entity type, labels, placeholders and the level table."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from dataclasses import dataclass

LABELS = (
    "PERSON",
    "LOCATION",
    "STREET",
    "ZIP",
    "ORGANIZATION",
    "DATE",
    "DATE_BIRTH",
    "AGE",
    "PHONE",
    "EMAIL",
    "URL",
    "ID",
    "PROFESSION",
    "SOCIAL_MEDIA",
)

# Placeholder stems (German, as the LLM sees them).  AGE has none: ages are
# generalized to ranges instead ("45 Jahre" -> "45-50 Jahre").
PLACEHOLDER = {
    "PERSON": "PERSON",
    "LOCATION": "ORT",
    "STREET": "STRASSE",
    "ZIP": "PLZ",
    "ORGANIZATION": "ORGANISATION",
    "DATE": "DATUM",
    "DATE_BIRTH": "GEBURTSDATUM",
    "PHONE": "TELEFON",
    "EMAIL": "EMAIL",
    "URL": "URL",
    "SOCIAL_MEDIA": "SOCIAL",
    "ID": "ID",
    "PROFESSION": "BERUF",
    # Internal: input text that already looks like a placeholder is escaped to
    # one of these so it can never be confused with a real one.
    "LITERAL": "PLATZHALTER",
}
STEM_TO_LABEL = {v: k for k, v in PLACEHOLDER.items()}

_MINIMAL = frozenset({"PERSON", "PHONE", "EMAIL", "URL", "SOCIAL_MEDIA", "ID", "STREET"})
_MODERATE = _MINIMAL | {"LOCATION", "ZIP", "ORGANIZATION", "DATE_BIRTH", "AGE"}
_THOROUGH = _MODERATE | {"DATE", "PROFESSION"}
LEVELS: dict[str, frozenset[str]] = {
    "minimal": _MINIMAL,
    "moderate": _MODERATE,
    "thorough": _THOROUGH,
}


@dataclass(frozen=True, slots=True)
class Entity:
    """A detected span.  `severity` matters for residual_risk(): "block" or "warn"."""

    start: int
    end: int
    label: str
    text: str
    severity: str = "block"
    source: str = ""


_FOLD_EXTRA = str.maketrans(
    {"ß": "ss", "ı": "i", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "æ": "ae", "œ": "oe", "’": "'"}
)


@lru_cache(maxsize=65536)
def fold(s: str) -> str:
    """Lowercase, strip accents, ß->ss: the key used for matching names and known values."""
    s = s.translate(_FOLD_EXTRA)
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
