from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from unittest import TestCase

from assessments.charts import trend_svg

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in e.get("class", "").split()]


def title_of(element: ET.Element) -> str:
    node = element.find(f"{SVG}title")
    assert node is not None and node.text
    return node.text


def series(*totals: object, start: dt.date = dt.date(2026, 1, 5), flags=None) -> list:
    return [(start + dt.timedelta(days=14 * i), total, set(flags or ())) for i, total in
            enumerate(totals)]


class TrendSvgTestCase(TestCase):
    def test_it_is_accessible(self):
        root = parse(trend_svg("phq9", series(18, 12)))
        self.assertEqual(root.tag, f"{SVG}svg")
        self.assertEqual(root.get("role"), "img")
        self.assertIn("PHQ-9", root.get("aria-label"))
        self.assertIn("2 Messungen", root.get("aria-label"))
        self.assertIn("letzter Wert 12 (mittelgradig)", root.get("aria-label"))
        self.assertEqual(root[0].tag, f"{SVG}title")
        self.assertEqual(root[0].text, "PHQ-9 – Verlauf")

    def test_it_shades_the_severity_bands_with_german_labels(self):
        root = parse(trend_svg("phq9", series(5)))
        bands = by_class(root, "band")
        self.assertEqual([b.get("data-band") for b in bands],
                         ["minimal", "mild", "moderate", "moderately_severe", "severe"])
        labels = [t.text for t in by_class(root, "band-label")]
        self.assertEqual(labels, ["minimal", "leicht", "mittelgradig", "ausgeprägt", "schwer"])
        self.assertEqual(title_of(bands[1]), "leicht (5–9)")
        # Higher totals sit higher up: the severe band's top is above the minimal band's.
        self.assertLess(float(bands[-1].get("y")), float(bands[0].get("y")))

    def test_it_draws_the_cutoff_line_on_the_band_edge(self):
        root = parse(trend_svg("phq9", series(5)))
        (cutoff,) = by_class(root, "cutoff")
        self.assertEqual(cutoff.get("data-value"), "10")
        line = by_class(cutoff, "cutoff-line")[0]
        moderate = [b for b in by_class(root, "band") if b.get("data-band") == "moderate"][0]
        band_bottom = float(moderate.get("y")) + float(moderate.get("height"))
        self.assertAlmostEqual(float(line.get("y1")), band_bottom, places=1)
        self.assertEqual(by_class(cutoff, "cutoff-label")[0].text, "Cut-off ≥ 10")

    def test_it_draws_the_pcl5_cutoff_without_bands(self):
        root = parse(trend_svg("pcl5", series(40, 20)))
        self.assertEqual(by_class(root, "band"), [])
        self.assertEqual(by_class(root, "cutoff")[0].get("data-value"), "33")
        custom = parse(trend_svg("pcl5", series(40, 20), cutoff=38))
        self.assertEqual(by_class(custom, "cutoff")[0].get("data-value"), "38")

    def test_it_draws_ors_and_srs_cutoffs_at_or_below(self):
        root = parse(trend_svg("ors", series("24.4", Decimal("30.0"), 31)))
        cutoff = by_class(root, "cutoff")[0]
        self.assertEqual(cutoff.get("data-value"), "25.0")
        self.assertEqual(by_class(cutoff, "cutoff-label")[0].text, "Cut-off ≤ 25,0")
        self.assertEqual([b.get("data-band") for b in by_class(root, "band")],
                         ["clinical", "non_clinical"])
        srs = parse(trend_svg("srs", series(36, 38)))
        self.assertEqual(by_class(srs, "cutoff")[0].get("data-value"), "36.0")

    def test_it_has_no_cutoff_where_the_instrument_has_none(self):
        self.assertEqual(by_class(parse(trend_svg("isi", series(10))), "cutoff"), [])
        auditc = parse(trend_svg("auditc", series(3, 6)))
        self.assertEqual(by_class(auditc, "cutoff"), [])
        self.assertEqual(by_class(auditc, "band"), [])

    def test_it_draws_auditc_bands_for_a_given_cutoff(self):
        root = parse(trend_svg("auditc", series(3, 6), cutoff=5))
        self.assertEqual(by_class(root, "cutoff")[0].get("data-value"), "5")
        self.assertEqual([b.get("data-band") for b in by_class(root, "band")],
                         ["negative", "positive"])

    def test_it_plots_every_point_with_german_dates(self):
        root = parse(trend_svg("gad7", series(15, 12, 8)))
        points = by_class(root, "point")
        self.assertEqual([p.get("data-date") for p in points],
                         ["2026-01-05", "2026-01-19", "2026-02-02"])
        self.assertEqual([p.get("data-value") for p in points], ["15", "12", "8"])
        self.assertEqual([t.text for t in by_class(root, "x-label")],
                         ["05.01.26", "19.01.26", "02.02.26"])
        self.assertEqual(title_of(points[0]), "05.01.26: 15 (schwer)")
        self.assertEqual(len(by_class(root, "trend-line")), 1)

    def test_it_marks_reliable_change_between_consecutive_points(self):
        root = parse(trend_svg("phq9", series(18, 16, 9, 4, 11)))
        points = by_class(root, "point")
        kinds = [by_class(p, "marker")[0].get("class") for p in points]
        self.assertEqual(kinds, [
            "marker", "marker", "marker reliable-improvement", "marker",
            "marker reliable-deterioration",
        ])
        changes = by_class(root, "change")
        (improved,) = [e for e in changes if "reliable-improvement" in e.get("class")]
        self.assertEqual(title_of(improved), "Reliable Verbesserung um 7 Punkte (Schwelle 6)")
        self.assertIn("Reliable Verbesserung um 7 Punkte", title_of(points[2]))
        (worse,) = [e for e in changes if "reliable-deterioration" in e.get("class")]
        self.assertIn("Verschlechterung um 7 Punkte", title_of(worse))
        self.assertIn("Reliable Veränderungen: 2", root.get("aria-label"))

    def test_it_marks_change_exactly_at_the_threshold(self):
        root = parse(trend_svg("phq9", series(15, 9, 14)))
        self.assertEqual(len(by_class(root, "change")), 1)  # 15→9 is 6; 9→14 is only 5
        gad = parse(trend_svg("gad7", series(10, 14, 11)))
        self.assertEqual([e.get("class") for e in by_class(gad, "change")],
                         ["change reliable-deterioration"])

    def test_it_marks_ors_change_upwards_as_improvement(self):
        root = parse(trend_svg("ors", series("20.0", "25.0", "20.1")))
        self.assertEqual([e.get("class") for e in by_class(root, "change")],
                         ["change reliable-improvement"])
        self.assertIn("um 5,0 Punkte", title_of(by_class(root, "change")[0]))

    def test_it_rings_points_with_safety_flags(self):
        points = [
            (dt.date(2026, 1, 5), 12, {"ITEM9_POSITIVE"}),
            (dt.date(2026, 1, 19), 10, set()),
            (dt.date(2026, 2, 2), 10, None),
        ]
        root = parse(trend_svg("phq9", points))
        rings = by_class(root, "flag-ring")
        self.assertEqual(len(rings), 1)
        self.assertIn("Item 9 > 0", title_of(by_class(root, "point")[0]))

    def test_it_renders_no_points(self):
        for code in ("phq9", "cssrs", "auditc"):
            with self.subTest(code=code):
                root = parse(trend_svg(code, []))
                self.assertEqual(by_class(root, "point"), [])
                self.assertEqual(by_class(root, "empty")[0].text, "Noch keine Messungen")
                self.assertIn("noch keine Messungen", root.get("aria-label"))

    def test_it_renders_one_point(self):
        root = parse(trend_svg("phq9", series(7)))
        self.assertEqual(len(by_class(root, "point")), 1)
        self.assertEqual(by_class(root, "trend-line"), [])
        self.assertEqual(by_class(root, "change"), [])
        self.assertIn("1 Messung am 05.01.26", root.get("aria-label"))

    def test_it_renders_many_points_with_fewer_date_labels(self):
        totals = [(i * 7) % 28 for i in range(60)]
        root = parse(trend_svg("isi", series(*totals)))
        self.assertEqual(len(by_class(root, "point")), 60)
        labels = [t.text for t in by_class(root, "x-label")]
        self.assertLess(len(labels), 60)
        self.assertEqual(labels[0], "05.01.26")
        last = dt.date(2026, 1, 5) + dt.timedelta(days=14 * 59)
        self.assertEqual(labels[-1], last.strftime("%d.%m.%y"))
        xs = [float(by_class(p, "marker")[0].get("cx")) for p in by_class(root, "point")]
        self.assertEqual(xs, sorted(xs))

    def test_it_places_higher_totals_higher(self):
        root = parse(trend_svg("phq9", series(3, 7)))  # no reliable change, so circles
        low, high = (float(by_class(p, "marker")[0].get("cy")) for p in by_class(root, "point"))
        self.assertLess(high, low)

    def test_it_plots_cssrs_risk_as_ordinal(self):
        points = series("high", "moderate", 1, "none")
        points[0] = (points[0][0], "high", {"RISK_HIGH"})
        root = parse(trend_svg("cssrs", points))
        self.assertEqual([b.get("data-band") for b in by_class(root, "band")],
                         ["none", "low", "moderate", "high"])
        self.assertEqual([p.get("data-value") for p in by_class(root, "point")],
                         ["3", "2", "1", "0"])
        self.assertEqual(title_of(by_class(root, "point")[0]).split(";")[0],
                         "05.01.26: hohes Risiko")
        self.assertEqual(len(by_class(root, "flag-ring")), 1)
        self.assertEqual(by_class(root, "cutoff"), [])
        self.assertEqual(by_class(root, "change"), [])
        self.assertIn("Risikostufe", root.get("aria-label"))

    def test_it_escapes_text(self):
        points = [(dt.date(2026, 1, 5), 5, {'<script>alert("x")</script> & co'})]
        svg = trend_svg("phq9", points)
        self.assertNotIn("<script>", svg)
        root = parse(svg)
        self.assertIn('<script>alert("x")</script> & co', title_of(by_class(root, "point")[0]))

    def test_it_is_deterministic(self):
        points = series(18, 11, 4, 12, flags={"B", "A"})
        self.assertEqual(trend_svg("phq9", points), trend_svg("phq9", list(points)))

    def test_it_accepts_datetimes(self):
        root = parse(trend_svg("gad7", [(dt.datetime(2026, 3, 1, 9, 30), 4, set())]))
        self.assertEqual(by_class(root, "point")[0].get("data-date"), "2026-03-01")

    def test_it_respects_the_size(self):
        root = parse(trend_svg("gad7", series(4), width=800, height=300))
        self.assertEqual((root.get("width"), root.get("height")), ("800", "300"))
        self.assertEqual(root.get("viewBox"), "0 0 800 300")

    def test_it_rejects_invalid_input(self):
        day = dt.date(2026, 1, 5)
        cases = [
            ("bdi2", [(day, 5, set())], {}),
            ("phq9", [(day, 28, set())], {}),
            ("phq9", [(day, -1, set())], {}),
            ("phq9", [(day, True, set())], {}),
            ("phq9", [(day, 5.5, set())], {}),
            ("phq9", [(day, None, set())], {}),
            ("ors", [(day, "24.45", set())], {}),
            ("phq9", [("2026-01-05", 5, set())], {}),
            ("phq9", [(day, 5)], {}),
            ("phq9", [(day, 5, "ITEM9_POSITIVE")], {}),
            ("phq9", [(day, 5, set()), (day - dt.timedelta(days=1), 5, set())], {}),
            ("cssrs", [(day, "severe", set())], {}),
            ("cssrs", [(day, 4, set())], {}),
            ("cssrs", [(day, "high", set())], {"cutoff": 1}),
            ("pcl5", [(day, 5, set())], {"cutoff": 81}),
            ("phq9", [(day, 5, set())], {"width": 100}),
        ]
        for code, points, kwargs in cases:
            with self.subTest(code=code, points=points, kwargs=kwargs):
                with self.assertRaises(ValueError):
                    trend_svg(code, points, **kwargs)
