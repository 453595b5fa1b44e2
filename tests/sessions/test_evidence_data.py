"""Tests for the curated guideline evidence (sessions/evidence/*.json) and its loader."""

from __future__ import annotations

import json
import re
import tempfile
import unittest
from pathlib import Path

import pytest

from sessions.evidence.loader import GRADES, EvidenceEntry, load_entries

# Recommendation numbers that clinical.md §4 gives with a ✅ (checked) mark, and the ids
# of the entries that carry them. Only these may be `verified`. Extending this list means
# checking the recommendation against the guideline text first (see sessions/evidence/README.md).
CLINICAL_MD_CHECKED = {
    "nvl-dep-diagnostik-algorithmus": "2-1",
    "nvl-dep-frueherkennung-risikogruppen": "2-2",
    "nvl-dep-suizidal-zuwendung": "12-1",
    "nvl-dep-suizidal-partizipation": "12-2",
    "nvl-dep-versorgungslandschaft": "14-1",
}
CLINICAL_MD = Path("/work/shared/reference/clinical.md")
# Phrasings that would turn a reference into an instruction to the reader.
IMPERATIVE = re.compile(
    r"\b(?:Sie sollten|Sie müssen|Sie sollen|verordnen Sie|geben Sie|stellen Sie|"
    r"bieten Sie|wenden Sie|führen Sie)\b|\bDiagnose:\s",
    re.IGNORECASE,
)


# tests/conftest.py has autouse fixtures that need pytest-django's `settings`. These
# tests touch neither Django nor the database, so shadow them: the file then also runs
# with `pytest -p no:django`.
@pytest.fixture(autouse=True)
def _celery_eager() -> None:
    return None


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    return None


@pytest.fixture(autouse=True)
def _fast_password_hasher() -> None:
    return None


class EvidenceDataTestCase(unittest.TestCase):
    entries: list[EvidenceEntry]

    @classmethod
    def setUpClass(cls) -> None:
        cls.entries = load_entries()

    def test_it_has_at_least_80_entries(self) -> None:
        self.assertGreaterEqual(len(self.entries), 80)

    def test_it_covers_the_four_sources(self) -> None:
        files = {e.file for e in self.entries}
        self.assertEqual(
            files,
            {
                "nvl_depression_2022.json",
                "s3_angst_2021.json",
                "s3_ptbs_2019.json",
                "suizidpraevention.json",
            },
        )
        for name in files:
            self.assertGreaterEqual(sum(e.file == name for e in self.entries), 10, name)

    def test_it_has_unique_ids(self) -> None:
        ids = [e.id for e in self.entries]
        self.assertEqual(len(ids), len(set(ids)))

    def test_it_uses_valid_grades(self) -> None:
        for e in self.entries:
            self.assertIn(e.grade, GRADES, e.id)

    def test_it_fills_all_required_fields(self) -> None:
        for e in self.entries:
            for field in ("id", "guideline", "guideline_short", "text", "source"):
                self.assertTrue(getattr(e, field), f"{e.id}: {field}")
            self.assertTrue(e.keywords, e.id)
            self.assertIsInstance(e.year, int)

    def test_it_sets_recommendation_numbers_only_from_clinical_md(self) -> None:
        numbered = {e.id: e.recommendation_number for e in self.entries if e.recommendation_number}
        self.assertEqual(numbered, CLINICAL_MD_CHECKED)

    def test_it_marks_only_checked_entries_as_verified(self) -> None:
        verified = {e.id for e in self.entries if e.verified}
        self.assertEqual(verified, set(CLINICAL_MD_CHECKED))
        self.assertGreater(sum(not e.verified for e in self.entries), 80)

    @unittest.skipUnless(CLINICAL_MD.exists(), "clinical.md is outside the repository")
    def test_it_finds_every_number_verbatim_in_clinical_md(self) -> None:
        text = CLINICAL_MD.read_text(encoding="utf-8")
        for entry_id, number in CLINICAL_MD_CHECKED.items():
            # A table row "| 2-1 | <paraphrase> | soll | ✅ |".
            row = re.search(rf"^\| {re.escape(number)} \|.*\| soll \| ✅ \|$", text, re.MULTILINE)
            self.assertIsNotNone(row, f"{entry_id}: {number} not found as a checked row")
            entry = next(e for e in self.entries if e.id == entry_id)
            self.assertEqual(entry.grade, "Soll", entry_id)

    def test_it_phrases_entries_as_reference_not_instruction(self) -> None:
        for e in self.entries:
            self.assertIsNone(IMPERATIVE.search(e.text), f"{e.id}: {e.text}")

    def test_it_labels_unverified_sources_honestly(self) -> None:
        for e in self.entries:
            if not e.verified:
                self.assertRegex(e.source, r"ungeprüft|ausstehend|nicht am Leitlinientext|keine Leitlinienempfehlung", e.id)


class LoaderTestCase(unittest.TestCase):
    def _load(self, entries: list[dict]) -> list[EvidenceEntry]:
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "x.json").write_text(json.dumps(entries), encoding="utf-8")
            return load_entries(Path(tmp))

    def _entry(self, **overrides: object) -> dict:
        entry = {
            "id": "test-entry",
            "guideline": "Testleitlinie",
            "guideline_short": "Test",
            "year": 2022,
            "chapter": "",
            "recommendation_number": "",
            "grade": "",
            "text": "Die Leitlinie beschreibt einen Test.",
            "keywords": ["Test"],
            "conditions": ["F32"],
            "source": "Testquelle 2022",
            "verified": False,
        }
        entry.update(overrides)
        return entry

    def test_it_loads_a_valid_entry(self) -> None:
        (entry,) = self._load([self._entry()])
        self.assertEqual(entry.id, "test-entry")
        self.assertEqual(entry.keywords, ("Test",))

    def test_it_names_file_and_id_in_errors(self) -> None:
        with self.assertRaisesRegex(ValueError, r"x\.json: entry 'test-entry': grade"):
            self._load([self._entry(grade="stark")])

    def test_it_rejects_schema_errors(self) -> None:
        bad = [
            {"year": "2022"},
            {"id": "Mit Leerzeichen"},
            {"conditions": ["Depression"]},
            {"keywords": []},
            {"verified": "yes"},
            {"verified": True},  # no number and grade
            {"recommendation_number": "5.x"},
            {"text": ""},
            {"text": "Eins. Zwei. Drei. Vier."},
        ]
        for override in bad:
            with self.subTest(override=override), self.assertRaises(ValueError):
                self._load([self._entry(**override)])

    def test_it_rejects_missing_and_unknown_fields(self) -> None:
        entry = self._entry()
        del entry["source"]
        with self.assertRaisesRegex(ValueError, "missing fields"):
            self._load([entry])
        with self.assertRaisesRegex(ValueError, "unknown fields"):
            self._load([self._entry(note="x")])

    def test_it_rejects_duplicate_ids(self) -> None:
        with self.assertRaisesRegex(ValueError, "duplicate id"):
            self._load([self._entry(), self._entry()])

    def test_it_returns_frozen_entries(self) -> None:
        (entry,) = self._load([self._entry()])
        with self.assertRaises(AttributeError):
            entry.text = "x"  # type: ignore[misc]
