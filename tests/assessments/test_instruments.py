from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from unittest import TestCase

from assessments.instruments import (
    INSTRUMENTS,
    TEXT_EMBEDDED,
    auditc_bands,
    load_licensed_items,
)

CODES = {"phq9", "gad7", "cssrs", "pcl5", "isi", "auditc", "ors", "srs"}


class InstrumentsTestCase(TestCase):
    def test_it_lists_every_instrument(self):
        self.assertEqual(set(INSTRUMENTS), CODES)
        for code, instrument in INSTRUMENTS.items():
            self.assertEqual(instrument.code, code)
            self.assertTrue(instrument.name_de)

    def test_it_covers_each_range_with_contiguous_bands(self):
        for code, instrument in INSTRUMENTS.items():
            if not instrument.bands or not instrument.has_total:
                continue
            step = Decimal("0.1") if instrument.decimal_places else 1
            with self.subTest(code=code):
                self.assertEqual(instrument.bands[0].lower, instrument.min_total)
                self.assertEqual(instrument.bands[-1].upper, instrument.max_total)
                for lower, upper in zip(instrument.bands, instrument.bands[1:]):
                    self.assertEqual(upper.lower, lower.upper + step)
                for band in instrument.bands:
                    self.assertLessEqual(band.lower, band.upper)
                    self.assertTrue(band.label_de)

    def test_it_computes_max_totals(self):
        for code, instrument in INSTRUMENTS.items():
            if instrument.has_total:
                with self.subTest(code=code):
                    self.assertEqual(instrument.max_total,
                                     instrument.item_count * instrument.max_value)

    def test_it_keeps_licensed_texts_out(self):
        for code in ("cssrs", "isi", "ors", "srs"):
            with self.subTest(code=code):
                instrument = INSTRUMENTS[code]
                self.assertTrue(instrument.licensed_text_required)
                self.assertFalse(instrument.text_available)
                self.assertTrue(instrument.licence_note)

    def test_it_ships_phq9_and_gad7_text_with_copyright(self):
        for code, count in (("phq9", 9), ("gad7", 7)):
            with self.subTest(code=code):
                instrument = INSTRUMENTS[code]
                self.assertEqual(instrument.text_status, TEXT_EMBEDDED)
                self.assertFalse(instrument.licensed_text_required)
                self.assertEqual(len(instrument.items), count)
                self.assertIn("Pfizer", instrument.copyright)
                self.assertEqual([o.value for o in instrument.options], [0, 1, 2, 3])
                self.assertEqual(instrument.options[0].label_de, "Überhaupt nicht")

    def test_it_has_a_label_for_every_item(self):
        for code, instrument in INSTRUMENTS.items():
            expected = 7 if code == "cssrs" else instrument.item_count  # Q1–6 plus 6b
            with self.subTest(code=code):
                self.assertEqual(len(instrument.items), expected)

    def test_it_builds_auditc_bands_for_a_cutoff(self):
        bands = auditc_bands(5)
        self.assertEqual([(b.lower, b.upper, b.label) for b in bands],
                         [(0, 4, "negative"), (5, 12, "positive")])


class LoadLicensedItemsTestCase(TestCase):
    def write(self, content: str) -> Path:
        folder = Path(tempfile.mkdtemp())
        path = folder / "items.json"
        path.write_text(content, encoding="utf-8")
        self.addCleanup(path.unlink)
        return path

    def test_it_works(self):
        path = self.write(json.dumps([f" Text {n} " for n in range(1, 8)]))
        self.assertEqual(load_licensed_items("isi", path), tuple(f"Text {n}" for n in range(1, 8)))

    def test_it_loads_cssrs_with_the_follow_up(self):
        path = self.write(json.dumps([f"Frage {n}" for n in range(1, 8)]))
        self.assertEqual(len(load_licensed_items("cssrs", str(path))), 7)

    def test_it_loads_pending_official_forms(self):
        path = self.write(json.dumps(["a", "b", "c"]))
        self.assertEqual(load_licensed_items("auditc", path), ("a", "b", "c"))

    def test_it_validates_the_count(self):
        path = self.write(json.dumps(["a", "b", "c"]))
        with self.assertRaises(ValueError) as caught:
            load_licensed_items("ors", path)
        self.assertIn("4", str(caught.exception))

    def test_it_rejects_bad_files(self):
        for content in ("{", '{"1": "a"}', '"abcd"', '["a", "", "c", "d"]', '["a", 2, "c", "d"]',
                        '["a", null, "c", "d"]'):
            with self.subTest(content=content), self.assertRaises(ValueError):
                load_licensed_items("srs", self.write(content))

    def test_it_rejects_a_missing_file(self):
        with self.assertRaises(ValueError):
            load_licensed_items("srs", "/nonexistent/items.json")

    def test_it_keeps_embedded_official_text(self):
        path = self.write(json.dumps(["x"] * 9))
        with self.assertRaises(ValueError):
            load_licensed_items("phq9", path)

    def test_it_rejects_an_unknown_instrument(self):
        with self.assertRaises(KeyError):
            load_licensed_items("bdi2", "/nonexistent/items.json")

    def test_it_does_not_echo_texts_in_errors(self):
        path = self.write(json.dumps(["geheimer Wortlaut"] * 3))
        with self.assertRaises(ValueError) as caught:
            load_licensed_items("ors", path)
        self.assertNotIn("geheimer", str(caught.exception))
