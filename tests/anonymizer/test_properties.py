from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anonymizer import Anonymizer
from anonymizer.detect import ADDRESS_CUES, TITLES

LEXICON = [
    line.strip()
    for line in (Path(__file__).resolve().parents[2] / "anonymizer/data/clinical_lexicon.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
]

# Forms of address in the lexicon (Frau, Dr, Kollege ...) make the next capitalized word a
# surname by German grammar ("Frau Winter"); they are left out of the random sequences here
# and covered by test_a_lexicon_word_is_a_name_only_after_a_form_of_address instead.
LEXICON_NO_ADDRESS = [t for t in LEXICON if t.lower().rstrip(".") not in ADDRESS_CUES | TITLES]

FRAGMENTS = [
    "Frau Anna Berger",
    "Herr Yılmaz",
    "45 Jahre",
    "geb. 12.03.1980",
    "Tel. 0171 2345678",
    "max@email.de",
    "[PERSON_1]",
    "PERSON_2",
    "[Ort 3]",
    "45-50",
    "Berlin",
    "10115",
    "Sitzung 10/24",
    "PHQ-9: 15",
    "F32.1",
    "Annas",
    "www.example.de",
    "😀",
    "\r\n",
    "ß",
    "ğ",
    "ł",
    "Hauptstraße 5",
    "im Mai",
    "Dr. Weiß",
    "8-jähriger",
    "Jörg",
    " ",
    ", ",
    ". ",
    "\n",
]

text_strategy = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=25).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=text_strategy)
def test_restore_inverts_anonymize(anon: Anonymizer, text: str) -> None:
    result = anon.anonymize(text)
    assert anon.restore(result.text, result.mapping) == text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    terms=st.lists(st.sampled_from(LEXICON_NO_ADDRESS), min_size=1, max_size=12),
    seps=st.lists(st.sampled_from([" ", ", ", ". ", "\n", " und ", ": ", " – "]), min_size=12, max_size=12),
)
def test_lexicon_terms_are_never_altered(anon_thorough: Anonymizer, terms: list[str], seps: list[str]) -> None:
    text = "".join(t + s for t, s in zip(terms, seps, strict=False))
    assert anon_thorough.anonymize(text).text == text


def test_lexicon_is_large_enough() -> None:
    assert len(LEXICON) >= 900


def test_a_lexicon_word_is_a_name_only_after_a_form_of_address(anon_thorough: Anonymizer) -> None:
    text = "Frau Winter erzählt, dass sie im Winter Angst hat; Herr Engel spricht über Schuld und Trauer."
    assert anon_thorough.anonymize(text).text == (
        "Frau [PERSON_1] erzählt, dass sie im Winter Angst hat; Herr [PERSON_2] spricht über Schuld und Trauer."
    )


def test_the_address_forms_left_out_above_are_few() -> None:
    assert len(LEXICON) - len(LEXICON_NO_ADDRESS) < 30


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_restore_inverts_anonymize_on_arbitrary_unicode(anon: Anonymizer, text: str) -> None:
    result = anon.anonymize(text)
    assert anon.restore(result.text, result.mapping) == text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=text_strategy, second=text_strategy)
def test_restore_inverts_anonymize_within_one_conversation(anon_thorough: Anonymizer, first: str, second: str) -> None:
    """The second call reuses the mapping of the first (one conversation): still exact."""
    one = anon_thorough.anonymize(first)
    two = anon_thorough.anonymize(second, one.mapping)
    assert anon_thorough.restore(two.text, two.mapping) == second
    assert two.mapping is one.mapping


def test_restore_inverts_anonymize_on_the_benchmark_letters(
    anon_minimal: Anonymizer, anon: Anonymizer, anon_thorough: Anonymizer
) -> None:
    root = Path(__file__).resolve().parents[2] / "bench/data"
    docs = [
        json.loads(line)["text"]
        for name in ("grascco_phi_dev.jsonl", "therapy_notes.jsonl")
        for line in (root / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for a in (anon_minimal, anon, anon_thorough):
        for doc in docs:
            result = a.anonymize(doc)
            assert a.restore(result.text, result.mapping) == doc
