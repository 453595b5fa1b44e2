"""Licences, schedules and notifications."""

from __future__ import annotations

import datetime as dt
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from assessments import services
from assessments.models import InstrumentLicence, Notification, Schedule
from tests.assessments.helpers import fake_request
from tests.base import BaseTestCase, make_patient

ISI_TEXTS = [f"Lizenzierter ISI-Text {n}" for n in range(1, 8)]


def upload(texts=ISI_TEXTS):  # type: ignore[no-untyped-def]
    return SimpleUploadedFile("isi.json", json.dumps(texts).encode(), content_type="application/json")


class LicencesTestCase(BaseTestCase):
    url = reverse("assessments:licences")

    def data(self, **kw):  # type: ignore[no-untyped-def]
        return {"instrument": "isi", "licence_note": "Mapi Research Trust, Lizenz 2026-17", "items_file": upload(), **kw}

    def test_it_works(self) -> None:
        self.login(self.olga)
        self.assertContains(self.client.get(self.url), "Papiereingabe")
        r = self.client.post(self.url, self.data())
        self.assertRedirects(r, self.url)
        lic = InstrumentLicence.objects.get()
        lic.practice = self.practice
        self.assertEqual((lic.item_texts, lic.recorded_by), (ISI_TEXTS, self.olga))
        with connection.cursor() as cur:
            cur.execute("SELECT item_texts_ct FROM assessments_instrumentlicence")
            self.assertNotIn("Lizenzierter", cur.fetchone()[0])
        # Electronic form and links are now on for ISI in this practice, not in practice B.
        self.login(self.alice)
        r = self.client.get(reverse("assessments:record", args=[self.patient.code, "isi"]))
        self.assertContains(r, "Lizenzierter ISI-Text 7")
        r = self.client.post(reverse("assessments:link_create", args=[self.patient.code]), {"instrument": "isi", "days": "3"})
        self.assertEqual(r.status_code, 200)
        self.login(self.charlie)
        other = make_patient(self.practice_b, therapist=self.charlie)
        self.assertNotContains(self.client.get(reverse("assessments:record", args=[other.code, "isi"])), "Lizenzierter")

    def test_invalid_file_is_rejected_in_german(self) -> None:
        self.login(self.olga)
        r = self.client.post(self.url, self.data(items_file=upload(ISI_TEXTS[:3])))
        self.assertContains(r, "Erwartet werden 7 Itemtexte, gefunden: 3.", status_code=422)
        r = self.client.post(self.url, self.data(instrument="phq9"))
        self.assertEqual(r.status_code, 422)
        self.assertFalse(InstrumentLicence.objects.exists())

    def test_it_rejects_put(self) -> None:
        self.assertEqual(self.client.put(self.url).status_code, 405)

    def test_only_owner_records(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 200)
        self.assertEqual(self.client.post(self.url, self.data()).status_code, 403)
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url).status_code, 403)
        self.assertFalse(InstrumentLicence.objects.exists())

    def test_remove(self) -> None:
        lic = services.record_licence(practice=self.practice, instrument="isi", licence_note="x", item_texts=tuple(ISI_TEXTS),
                                      request=fake_request(self.olga, self.practice))
        url = reverse("assessments:licence_remove", args=[lic.code])
        self.assertEqual(self.client.post(url).status_code, 403)  # Alice is no owner
        self.login(self.charlie)
        self.assertEqual(self.client.post(url).status_code, 404)
        self.login(self.olga)
        self.assertEqual(self.client.get(url).status_code, 405)
        self.assertEqual(self.client.post(url).status_code, 302)
        self.assertFalse(InstrumentLicence.objects.exists())


class ScheduleTestCase(BaseTestCase):
    def url(self) -> str:
        return reverse("assessments:schedule_set", args=[self.patient.code])

    def test_it_works(self) -> None:
        r = self.client.post(self.url(), {"instrument": "phq9", "interval_days": "28", "starts_on": "2026-03-01"})
        self.assertEqual(r.status_code, 302)
        s = Schedule.objects.get()
        self.assertEqual((s.instrument, s.interval_days, str(s.starts_on)), ("phq9", 28, "2026-03-01"))
        self.client.post(self.url(), {"instrument": "phq9", "interval_days": "14", "starts_on": "2026-03-01"})
        self.assertEqual(Schedule.objects.get().interval_days, 14)
        r = self.client.post(reverse("assessments:schedule_remove", args=[self.patient.code, s.code]))
        self.assertEqual(r.status_code, 302)
        self.assertFalse(Schedule.objects.exists())

    def test_remove_personas(self) -> None:
        s = services.set_schedule(patient=self.patient, instrument="phq9", interval_days=28, starts_on=dt.date(2026, 3, 1),
                                  request=fake_request(self.alice, self.practice))
        url = reverse("assessments:schedule_remove", args=[self.patient.code, s.code])
        self.assertEqual(self.client.get(url).status_code, 405)
        self.login(self.bob)
        self.assertEqual(self.client.post(url).status_code, 403)
        self.login(self.charlie)
        self.assertEqual(self.client.post(url).status_code, 404)
        own = make_patient(self.practice_b, therapist=self.charlie)
        self.assertEqual(self.client.post(reverse("assessments:schedule_remove", args=[own.code, s.code])).status_code, 404)
        self.assertTrue(Schedule.objects.exists())

    def test_invalid_is_422(self) -> None:
        r = self.client.post(self.url(), {"instrument": "phq9", "interval_days": "0"}, headers={"HX-Request": "true"})
        self.assertContains(r, 'id="schedules"', status_code=422)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), {"instrument": "phq9", "interval_days": "28", "starts_on": "2026-03-01"}).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), {"instrument": "phq9", "interval_days": "28", "starts_on": "2026-03-01"}).status_code, 404)
        self.assertFalse(Schedule.objects.exists())


class NotificationOpenTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.note = Notification.objects.create(practice=self.practice, recipient=self.alice, kind="questionnaire_filled", patient=self.patient)
        self.url = reverse("assessments:notification_open", args=[self.note.code])

    def test_it_works(self) -> None:
        r = self.client.get(self.url)
        self.assertRedirects(r, reverse("patients:detail", args=[self.patient.code]) + "#questionnaires", fetch_redirect_response=False)
        self.note.refresh_from_db()
        self.assertIsNotNone(self.note.read_at)

    def test_it_rejects_post(self) -> None:
        self.assertEqual(self.client.post(self.url).status_code, 405)

    def test_someone_elses_notification_is_404(self) -> None:
        for user in (self.olga, self.charlie):
            self.login(user)
            self.assertEqual(self.client.get(self.url).status_code, 404)
        self.note.refresh_from_db()
        self.assertIsNone(self.note.read_at)
