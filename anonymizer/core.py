"""The Anonymizer: analyze, anonymize, restore, residual_risk."""

from __future__ import annotations

import logging
import os
import re
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from collections.abc import Mapping as TMapping
from dataclasses import dataclass, field

from . import patterns as P
from .detect import NAME_PARTICLES, Detector, Resources
from .entities import LABELS, LEVELS, Entity, fold
from .mapping import Mapping, digest, iter_placeholders
from .mapping import restore as _restore

_ALIASES = {
    "NAME": "PERSON",
    "NAMES": "PERSON",
    "GUARDIAN": "PERSON",
    "KVNR": "ID",
    "IBAN": "ID",
    "BIRTHDATE": "DATE_BIRTH",
    "BIRTH_DATE": "DATE_BIRTH",
    "DOB": "DATE_BIRTH",
    "ADDRESS": "STREET",
    "EMPLOYER": "ORGANIZATION",
    "CITY": "LOCATION",
    "PLACE": "LOCATION",
    "MAIL": "EMAIL",
    "E-MAIL": "EMAIL",
    "TELEFON": "PHONE",
    "ORG": "ORGANIZATION",
}
_INFLECT = ("'s", "’s", "ns", "en", "es", "s", "n")

KNOWN_CACHE_SIZE = 2048  # seeded values whose compiled patterns are kept (see Anonymizer.__init__)

_RESOURCES: Resources | None = None
_RES_LOCK = threading.Lock()


def _resources() -> Resources:
    global _RESOURCES
    with _RES_LOCK:
        if _RESOURCES is None:
            _RESOURCES = Resources.load()
        return _RESOURCES


logger = logging.getLogger(__name__)


def _load_spacy_ner(name: str):  # type: ignore[no-untyped-def]
    """Load an installed spaCy pipeline's NER, or return None (logged) if it is not installed."""
    try:
        import spacy
        from spacy.util import is_package

        if not is_package(name):
            logger.warning("spaCy model %s is not installed; using rules only", name)
            return None
        nlp = spacy.load(name, exclude=["parser", "lemmatizer", "morphologizer", "tagger", "attribute_ruler", "senter"])
    except Exception:  # noqa: BLE001 -- an optional add-on must never break anonymization
        logger.warning("could not load spaCy model %s; using rules only", name, exc_info=True)
        return None
    return nlp


@dataclass
class AnonymizeResult:
    text: str
    mapping: Mapping
    entities: list[Entity] = field(default_factory=list)


def _char_class(ch: str) -> str:
    f = fold(ch)
    if f == ch.lower() and not ch.isalpha():
        return re.escape(ch)
    return _FOLD_CLASSES.get(f, re.escape(ch))


def _build_fold_classes() -> dict[str, str]:
    groups: dict[str, set[str]] = {}
    for cp in list(range(0x41, 0x5B)) + list(range(0x61, 0x7B)) + list(range(0xC0, 0x250)):
        ch = chr(cp)
        f = fold(ch)
        if len(f) == 1 and f.isalpha():
            groups.setdefault(f, set()).update({ch, ch.upper(), ch.lower()})
    return {k: "[" + "".join(sorted(re.escape(c) for c in v)) + "]" for k, v in groups.items()}


_FOLD_CLASSES = _build_fold_classes()


def _fold_pattern(word: str) -> str:
    """Regex for `word` ignoring case and accents (ß == ss)."""
    f = fold(word)
    out = []
    i = 0
    while i < len(f):
        if f.startswith("ss", i):
            out.append("(?:ss|ß|ẞ|SS)")
            i += 2
            continue
        ch = f[i]
        out.append(_FOLD_CLASSES.get(ch, re.escape(ch)))
        i += 1
    return "".join(out)


_WORD_RUN = re.compile(r"\w+")
_WORD_CHAR = re.compile(r"\w")
_SS_HEAD = "(?:ss|ß|ẞ|SS)"


def _first_atom(pattern: str) -> re.Pattern[str] | _DigitHead | None:
    """The single-character test a match of a `(?<!\w)...` known-value pattern must begin with.

    None when the pattern has another shape (the caller then scans plainly).
    """
    prefix = r"(?<!\w)"
    if not pattern.startswith(prefix):
        return _first_digit(pattern)
    head = pattern[len(prefix) :]
    if head.startswith(_SS_HEAD):
        atom, rest = "[sßẞS]", head[len(_SS_HEAD) :]
    elif head.startswith("["):
        end = head.find("]")
        if end < 2 or "\\" in head[:end]:
            return None
        atom, rest = head[: end + 1], head[end + 1 :]
    elif head[:1].isalnum():
        atom, rest = head[0], head[1:]
    else:
        return None
    if rest[:1] in ("?", "*", "{", "|", ")"):
        return None  # the first atom is optional or part of an alternation
    return re.compile(atom, re.IGNORECASE)


_NOT_AFTER_DIGIT = (r"(?<!\d)", r"(?<![\d.])", r"(?<![\d/])")
_PHONE_HEAD = r"(?:0|\+49[\s/-]*(?:\(0\))?|0049[\s/-]*(?:\(0\))?)"


def _first_digit(pattern: str) -> _DigitHead | None:
    """Same as _first_atom for phone and date patterns: `(?<!\d)` and a digit (or "+49")."""
    for prefix in _NOT_AFTER_DIGIT:
        if pattern.startswith(prefix):
            head = pattern[len(prefix) :]
            break
    else:
        return None
    if head.startswith(_PHONE_HEAD):
        return _DIGIT_HEADS["0+"]
    if head.startswith("0?") and head[2:3].isdigit() and head[2:3].isascii():
        chars, rest = "0" + head[2], head[3:]
    elif head[:1].isdigit() and head[:1].isascii():
        chars, rest = head[0], head[1:]
    else:
        return None
    if rest[:1] in ("?", "*", "{", "|", ")"):
        return None
    return _DIGIT_HEADS[chars]


class _DigitHead:
    """First-character test for a match that starts at a digit run (or a "+") not after a digit."""

    def __init__(self, chars: str) -> None:
        self.chars = frozenset(chars)

    def fullmatch(self, ch: str) -> bool:
        return ch in self.chars


class _DigitHeads(dict):  # type: ignore[type-arg]
    def __missing__(self, chars: str) -> _DigitHead:
        head = self[chars] = _DigitHead(chars)
        return head


_DIGIT_HEADS = _DigitHeads()
_DIGIT_START = re.compile(r"(?<!\d)[0-9+]")


class _WordStarts:
    """Per call only (never stored): where in `text` a word begins, by its first character."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._by_char: dict[str, list[int]] | None = None
        self._nonword: list[str] | None = None
        self._digit_starts: dict[str, list[int]] | None = None
        # Candidate start positions by first atom: the known values of one call share few first
        # letters ("Anna Berger" and "Anna" both start with [aA...]), so each list is built once.
        self._cands: dict[re.Pattern[str] | _DigitHead, list[int] | None] = {}

    def by_char(self) -> dict[str, list[int]]:
        if self._by_char is None:
            d: dict[str, list[int]] = {}
            text = self.text
            for m in _WORD_RUN.finditer(text):  # a run of word characters starts where no other precedes
                p = m.start()
                ch = text[p]
                if ch in d:
                    d[ch].append(p)
                else:
                    d[ch] = [p]
            self._by_char = d
        return self._by_char

    def digit_starts(self) -> dict[str, list[int]]:
        if self._digit_starts is None:
            d: dict[str, list[int]] = {}
            for m in _DIGIT_START.finditer(self.text):
                d.setdefault(m.group(), []).append(m.start())
            self._digit_starts = d
        return self._digit_starts

    def nonword(self) -> list[str]:
        if self._nonword is None:
            self._nonword = [ch for ch in set(self.text) if not _WORD_CHAR.match(ch)]
        return self._nonword

    def candidates(self, first: re.Pattern[str] | _DigitHead) -> list[int] | None:
        """Sorted positions where a match whose first atom is `first` can begin; None: scan plainly."""
        if first in self._cands:
            return self._cands[first]
        cands: list[int] | None
        if isinstance(first, _DigitHead):
            by_char = self.digit_starts()
        elif any(first.fullmatch(ch) for ch in self.nonword()):
            by_char = None  # the atom could match a non-word character of this text
        else:
            by_char = self.by_char()
        if by_char is None:
            cands = None
        else:
            cands = sorted(p for ch, ps in by_char.items() if first.fullmatch(ch) for p in ps)
        self._cands[first] = cands
        return cands


class Anonymizer:
    """Detects and replaces identifying information in German clinical text.

    Construction loads the gazetteers once (~0.1 s); the instance is read-only
    afterwards and safe to share between threads.
    """

    def __init__(self, level: str = "moderate", spacy_model: str | None = None) -> None:
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; use one of {sorted(LEVELS)}")
        self.level = level
        self.labels = LEVELS[level]
        self.resources = _resources()
        self.detector = Detector(self.resources)
        # Compiled patterns of seeded identifiers (a name, a KVNR …): compiling one costs ~1 ms and
        # the gateway reloads the mapping on every call. Bounded (least recently used first out) so a
        # long-running worker does not keep every patient's identifiers for its whole life.
        self._known_cache: OrderedDict[tuple[str, str], list[re.Pattern[str]]] = OrderedDict()
        self._known_first: dict[re.Pattern[str], re.Pattern[str] | _DigitHead | None] = {}
        self._known_lock = threading.Lock()
        # Optional: a full spaCy German pipeline, if one happens to be installed,
        # adds its NER as the lowest-priority candidate source.  Never required.
        name = spacy_model if spacy_model is not None else os.environ.get("DUKTUS_ANONYMIZER_SPACY_MODEL", "")
        self.detector.extra_ner = _load_spacy_ner(name) if name else None

    # ------------------------------------------------------------------
    def analyze(
        self, text: str, mapping: Mapping | None = None, known: TMapping[str, Iterable[str]] | None = None
    ) -> list[Entity]:
        """Entities this level masks (plus seeded/known identifiers), sorted by offset."""
        return [e for e in self._entities(text, mapping, known) if e.label in LABELS]

    def _entities(self, text: str, mapping: Mapping | None, known: TMapping[str, Iterable[str]] | None) -> list[Entity]:
        if not text:
            return []
        person_keys = mapping.person_keys() if mapping is not None else {}
        found = self.detector.detect(text, person_keys)
        found = [e for e in found if e.label in self.labels]
        extra: list[Entity] = []
        # Literal placeholders in the input: escaped, never confused with ours.
        for m, _stem, _n in iter_placeholders(text):
            extra.append(Entity(m.start(), m.end(), "LITERAL", m.group(), source="literal"))
        starts = _WordStarts(text)
        for label, values in self._known_items(mapping, known):
            for value in values:
                for rx in self._known_patterns(label, value):
                    for m in self._known_finditer(rx, text, starts):
                        if m.end() > m.start():
                            extra.append(Entity(m.start(), m.end(), label, m.group(), source="known"))
        if not extra:
            return found
        # Literals and known values win over detector output -- except a known value inside a
        # longer detected address ("h.wolkenstein@posteo.de" is one e-mail address) and a
        # seeded surname at the end of a detected name with another given name ("Ihr Vater
        # Dietrich Wolkenstein" must not leave "Dietrich" behind).
        if found:
            # `found` comes out of Detector._resolve: sorted and non-overlapping, so the only
            # detected span that can contain a known span is the last one starting at or before it.
            found_starts = [f.start for f in found]
            kept_extra = []
            for x in extra:
                k = bisect_right(found_starts, x.start) - 1
                if k >= 0 and x.end > x.start and _yields_to(x, found[k]):
                    continue
                if x.end <= x.start and any(_yields_to(x, f) for f in found):
                    continue
                kept_extra.append(x)
            extra = kept_extra
        extra.sort(key=lambda e: (0 if e.label == "LITERAL" else 1, -(e.end - e.start), e.start))
        occ = bytearray(len(text) + 1)
        out: list[Entity] = []
        for e in extra:
            if occ.find(1, e.start, e.end) == -1:
                occ[e.start : e.end] = b"\x01" * (e.end - e.start)
                out.append(e)
        for e in found:
            if occ.find(1, e.start, e.end) == -1:
                out.append(e)
        out.sort(key=lambda e: e.start)
        return out

    # ------------------------------------------------------------------
    @staticmethod
    def _known_items(
        mapping: Mapping | None, known: TMapping[str, Iterable[str]] | None
    ) -> list[tuple[str, list[str]]]:
        items: dict[str, list[str]] = {}
        if mapping is not None:
            for label, values in mapping.known.items():
                items.setdefault(label, []).extend(values)
        if known:
            for label, given in known.items():
                if isinstance(given, str):
                    given = [given]
                items.setdefault(label, []).extend(v for v in given if v and v.strip())
        out = []
        for label, values in items.items():
            lab = _ALIASES.get(label.upper(), label.upper())
            if lab not in LABELS:
                lab = "ID"
            out.append((lab, list(dict.fromkeys(values))))
        return out

    def _known_patterns(self, label: str, value: str) -> list[re.Pattern[str]]:
        key = (label, value)
        with self._known_lock:
            cached = self._known_cache.get(key)
            if cached is not None:
                self._known_cache.move_to_end(key)
                return cached
        pats: list[str] = []
        value = value.strip()
        if label == "PHONE":
            digits = re.sub(r"\D", "", value)
            if value.startswith("+49") or value.startswith("0049"):
                digits = "0" + digits[2:] if value.startswith("+") else "0" + digits[4:]
            if len(digits) >= 5:
                body = r"[\s/().-]*".join(digits[1:] if digits.startswith("0") else digits)
                if digits.startswith("0"):
                    pats.append(
                        r"(?<!\d)(?:0|\+49[\s/-]*(?:\(0\))?|0049[\s/-]*(?:\(0\))?)[\s/().-]*" + body + r"(?!\d)"
                    )
                else:
                    pats.append(r"(?<!\d)" + body + r"(?!\d)")
        elif label in ("DATE_BIRTH", "DATE"):
            pats.extend(self._date_patterns(value))
        elif label == "PERSON":
            toks = re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", value)
            if toks:
                pats.append(r"(?<!\w)" + r"[\s,]+".join(_fold_pattern(t) for t in toks) + r"(?:'s|’s|s)?(?!\w)")
                pats.append(r"(?<!\w)" + r",?\s+".join(_fold_pattern(t) for t in reversed(toks)) + r"(?!\w)")
                for t in toks:
                    if len(t) < 3 or t.lower() in NAME_PARTICLES:
                        continue
                    if self.resources.is_plain_word(t):
                        # Common words ("Winter") only next to a form of address.
                        pats.append(
                            r"(?:(?<=Herr )|(?<=Herrn )|(?<=Frau )|(?<=Fr\. )|(?<=Hr\. ))"
                            + _fold_pattern(t)
                            + r"(?:s|n)?(?!\w)"
                        )
                        continue
                    pats.append(r"(?<!\w)" + _fold_pattern(t) + r"(?:'s|’s|ns|en|es|s|n)?(?!\w)")
        else:
            toks = re.findall(r"\w+|[^\w\s]", value)
            if toks:
                parts = []
                for t in toks:
                    if t.lower() in ("str", "straße", "strasse"):
                        parts.append(r"(?:str\.?|straße|strasse)")
                    elif t == ".":
                        parts.append(r"\.?")
                    else:
                        parts.append(_fold_pattern(t) if t[0].isalpha() else re.escape(t))
                if label == "ID":
                    # IDs are often written with spaces: "A 123456789", "DE89 3704 ..."
                    chars = [c for c in value if c.isalnum()]
                    pats.append(r"(?<!\w)" + r"[\s./-]?".join(re.escape(c) for c in chars) + r"(?!\w)")
                sep = r"[\s]*" if label in ("ID", "EMAIL", "URL") else r"[\s,]*"
                pats.append(r"(?<!\w)" + sep.join(parts) + r"(?!\w)")
        compiled = [re.compile(p, re.IGNORECASE) for p in pats]
        firsts = {rx: _first_atom(rx.pattern) for rx in compiled}
        with self._known_lock:
            self._known_cache[key] = compiled
            self._known_first.update(firsts)
            while len(self._known_cache) > KNOWN_CACHE_SIZE:
                _, old = self._known_cache.popitem(last=False)
                for rx in old:
                    self._known_first.pop(rx, None)
        return compiled

    def _known_finditer(self, rx: re.Pattern[str], text: str, starts: _WordStarts):  # type: ignore[no-untyped-def]
        """Exactly `rx.finditer(text)`, but tried only where a match can begin.

        Known-value patterns mostly start with `(?<!\w)` and one letter or digit; a match can then
        only begin at a word start whose character that first atom accepts.  If the atom could
        match a non-word character of this text, fall back to the plain scan.
        """
        first = self._known_first.get(rx)
        cands = starts.candidates(first) if first is not None else None
        if cands is None:
            yield from rx.finditer(text)
            return
        yield from P.matches_at(rx, text, cands)

    @staticmethod
    def _date_patterns(value: str) -> list[str]:
        m = re.fullmatch(r"\s*(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{2,4})\s*", value) or None
        iso = re.fullmatch(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*", value)
        if iso:
            y, mo, d = iso.group(1), int(iso.group(2)), int(iso.group(3))
        elif m:
            d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
        else:
            return [r"(?<!\w)" + re.escape(value) + r"(?!\w)"]
        yy = y[-2:]
        months = [k for k, v in P.MONTH_NUM.items() if v == mo and not k.endswith(".")]
        month_rx = "|".join(re.escape(x) for x in months)
        return [
            rf"(?<![\d.])0?{d}\.\s?0?{mo}\.\s?(?:{y}|{yy})(?!\d)",
            rf"(?<!\d){y}-0?{mo}-0?{d}(?!\d)",
            rf"(?<![\d/])0?{d}/0?{mo}/(?:{y}|{yy})(?!\d)",
            rf"(?<!\d)0?{d}\.?\s*(?:{month_rx})\s*{y}(?!\d)",
        ]

    # ------------------------------------------------------------------
    def anonymize(
        self, text: str, mapping: Mapping | None = None, known: TMapping[str, Iterable[str]] | None = None
    ) -> AnonymizeResult:
        """Replace identifying spans by placeholders; `mapping` carries a conversation."""
        if mapping is None:
            mapping = Mapping()
        if not text:
            return AnonymizeResult("", mapping, [])
        with mapping.lock:
            # Seeded people get their placeholders first, so every form of the name
            # ("Frau Berger", "Annas") joins the seeded person.
            for label, values in self._known_items(mapping, known):
                if label == "PERSON":
                    for v in values:
                        self._person_placeholder(" ".join(v.split()), mapping)
            entities = self._entities(text, mapping, known)
            out: list[str] = []
            pos = 0
            surfaces: dict[str, list[str]] = {}
            generated: list[tuple[int, int, str, str]] = []  # out-start, out-end, gen, original
            out_len = 0
            for e in entities:
                out.append(text[pos : e.start])
                out_len += e.start - pos
                original = text[e.start : e.end]
                tail = ""
                if e.label == "AGE":
                    rep = _age_range(original)
                    generated.append((out_len, out_len + len(rep), rep, original))
                elif e.label == "PERSON":
                    rep, original, tail = self._person_placeholder(original, mapping)
                    surfaces.setdefault(rep, []).append(original)
                else:
                    keys = [fold(re.sub(r"\s+", " ", original))]
                    rep = mapping.placeholder_for(e.label, original, keys)
                    surfaces.setdefault(rep, []).append(original)
                out.append(rep + tail)
                out_len += len(rep) + len(tail)
                pos = e.end
            out.append(text[pos:])
            result = "".join(out)
            mapping.surfaces = surfaces
            self._record_generalized(result, generated, mapping)
            mapping.last_digest = digest(result)
        return AnonymizeResult(result, mapping, entities)

    def _person_placeholder(self, original: str, mapping: Mapping) -> tuple[str, str, str]:
        """Placeholder for a person span; returns (placeholder, replaced surface, kept tail)."""
        toks = re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", original)
        names = [t for t in toks if len(t) >= 2 and t.lower() not in NAME_PARTICLES]
        tail = ""
        index = mapping.index
        if len(names) == 1 and original == names[0]:
            f = fold(original)
            if "PERSON|" + f not in index:
                for suf in _INFLECT:
                    if f.endswith(suf) and "PERSON|" + f[: -len(suf)] in index and len(f) - len(suf) >= 2:
                        cut = len(original) - len(suf)
                        return index["PERSON|" + f[: -len(suf)]], original[:cut], original[cut:]
        if len(names) >= 2 and original.endswith(names[-1]):
            f = fold(names[-1])
            if "PERSON|" + f not in index:
                for suf in _INFLECT:  # "Anna Winters" -> "[PERSON_1]s"
                    if f.endswith(suf) and "PERSON|" + f[: -len(suf)] in index and len(f) - len(suf) >= 2:
                        cut = len(original) - len(suf)
                        inflected = index["PERSON|" + f[: -len(suf)]]
                        if _same_person(mapping, inflected, names, f[: -len(suf)]):
                            return inflected, original[:cut], original[cut:]
        keys = [fold(t) for t in reversed(names)]
        ph = index.get("PERSON|" + fold(" ".join(original.split()))) if keys else None
        if keys and ph is None:
            ph = index.get("PERSON|" + keys[0])
            matched = keys[0]
            if ph is None:
                for suf in _INFLECT:  # "Winters" -> "Winter"
                    if keys[0].endswith(suf) and len(keys[0]) - len(suf) >= 2:
                        matched = keys[0][: -len(suf)]
                        ph = index.get("PERSON|" + matched)
                        if ph is not None:
                            break
            if ph is not None and not _same_person(mapping, ph, names, matched):
                ph = None  # "Ihr Vater Dietrich Wolkenstein" is not "Henrike Wolkenstein"
            if ph is None:
                for k in keys[1:]:
                    cand = index.get("PERSON|" + k)
                    if cand is not None and " " not in mapping.entries[cand]["original"].strip():
                        ph = cand
                        break
        if ph is None and not names and re.fullmatch(r"[^\W\d_]\.?", original):
            # A bare initial ("M. wird vorgestellt") joins the one person whose given name starts so.
            initial = fold(original[0])
            owners = {
                p
                for p, entry in mapping.entries.items()
                if entry["label"] == "PERSON"
                and len(entry["original"].split()) >= 2
                and fold(entry["original"][:1]) == initial
            }
            if len(owners) == 1:
                ph = owners.pop()
        if ph is None:
            ph = mapping.placeholder_for("PERSON", original, [])
        with mapping.lock:
            full = "PERSON|" + fold(" ".join(original.split()))
            index.setdefault(full, ph)
            for k in keys:
                index.setdefault("PERSON|" + k, ph)
            entry = mapping.entries[ph]
            # Keep the fullest form as the canonical original for restore().
            if len(names) > len(entry["original"].split()):
                entry["original"] = " ".join(original.split())
        return ph, original, tail

    @staticmethod
    def _record_generalized(result: str, generated: list[tuple[int, int, str, str]], mapping: Mapping) -> None:
        if not generated:
            return
        for gen in {g for _s, _e, g, _o in generated}:
            mapping.generalized.pop(gen, None)
        by_pos = {s: orig for s, _e, _g, orig in generated}
        for gen in {g for _s, _e, g, _o in generated}:
            mapping.generalized[gen] = [by_pos.get(p, gen) for p in _standalone(result, gen)]

    # ------------------------------------------------------------------
    def restore(self, text: str, mapping: Mapping) -> str:
        return _restore(text, mapping)

    # ------------------------------------------------------------------
    def residual_risk(self, text: str, known: Iterable[str] | TMapping[str, Iterable[str]] = ()) -> list[Entity]:
        """Leak check for already anonymized text.

        severity "block": e-mail, phone, KVNR/IBAN/RV/long IDs, birth dates, any `known` string.
        severity "warn": name-list hits outside the clinical lexicon.
        """
        if not text:
            return []
        ph_spans = [(m.start(), m.end()) for m, _s, _n in iter_placeholders(text)]
        ph_occ = bytearray(len(text) + 1)
        for ps, pe in ph_spans:
            ph_occ[ps:pe] = b"\x01" * (pe - ps)

        def inside_ph(s: int, e: int) -> bool:
            if e > s:
                return ph_occ.find(1, s, e) != -1
            return any(ps < e and s < pe for ps, pe in ph_spans)

        risks: list[Entity] = []
        if isinstance(known, TMapping):
            known_items = self._known_items(None, known)
        else:
            known_items = [
                ("PERSON" if re.fullmatch(r"[^\W\d_][\w\s'’.-]*", v or "") else "ID", [v])
                for v in known
                if v and v.strip()
            ]
        starts = _WordStarts(text)
        for label, values in known_items:
            for v in values:
                for rx in self._known_patterns(label, v):
                    for m in self._known_finditer(rx, text, starts):
                        if not inside_ph(m.start(), m.end()):
                            risks.append(Entity(m.start(), m.end(), label, m.group(), "block", "known"))
        for e in self.detector.detect(text, {}, leak_only=True):
            if inside_ph(e.start, e.end):
                continue
            if e.label in ("EMAIL", "PHONE", "DATE_BIRTH") or (
                e.label == "ID" and e.source in ("kvnr", "iban", "rvnr", "number", "cue")
            ):
                risks.append(Entity(e.start, e.end, e.label, e.text, "block", e.source))
            elif e.label == "PERSON" and e.source in ("gaz", "strong"):
                risks.append(Entity(e.start, e.end, e.label, e.text, "warn", e.source))
        # De-duplicate overlapping hits (keep block over warn).
        risks.sort(key=lambda e: (e.start, e.severity != "block", -(e.end - e.start)))
        out: list[Entity] = []
        last_end = -1
        for e in risks:
            if e.start >= last_end:
                out.append(e)
                last_end = e.end
        return out


def _standalone(text: str, literal: str) -> list[int]:
    """Start offsets of re.finditer(rf"(?<!\\d){re.escape(literal)}(?!\\d)", text), by str.find."""
    out: list[int] = []
    n = len(literal)
    if not n:
        return [m.start() for m in re.finditer(rf"(?<!\d){re.escape(literal)}(?!\d)", text)]
    p = text.find(literal)
    while p != -1:
        if (p == 0 or not _DIGIT.match(text, p - 1)) and not _DIGIT.match(text, p + n):
            out.append(p)
            p = text.find(literal, p + n)
        else:
            p = text.find(literal, p + 1)
    return out


_DIGIT = re.compile(r"\d")


def _yields_to(known: Entity, found: Entity) -> bool:
    if known.label == "LITERAL" or not (found.start <= known.start and known.end <= found.end):
        return False
    if found.end - found.start <= known.end - known.start:
        return False
    if found.label in ("EMAIL", "URL", "SOCIAL_MEDIA"):
        return True
    return (
        known.label == "PERSON" == found.label
        and known.end == found.end
        and not any(ch.isspace() for ch in known.text)
    )


def _same_person(mapping: Mapping, ph: str, names: list[str], matched: str) -> bool:
    """Does a mention whose name token `matched` is already known as `ph` refer to that person?

    Yes, unless both carry other name tokens (given names) and these differ: family members
    share a surname ("Henrike Wolkenstein" and her father "Dietrich Wolkenstein").
    """
    mine = {fold(t) for t in names} - {matched}
    if not mine:
        return True
    other = re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", mapping.entries[ph]["original"])
    theirs = {fold(t) for t in other if len(t) >= 2 and t.lower() not in NAME_PARTICLES} - {matched}
    return not theirs or bool(mine & theirs)


def _age_range(original: str) -> str:
    low = original.lower()
    n = int(low) if low.isdigit() else P.AGE_WORDS.get(low, 0)
    if n >= 90:
        return "90+"
    lo = n // 5 * 5
    return f"{lo}-{lo + 5}"
