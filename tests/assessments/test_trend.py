"""Trend page and the overview on the patient page (parsed SVG)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from django.urls import reverse

from tests.assessments.helpers import make_administration
from tests.base import BaseTestCase

SVG_NS = "{http://www.w3.org/2000/svg}"


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="trend.*?</svg>', html, re.S)]


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in e.get("class", "").split()]


class PatientPageChartsTestCase(BaseTestCase):
    def test_overview_shows_one_chart_per_instrument_with_reliable_change(self) -> None:
        make_administration(self.patient, answers=[3, 3, 3, 2, 2, 2, 2, 1, 0], day=dt.date(2026, 1, 10))  # 18
        make_administration(self.patient, answers=[1, 1, 1, 1, 1, 1, 1, 1, 0], day=dt.date(2026, 2, 10))  # 8
        make_administration(self.patient, "gad7", answers=[1, 1, 1, 1, 1, 1, 1], day=dt.date(2026, 2, 10))
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertContains(r, 'id="questionnaires"')
        charts = svgs(r.content.decode())
        self.assertEqual([c.get("class") for c in charts], ["trend trend-phq9", "trend trend-gad7"])
        phq = charts[0]
        points = by_class(phq, "point")
        self.assertEqual([p.get("data-value") for p in points], ["18", "8"])
        self.assertEqual([p.get("data-date") for p in points], ["2026-01-10", "2026-02-10"])
        self.assertEqual(len(by_class(phq, "reliable-improvement")), 2)  # segment + marker
        self.assertEqual(by_class(phq, "cutoff")[0].get("data-value"), "10")
        self.assertEqual(len(by_class(phq, "band")), 5)

    def test_back_dated_entry_recomputes_change(self) -> None:
        make_administration(self.patient, answers=[1] * 8 + [0], day=dt.date(2026, 2, 10))  # 8
        make_administration(self.patient, answers=[3, 3, 3, 2, 2, 2, 2, 1, 0], day=dt.date(2026, 1, 10))  # 18, earlier
        r = self.client.get(reverse("assessments:trend", args=[self.patient.code, "phq9"]))
        (chart,) = svgs(r.content.decode())
        self.assertEqual([p.get("data-value") for p in by_class(chart, "point")], ["18", "8"])
        self.assertEqual(len(by_class(chart, "reliable-improvement")), 2)

    def test_cssrs_is_charted_as_risk_level(self) -> None:
        make_administration(self.patient, "cssrs", answers={"q1": True, "q2": False, "q6": False})
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        (chart,) = svgs(r.content.decode())
        self.assertEqual(by_class(chart, "point")[0].get("data-value"), "1")

    def test_assistant_sees_no_questionnaires(self) -> None:
        make_administration(self.patient)
        self.login(self.bob)
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertNotContains(r, 'id="questionnaires"')
        self.assertNotContains(r, "<svg")


class TrendTestCase(BaseTestCase):
    def url(self, instrument: str = "phq9") -> str:
        return reverse("assessments:trend", args=[self.patient.code, instrument])

    def test_it_works(self) -> None:
        make_administration(self.patient, answers=[1] * 8 + [2])
        r = self.client.get(self.url())
        self.assertContains(r, "PHQ-9 – Verlauf")
        self.assertContains(r, "Gedanken, dass Sie lieber tot wären")  # item-level answers
        self.assertContains(r, "2 – An mehr als der Hälfte der Tage")
        (chart,) = svgs(r.content.decode())
        self.assertEqual(len(by_class(chart, "flag-ring")), 1)
        self.assertContains(r, "(+ = besser)")  # a drop from 19 to 5 is shown as +14: say which way is good

    def test_empty_series(self) -> None:
        self.assertContains(self.client.get(self.url("gad7")), "Noch keine Messungen")

    def test_it_rejects_post(self) -> None:
        self.assertEqual(self.client.post(self.url()).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url()).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url()).status_code, 404)


class SeriesChangeFlagsTestCase(BaseTestCase):
    """Reliable change is judged against the previous administration; response and remission
    against the first one (baseline), as NCQA defines them."""

    def series(self, *totals: int) -> list:  # type: ignore[type-arg]
        from assessments.queries import administrations

        for n, total in enumerate(totals):
            answers = [min(3, max(0, total - 3 * i)) for i in range(9)]
            assert sum(answers) == total
            make_administration(self.patient, answers=answers, day=dt.date(2026, 1, 5) + dt.timedelta(days=14 * n))
        return [set(a.change_flags) for a in administrations(self.patient, "phq9")]

    def test_response_is_measured_from_baseline(self) -> None:
        flags = self.series(20, 14, 9)
        self.assertEqual(flags[1], {"RELIABLE_IMPROVEMENT", "MINIMAL_IMPORTANT_CHANGE"})
        self.assertEqual(flags[2], {"RESPONSE", "MINIMAL_IMPORTANT_CHANGE"})  # 14→9 is 5; 20→9 is 55 %

    def test_remission_is_measured_from_baseline(self) -> None:
        flags = self.series(12, 6, 4)
        self.assertIn("REMISSION", flags[2])  # previous visit 6 is below caseness, baseline 12 is not
        self.assertIn("RESPONSE", flags[2])
        self.assertNotIn("RELIABLE_IMPROVEMENT", flags[2])  # 6→4

    def test_no_remission_without_a_depressed_baseline(self) -> None:
        flags = self.series(8, 3)
        self.assertEqual(flags[1], {"MINIMAL_IMPORTANT_CHANGE"})
