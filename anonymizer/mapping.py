"""Placeholder mapping for one conversation, and restore()."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from typing import Any

from .entities import PLACEHOLDER, STEM_TO_LABEL, fold
from .patterns import find_all, matches_at, run_starts

_STEMS = "|".join(sorted(STEM_TO_LABEL, key=len, reverse=True))
# What restore() accepts (models change placeholders slightly) -- and therefore
# what anonymize() escapes when it is already present in the input.
PLACEHOLDER_RE = re.compile(
    rf"\[\s*({_STEMS})[ _-]?(\d+)\s*\]|(?<![\w\[\]+-])({_STEMS})_(\d+)(?![\w\[\]])",
    re.IGNORECASE,
)
# Bare form (PERSON_1) only counts in upper case: "Person_1" in prose is rare,
# but "Person 1" is ordinary German.
_BARE_OK = re.compile(rf"(?:{_STEMS})_\d+")


_WORD_CHAR = re.compile(r"\w")


def _placeholder_starts(text: str) -> list[int]:
    """Where PLACEHOLDER_RE can match: at a "[", or where the word around an "_" begins
    ("PERSON_1": its look-behind excludes word characters)."""
    return sorted(set(find_all(text, "[")) | set(run_starts(_WORD_CHAR, text, find_all(text, "_"))))


def iter_placeholders(text: str):  # type: ignore[no-untyped-def]
    if "[" not in text and "_" not in text:
        return  # every form restore() accepts has a bracket or an underscore
    for m in matches_at(PLACEHOLDER_RE, text, _placeholder_starts(text)):  # == PLACEHOLDER_RE.finditer
        if m.group(1) is not None:
            yield m, m.group(1).upper(), int(m.group(2))
        elif _BARE_OK.fullmatch(m.group(0)):
            yield m, m.group(3), int(m.group(4))


_NAME_SUFFIXES = ("", "s", "'s", "’s", "es", "n", "en", "ns")


class Mapping:
    """Placeholder <-> original, shared by all calls of one conversation.

    JSON-serializable (`to_json` / `from_json`); callers store it encrypted.
    Thread-safe: anonymize() holds `lock` while it assigns placeholders.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.entries: dict[str, dict[str, Any]] = {}  # "[PERSON_1]" -> {label, original}
        self.counters: dict[str, int] = {}
        self.index: dict[str, str] = {}  # label + "|" + key -> placeholder
        self.known: dict[str, list[str]] = {}  # label -> seeded values
        # Exact surface forms of the last anonymize() call, in order, so that restoring
        # that very output gives back the input character for character.  Other text
        # (LLM output) gets the canonical original.
        self.last_digest = ""
        self.surfaces: dict[str, list[str]] = {}  # placeholder -> surface forms of the last call
        self.generalized: dict[str, list[str]] = {}  # "45-50" -> originals, last call first

    # -- seeding -----------------------------------------------------------
    def add_known(self, label: str, value: str) -> None:
        """Seed an identifier that must always be replaced (name, phone, KVNR ...)."""
        value = value.strip()
        if not value:
            return
        with self.lock:
            values = self.known.setdefault(label, [])
            if value not in values:
                values.append(value)

    # -- placeholders --------------------------------------------------------
    def _new(self, label: str, original: str) -> str:
        stem = PLACEHOLDER[label]
        n = self.counters.get(stem, 0) + 1
        self.counters[stem] = n
        ph = f"[{stem}_{n}]"
        self.entries[ph] = {"label": label, "original": original}
        return ph

    def placeholder_for(self, label: str, original: str, keys: list[str]) -> str:
        """Find or create the placeholder for `original`; `keys` are extra match keys."""
        with self.lock:
            full = label + "|" + fold(" ".join(original.split()))
            ph = self.index.get(full)
            if ph is None:
                for k in keys:
                    ph = self.index.get(label + "|" + k)
                    if ph is not None:
                        break
            if ph is None:
                ph = self._new(label, original)
            self.index.setdefault(full, ph)
            for k in keys:
                self.index.setdefault(label + "|" + k, ph)
            return ph

    def person_keys(self) -> dict[str, str]:
        """Folded name token (with inflection variants) -> placeholder."""
        out: dict[str, str] = {}
        for key, ph in self.index.items():
            label, _, k = key.partition("|")
            if label == "PERSON" and " " not in k:
                for suf in _NAME_SUFFIXES:
                    out.setdefault(k + suf, ph)
        return out

    # -- serialization -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "entries": self.entries,
            "counters": self.counters,
            "index": self.index,
            "known": self.known,
            "surfaces": self.surfaces,
            "generalized": self.generalized,
            "last_digest": self.last_digest,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mapping:
        m = cls()
        m.entries = dict(data.get("entries", {}))
        m.counters = dict(data.get("counters", {}))
        m.index = dict(data.get("index", {}))
        m.known = {k: list(v) for k, v in data.get("known", {}).items()}
        m.surfaces = {k: list(v) for k, v in data.get("surfaces", {}).items()}
        m.generalized = {k: list(v) for k, v in data.get("generalized", {}).items()}
        m.last_digest = data.get("last_digest", "")
        return m

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, s: str) -> Mapping:
        return cls.from_dict(json.loads(s))

    def __len__(self) -> int:
        return len(self.entries)


_GEN_RE_CACHE: dict[str, re.Pattern[str]] = {}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def restore(text: str, mapping: Mapping) -> str:
    """Put originals back into (LLM) text; tolerant of [PERSON_1]s, PERSON_1, [Person 1]."""
    exact = bool(mapping.last_digest) and digest(text) == mapping.last_digest
    counts: dict[str, int] = {}
    matches = []
    for m, stem, n in iter_placeholders(text):
        ph = f"[{stem}_{n}]"
        if ph in mapping.entries:
            matches.append((m.start(), m.end(), ph))
            counts[ph] = counts.get(ph, 0) + 1
    seen: dict[str, int] = {}
    out = []
    pos = 0
    for start, end, ph in matches:
        surfaces = mapping.surfaces.get(ph) if exact else None
        k = seen.get(ph, 0)
        seen[ph] = k + 1
        original = surfaces[k] if surfaces and len(surfaces) == counts[ph] else mapping.entries[ph]["original"]
        out.append(text[pos:start])
        out.append(original)
        pos = end
    out.append(text[pos:])
    result = "".join(out)
    for gen, originals in mapping.generalized.items():
        if not originals:
            continue
        rx = _GEN_RE_CACHE.get(gen)
        if rx is None:
            rx = re.compile(rf"(?<!\d){re.escape(gen)}(?!\d)")
            _GEN_RE_CACHE[gen] = rx
        found = list(rx.finditer(result))
        if not found:
            continue
        replacements = list(originals) if exact and len(found) == len(originals) else [originals[0]] * len(found)
        parts = []
        pos = 0
        for m, rep in zip(found, replacements, strict=True):
            parts.append(result[pos : m.start()])
            parts.append(rep)
            pos = m.end()
        parts.append(result[pos:])
        result = "".join(parts)
    return result
