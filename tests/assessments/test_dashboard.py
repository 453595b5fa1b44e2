"""The start page: risk flags, due questionnaires, reliable deterioration, inbox; assistants see
only non-clinical items; the query count does not grow with patients."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services
from assessments.models import Notification
from patients.crisis import raise_crisis
from patients.services import add_approval
from tests.assessments.helpers import PHQ9_ITEM9, fake_request, make_administration, make_link
from tests.base import BaseTestCase, make_patient

URL = "/"


class DashboardTestCase(BaseTestCase):
    def test_it_works(self) -> None:
        r = self.client.get(URL)
        self.assertEqual(r.status_code, 200)
        for section in ("inbox", "due", "deteriorations", "approval-warnings"):
            self.assertContains(r, f'id="{section}"')

    def test_it_requires_login(self) -> None:
        self.client.logout()
        r = self.client.get(URL)
        self.assertEqual(r.status_code, 302)
        self.assertIn("/accounts/login/", r["Location"])

    def test_it_rejects_post(self) -> None:
        self.assertEqual(self.client.post(URL).status_code, 405)

    def test_it_lists_open_risk_flags(self) -> None:
        make_administration(self.patient, answers=PHQ9_ITEM9)
        r = self.client.get(URL)
        self.assertContains(r, 'id="crisis-banner"')
        self.assertContains(r, "Berger, Anna")
        self.assertContains(r, "Vorgehen dokumentieren")

    def test_it_lists_reliable_deterioration_of_the_latest_administration(self) -> None:
        make_administration(self.patient, answers=[0, 0, 0, 1, 1, 1, 0, 0, 0], day=dt.date(2026, 1, 5))  # 3
        make_administration(self.patient, answers=[2, 2, 1, 1, 1, 1, 1, 1, 0], day=dt.date(2026, 2, 5))  # 10
        r = self.client.get(URL)
        self.assertContains(r, "PHQ-9: reliable Verschlechterung (-7 Punkte)")
        make_administration(self.patient, answers=[2, 2, 1, 1, 1, 1, 1, 1, 0], day=dt.date(2026, 2, 20))  # stable
        self.assertNotContains(self.client.get(URL), "reliable Verschlechterung (")

    def test_it_lists_due_questionnaires(self) -> None:
        request = fake_request(self.alice, self.practice)
        services.set_schedule(patient=self.patient, instrument="phq9", interval_days=28, starts_on=dt.date(2026, 1, 1), request=request)
        r = self.client.get(URL)
        self.assertContains(r, "PHQ-9 fällig seit 01.01.2026")
        make_administration(self.patient, day=dt.date.today())
        self.assertNotContains(self.client.get(URL), "PHQ-9 fällig")

    def test_it_shows_unread_notifications(self) -> None:
        link, token = make_link(self.patient, self.alice)
        self.client.post(reverse("assessments:fill", args=[token]), {f"item_{n}": "0" for n in range(1, 10)})
        self.assertContains(self.client.get(URL), "Ein Fragebogen wurde ausgefüllt")

    def test_assistant_sees_only_non_clinical_items(self) -> None:
        make_administration(self.patient, answers=PHQ9_ITEM9)
        add_approval(patient=self.patient, phase="kzt1", approved_sessions=12, approved_on=dt.date(2026, 1, 5), sessions_used=11)
        self.login(self.bob)
        r = self.client.get(URL)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'id="approval-warnings"')
        self.assertContains(r, "Nur noch 1 bewilligte Sitzung")
        for clinical in ('id="crisis-banner"', 'id="due"', 'id="deteriorations"', 'id="inbox"', "Item 9"):
            self.assertNotContains(r, clinical)

    def test_it_isolates_practices(self) -> None:
        make_administration(self.patient, answers=PHQ9_ITEM9)
        self.login(self.charlie)
        r = self.client.get(URL)
        self.assertNotContains(r, "Berger")
        self.assertNotContains(r, 'id="crisis-banner"')

    def _populate(self, start: int, n: int) -> None:
        request = fake_request(self.alice, self.practice)
        for i in range(start, start + n):
            p = make_patient(self.practice, therapist=self.alice, last_name=f"Muster{i}")
            make_administration(p, answers=[0, 0, 0, 1, 1, 1, 0, 0, 0], day=dt.date(2026, 1, 5))
            make_administration(p, answers=[2, 2, 1, 1, 1, 1, 1, 1, 1], day=dt.date(2026, 2, 5))
            services.set_schedule(patient=p, instrument="gad7", interval_days=14, starts_on=dt.date(2026, 1, 1), request=request)
            raise_crisis(patient=p, source="manual", source_id=f"m-{p.pk}", summary="x")
            add_approval(patient=p, phase="kzt1", approved_sessions=12, approved_on=dt.date(2026, 1, 5), sessions_used=11)
            Notification.objects.create(practice=self.practice, recipient=self.alice, kind="questionnaire_filled", patient=p)

    def test_query_count_does_not_grow_with_patients(self) -> None:
        for offset, user in ((0, self.alice), (10, self.bob)):
            self.login(user)
            self._populate(offset, 2)
            with CaptureQueriesContext(connection) as before:
                r = self.client.get(URL)
            self.assertContains(r, f"Muster{offset + 1},")
            self._populate(offset + 2, 4)
            with CaptureQueriesContext(connection) as after:
                r = self.client.get(URL)
            self.assertContains(r, f"Muster{offset + 5},")
            self.assertEqual(len(before), len(after), user.email)
