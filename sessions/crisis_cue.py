"""Lexical detector for signs of acute suicidality in German note text.

No model and no Django: a reviewed phrase list (``sessions/data/crisis_phrases.json``)
plus rules for negation, distancing, past events, other people and hypotheticals.

The detector is a safety net that prompts the therapist to look again. It is not a
risk assessment, and its result must never be shown to anyone as a diagnosis. The
phrase list is an engineering draft awaiting clinical review (see the file header).

Text is folded before matching (lower case, ä→ae, ö→oe, ü→ue, ß→ss), so
"lebensmüde", "Lebensmuede" and "LEBENSMÜDE" match the same pattern; offsets in
the returned cues point into the original text.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PHRASES_PATH = Path(__file__).resolve().parent / "data" / "crisis_phrases.json"

ACUTE = "acute"
CONCERN = "concern"

# Status of a matched cue. Only ACTIVE cues are returned by detect().
ACTIVE = "active"
NEGATED = "negated"
HISTORIC = "historic"
THIRD_PARTY = "third_party"
HYPOTHETICAL = "hypothetical"
# An everyday occasion explains the cue ("Abschiedsbrief zum Ruhestand").
BENIGN = "benign"

_FOLD = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue", "ẞ": "ss"}
_TOKEN = re.compile(r"\w+")
# "{W}" in a cue pattern: one word that is not a negation word, then whitespace.
_GAP = r"(?:(?!(?:nicht|nichts|nie|niemals|kein\w*|ohne)\b)\w+\s+)"
# "{C}": the same, but the word may be followed by a comma ("wünscht sich, bei einem Unfall").
_GAP_COMMA = r"(?:(?!(?:nicht|nichts|nie|niemals|kein\w*|ohne)\b)\w+,?\s+)"
_ANSWER = re.compile(r"\s*(?:nein|ja|verneint|bejaht|keine?|negativ|positiv)\b")
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


@dataclass(frozen=True)
class Cue:
    start: int
    end: int
    phrase: str  # the matched words, for display to the therapist only
    category: str
    severity: str


@dataclass(frozen=True)
class Finding:
    """A matched cue with the reason it does or does not count (for review and tests)."""

    cue: Cue
    status: str


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    category: str
    severity: str
    # Acute only with another active cue in the same sentence, else reported as concern.
    needs_support: bool = False


@dataclass(frozen=True)
class _Negator:
    regex: re.Pattern[str]
    pre_window: int  # max words between negator and a following cue (0 = never)
    post_window: int  # max words between a cue and a following negator (0 = never)
    post_following: re.Pattern[str] | None  # what must follow a post-negator, if anything
    following_exception: bool  # skip when followed by e.g. "sicher", "glaubhaft"


@dataclass(frozen=True)
class _Rules:
    cues: tuple[_Pattern, ...]
    negators: tuple[_Negator, ...]
    neg_following: re.Pattern[str]
    neg_preceding: re.Pattern[str]
    qualifiers: tuple[re.Pattern[str], ...]
    qualifier_categories: frozenset[str]
    historic: tuple[re.Pattern[str], ...]
    historic_year_min_age: int
    current: tuple[re.Pattern[str], ...]
    hypothetical_sentence: tuple[re.Pattern[str], ...]
    hypothetical_immediate: re.Pattern[str]
    topic_anywhere: tuple[re.Pattern[str], ...]
    persons: re.Pattern[str]
    person_after: re.Pattern[str]
    determiners: frozenset[str]
    feminine: frozenset[str]
    patient_subject: re.Pattern[str]
    genitive_excluded: frozenset[str]
    abbreviations: frozenset[str]
    contrast: re.Pattern[str]
    comma_clause: re.Pattern[str]
    verb_clause: re.Pattern[str]
    benign: dict[str, tuple[re.Pattern[str], ...]]
    benign_sentence_scope: frozenset[str]
    worry: re.Pattern[str]
    prepositions: frozenset[str]


def _compile_all(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def _expand(pattern: str, lexicons: dict[str, list[str]]) -> str:
    """Replace "{W}"/"{C}" with a word gap and "{name}" with that lexicon as an alternation."""
    pattern = pattern.replace("{W}", _GAP).replace("{C}", _GAP_COMMA)
    for name, words in lexicons.items():
        pattern = pattern.replace("{" + name + "}", "(?:" + "|".join(words) + ")")
    return pattern


@functools.lru_cache(maxsize=1)
def _rules() -> _Rules:
    data: dict[str, Any] = json.loads(PHRASES_PATH.read_text(encoding="utf-8"))
    tp = data["third_party"]
    persons = tp["persons"]
    hyp = data["hypothetical_markers"]
    lexicons = {k: v for k, v in data["lexicons"].items() if k != "note"}
    return _Rules(
        cues=tuple(
            _Pattern(
                re.compile(_expand(c["pattern"], lexicons)),
                c["category"],
                c["severity"],
                bool(c.get("needs_support")),
            )
            for c in data["cues"]
        ),
        negators=tuple(
            _Negator(
                re.compile(n["pattern"]),
                int(n["pre_window"]),
                int(n["post_window"]),
                re.compile(n["post_following"]) if n.get("post_following") else None,
                bool(n.get("use_following_exception")),
            )
            for n in data["negators"]
        ),
        neg_following=re.compile(data["negator_exceptions"]["following"]),
        neg_preceding=re.compile(data["negator_exceptions"]["preceding"]),
        qualifiers=_compile_all(data["qualifiers"]["patterns"]),
        qualifier_categories=frozenset(data["qualifiers"]["categories"]),
        historic=_compile_all([_expand(p, lexicons) for p in data["historic_markers"]]),
        historic_year_min_age=int(data["historic_year_min_age"]),
        current=_compile_all(data["current_markers"]),
        hypothetical_sentence=_compile_all(hyp["sentence"]),
        hypothetical_immediate=re.compile(hyp["immediate"]),
        topic_anywhere=_compile_all(hyp["topic_anywhere"]),
        persons=re.compile(r"\b" + persons + r"\b"),
        person_after=re.compile(
            r"(?:" + tp["genitive_after"] + r"|\A\s+)" + persons + r"\b"
        ),
        determiners=frozenset(tp["subject_determiners"]),
        feminine=frozenset(tp["feminine_nouns"]),
        patient_subject=re.compile(tp["patient_subject"]),
        genitive_excluded=frozenset(tp["excluded_categories_for_genitive"]),
        abbreviations=frozenset(data["sentence_abbreviations"]),
        contrast=re.compile(r"\b(?:" + "|".join(data["contrast_words"]) + r")\b"),
        comma_clause=re.compile(
            r",\s*(?=(?:" + "|".join(data["comma_clause_starters"]) + r")\b)"
        ),
        verb_clause=_verb_clause(data["negation_clause_boundaries"]),
        benign={
            category: _compile_all([_expand(p, lexicons) for p in patterns])
            for category, patterns in data["benign_contexts"]["categories"].items()
        },
        benign_sentence_scope=frozenset(data["benign_contexts"]["sentence_scope"]),
        worry=re.compile(tp["worry"]),
        prepositions=frozenset(tp["prepositions"]),
    )


def _verb_clause(data: dict[str, Any]) -> re.Pattern[str]:
    """Where a new clause with its own finite verb starts (the negation scope ends there).

    "keine Kraft mehr und wolle nur noch sterben", "halte das nicht mehr aus ich will
    sterben", "keine Kraft mehr, wolle sterben": the match starts at the comma, the
    conjunction or the subject pronoun.
    """
    verb = r"(?:" + "|".join(data["finite_verbs"]) + r")\b"
    subject = r"(?:" + "|".join(data["subjects"]) + r")"
    joiner = r"(?:,|\b(?:" + "|".join(data["conjunctions"]) + r")\b)"
    after_joiner = joiner + r"\s*(?=(?:" + subject + r"\s+)?" + verb + r")"
    bare_subject = r"\b(?=" + subject + r"\s+" + verb + r")"
    return re.compile(after_joiner + "|" + bare_subject)


def _fold(text: str) -> tuple[str, list[int]]:
    """Return the folded text and, per folded character, its index in ``text``."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        rep = _FOLD.get(ch)
        if rep is None:
            rep = ch.lower()
            if len(rep) != 1:  # e.g. "İ".lower() has two code points; keep offsets simple
                rep = ch
        out.append(rep)
        index.extend([i] * len(rep))
    index.append(len(text))
    return "".join(out), index


def _sentences(folded: str, rules: _Rules) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"[.!?;\n]", folded):
        i = m.start()
        if m.group() == ".":
            word = re.search(r"(\w+)\W*\Z", folded[start:i])
            nxt = folded[i + 1 : i + 2]
            if word and (len(word.group(1)) == 1 or word.group(1) in rules.abbreviations):
                continue
            if nxt.isdigit():
                continue
        # Question-and-answer notes: "Suizidgedanken? Nein." is one statement.
        if m.group() == "?" and _ANSWER.match(folded, i + 1):
            continue
        spans.append((start, i + 1))
        start = i + 1
    if start < len(folded):
        spans.append((start, len(folded)))
    return spans


def _split_at(folded: str, span: tuple[int, int], *boundaries: re.Pattern[str]) -> list[tuple[int, int]]:
    """``span`` cut where any of the ``boundaries`` patterns matches (at the match start)."""
    s, e = span
    cuts = {s, e}
    for rx in boundaries:
        for m in rx.finditer(folded, s, e):
            cuts.add(m.start())
    points = sorted(cuts)
    return list(zip(points, points[1:], strict=False))


def _clauses(folded: str, sent: tuple[int, int], rules: _Rules) -> list[tuple[int, int]]:
    return _split_at(folded, sent, rules.contrast, rules.comma_clause)


def _negation_scope(folded: str, clause: _Span, pos: int, rules: _Rules) -> _Span:
    """The part of ``clause`` around ``pos`` that a negation can reach."""
    return _containing(_split_at(folded, clause, rules.verb_clause), pos)


def _is_benign(
    folded: str, clause: _Span, sentence: _Span, pattern: _Pattern, rules: _Rules
) -> bool:
    span = sentence if pattern.category in rules.benign_sentence_scope else clause
    return any(b.search(folded, *span) for b in rules.benign.get(pattern.category, ()))


def _words(folded: str, a: int, b: int) -> int:
    return len(_TOKEN.findall(folded, a, b)) if b > a else 0


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _containing(spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for span in spans:
        if span[0] <= pos < span[1]:
            return span
    return spans[-1]


_Hit = tuple[int, int, _Pattern]
_Span = tuple[int, int]


def _find_cues(folded: str, rules: _Rules) -> tuple[list[_Hit], list[_Hit]]:
    raw = [(m.start(), m.end(), p) for p in rules.cues for m in p.regex.finditer(folded)]
    raw = [r for r in raw if r[1] > r[0]]
    # Keep acute over concern, a cue that stands on its own over one that needs support,
    # then the longest match, among overlapping hits.
    ordered = sorted(
        raw, key=lambda r: (r[2].severity != ACUTE, r[2].needs_support, -(r[1] - r[0]), r[0])
    )
    kept: list[_Hit] = []
    for r in ordered:
        if not any(_overlaps((r[0], r[1]), (k[0], k[1])) for k in kept):
            kept.append(r)
    kept.sort(key=lambda r: r[0])
    return kept, raw


def _negators(folded: str, raw: list[_Hit], rules: _Rules) -> list[tuple[int, int, _Negator]]:
    found: list[tuple[int, int, _Negator]] = []
    for neg in rules.negators:
        for m in neg.regex.finditer(folded):
            span = (m.start(), m.end())
            # A negator inside a cue ("will nicht mehr leben", "nicht absprachefähig")
            # belongs to that cue.
            if any(_overlaps(span, (r[0], r[1])) for r in raw):
                continue
            # Slice, because \A in these patterns does not move with match(string, pos).
            if neg.following_exception and rules.neg_following.match(folded[m.end() :]):
                continue
            if rules.neg_preceding.search(folded[max(0, m.start() - 30) : m.start()]):
                continue
            found.append((m.start(), m.end(), neg))
    return found


def _is_negated(
    folded: str,
    cue: _Span,
    clause: _Span,
    sentence: _Span,
    negators: list[tuple[int, int, _Negator]],
    raw: list[_Hit],
    pattern: _Pattern,
    rules: _Rules,
) -> bool:
    s, e = cue
    scope = _negation_scope(folded, clause, s, rules)
    for ns, ne, neg in negators:
        if not (scope[0] <= ns and ne <= scope[1]):
            continue
        if ne <= s and neg.pre_window and _words(folded, ne, s) <= neg.pre_window:
            return True
        if (
            ns >= e
            and neg.post_window
            and "," not in folded[e:ns]
            and _words(folded, e, ns) <= neg.post_window
            and (neg.post_following is None or neg.post_following.match(folded[ne:]))
        ):
            return True
    if pattern.category in rules.qualifier_categories:
        for q in rules.qualifiers:
            for m in q.finditer(folded, sentence[0], sentence[1]):
                if not any(_overlaps((m.start(), m.end()), (r[0], r[1])) for r in raw):
                    return True
    return False


def _is_third_party(
    folded: str, cue: _Span, clause: _Span, sentence: _Span, pattern: _Pattern, rules: _Rules
) -> bool:
    s, e = cue
    if pattern.category not in rules.genitive_excluded and rules.person_after.match(folded[e:]):
        return True
    if _person_subject(folded, clause, s, rules):
        return True
    # Someone else's worry: "Die Mutter macht sich Sorgen, die Pat. könne sich etwas antun",
    # "Sorge der Schwester, dass ...": the person is named before the worry or right after it.
    for m in rules.worry.finditer(folded, sentence[0], s):
        if rules.persons.search(folded, sentence[0], m.start()):
            return True
        if rules.person_after.match(folded[m.end() :]):
            return True
    # Reported speech: "Der Ehemann äußerte, er werde sich umbringen."
    if clause[0] > sentence[0] and re.match(r"\W*(?:er|sie)\b", folded[clause[0] : s]):
        first = (sentence[0], clause[0])
        return _person_subject(folded, first, clause[0], rules, at_start=True)
    return False


def _person_subject(
    folded: str, clause: _Span, s: int, rules: _Rules, *, at_start: bool = False
) -> bool:
    """A third-party person noun is the subject before position ``s`` in ``clause``."""
    for m in rules.persons.finditer(folded, clause[0], s):
        if _words(folded, m.end(), s) > 6:
            continue
        before = _TOKEN.findall(folded, clause[0], m.start())
        noun = m.group()
        det = None
        det_at = -1
        if before and before[-1] in rules.determiners:
            det, det_at = before[-1], len(before) - 1
        elif len(before) >= 2 and before[-2] in rules.determiners:
            det, det_at = before[-2], len(before) - 2
        elif before:
            continue  # dative/genitive or object position: not the subject
        if det_at >= 1 and before[det_at - 1] in rules.prepositions:
            continue  # "für die Schwester", "mit seinem Bruder": an object, not the subject
        if det == "der" and noun in rules.feminine:
            continue  # "der Mutter" is dative or genitive
        if at_start and len(before) > 2:
            continue
        if rules.patient_subject.search(folded, m.end(), s):
            continue
        return True
    return False


def _is_hypothetical(
    folded: str, cue: _Span, clause: _Span, sentence: _Span, rules: _Rules
) -> bool:
    s, _ = cue
    for h in rules.hypothetical_sentence:
        # The marker must start before the cue but may run past it ("Sollten X auftreten").
        if any(m.start() < s for m in h.finditer(folded, sentence[0], sentence[1])):
            return True
    for h in rules.topic_anywhere:
        if h.search(folded, sentence[0], sentence[1]):
            return True
    return bool(rules.hypothetical_immediate.search(folded[clause[0] : s]))


def _is_historic(
    folded: str, cue: _Span, clause: _Span, rules: _Rules, today: datetime.date
) -> bool:
    s, e = cue
    markers: list[tuple[int, int]] = []
    for h in rules.historic:
        markers += [(m.start(), m.end()) for m in h.finditer(folded, clause[0], clause[1])]
    for m in _YEAR.finditer(folded, clause[0], clause[1]):
        if int(m.group()) <= today.year - rules.historic_year_min_age:
            markers.append((m.start(), m.end()))
    for ms, me in markers:
        if me <= s:
            between: _Span = (me, s)
        elif ms >= e and _words(folded, e, ms) <= 5:
            between = (e, ms)
        else:
            continue
        if not any(c.search(folded, *between) for c in rules.current):
            return True
    return False


def analyse(text: str, *, today: datetime.date | None = None) -> list[Finding]:
    """All matched cues with their status (active, negated, historic, ...)."""
    rules = _rules()
    today = today or datetime.date.today()
    folded, index = _fold(text)
    kept, raw = _find_cues(folded, rules)
    if not kept:
        return []
    negators = _negators(folded, raw, rules)
    sentences = _sentences(folded, rules)
    findings: list[Finding] = []
    needing: list[tuple[int, _Span]] = []  # (index in findings, sentence)
    for s, e, pattern in kept:
        sentence = _containing(sentences, s)
        clause = _containing(_clauses(folded, sentence, rules), s)
        span = (s, e)
        if _is_negated(folded, span, clause, sentence, negators, raw, pattern, rules):
            status = NEGATED
        elif _is_benign(folded, clause, sentence, pattern, rules):
            status = BENIGN
        elif _is_third_party(folded, span, clause, sentence, pattern, rules):
            status = THIRD_PARTY
        elif _is_hypothetical(folded, span, clause, sentence, rules):
            status = HYPOTHETICAL
        elif _is_historic(folded, span, clause, rules, today):
            status = HISTORIC
        else:
            status = ACTIVE
        start, end = index[s], index[e - 1] + 1
        cue = Cue(start, end, text[start:end], pattern.category, pattern.severity)
        if pattern.needs_support and pattern.severity == ACUTE:
            needing.append((len(findings), sentence))
        findings.append(Finding(cue, status))
    return _without_support_as_concern(findings, needing, index)


def _without_support_as_concern(
    findings: list[Finding], needing: list[tuple[int, _Span]], index: list[int]
) -> list[Finding]:
    """A cue that needs support is acute only beside another active cue in its sentence.

    "Konten aufgelöst" alone is everyday; with "damit nach ihrem Tod niemand Arbeit hat"
    or a second farewell act in the same sentence it is acute. Alone it stays a concern cue.
    """
    out = list(findings)
    for i, (s, e) in needing:
        if out[i].status != ACTIVE:
            continue
        supported = any(
            j != i and f.status == ACTIVE and index[s] <= f.cue.start < index[e]
            for j, f in enumerate(findings)
        )
        if not supported:
            out[i] = Finding(dataclasses.replace(out[i].cue, severity=CONCERN), ACTIVE)
    return out


def detect(text: str, *, today: datetime.date | None = None) -> list[Cue]:
    """Cues that speak for the patient's own current suicidality or self-harm."""
    return [f.cue for f in analyse(text, today=today) if f.status == ACTIVE]


def has_acute_risk(text: str, *, today: datetime.date | None = None) -> bool:
    """True if the text should raise the crisis event (any active cue of severity acute)."""
    return any(c.severity == ACUTE for c in detect(text, today=today))
