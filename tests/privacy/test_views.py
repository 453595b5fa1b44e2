"""Persona tests for every privacy view (tests/base.py): works, rejects the wrong method, 403 for
the wrong role, 404 for another practice; bad input: German message, 422, nothing saved."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from duktus.models import (
    AuditEntry,
    ErasureCertificate,
    ExportJob,
    PatientRestriction,
    PracticePrivacySettings,
    Role,
)
from duktus.privacy import erasure
from duktus.privacy import settings as privacy_settings
from patients.models import Patient
from tests.base import BaseTestCase, make_patient, make_user
from tests.privacy.helpers import IsolatedFilesMixin


class PrivacyViewsTestCase(IsolatedFilesMixin, BaseTestCase):
    def _job(self) -> ExportJob:
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(reverse("privacy:export_start", args=[self.patient.code]))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["Cache-Control"], "no-store")
        self.password = r.context["password"]
        return ExportJob.objects.get()

    def _certificate(self) -> ErasureCertificate:
        other = make_patient(self.practice, therapist=self.alice, last_name="Alt", treatment_start=dt.date(2010, 1, 1),
                             treatment_end=dt.date(2012, 5, 31))
        return erasure.erase(request=None, patient=other, actor=self.alice)

    def _check(self, url: str, *, ok: str, wrong: str, data: dict | None = None, wrong_role: object = None,
               ok_status: tuple[int, ...] = (200, 302)) -> None:
        """The four persona cases for one URL: `ok` method works, `wrong` method gets 405,
        the wrong role 403, a member of practice B 404."""
        call = getattr(self.client, ok)
        self.login(wrong_role or self.bob)
        self.assertEqual(call(url, data or {}).status_code, 403, url)
        self.login(self.charlie)
        self.assertIn(call(url, data or {}).status_code, (403, 404) if wrong_role else (404,), url)
        self.login(self.olga if wrong_role else self.alice)
        self.assertEqual(getattr(self.client, wrong)(url).status_code, 405, url)
        self.assertIn(call(url, data or {}).status_code, ok_status, url)

    def test_patient_page(self) -> None:
        url = reverse("privacy:patient", args=[self.patient.code])
        self._check(url, ok="get", wrong="post")
        r = self.client.get(url)
        self.assertContains(r, 'id="separate-parts"')
        self.assertContains(r, "Private Prozessnotizen: 0 Einträge")  # sessions: process notes listed separately
        self.assertTrue(AuditEntry.objects.filter(action="privacy.view", patient_pseudonym=self.patient.pseudonym).exists())

    def test_export_start(self) -> None:
        url = reverse("privacy:export_start", args=[self.patient.code])
        with self.captureOnCommitCallbacks(execute=True):
            self._check(url, ok="post", wrong="get")
        self.assertEqual(ExportJob.objects.count(), 1)  # only Alice's request created a job

    def test_export_status(self) -> None:
        job = self._job()
        url = reverse("privacy:export_status", args=[job.code])
        self._check(url, ok="get", wrong="post")
        r = self.client.get(url)
        self.assertContains(r, "100 %")
        self.assertNotContains(r, self.password)  # shown once, on the start page only
        self.assertFalse(AuditEntry.objects.filter(detail__contains=self.password).exists())
        other = make_user("theo@example.org", self.practice, Role.THERAPIST)
        self.login(other)
        self.assertEqual(self.client.get(url).status_code, 403)

    def test_export_download_method(self) -> None:
        job = self._job()
        url = reverse("privacy:export_download", args=[job.code])
        self.assertEqual(self.client.post(url).status_code, 405)
        self.login(self.bob)
        self.assertEqual(self.client.get(url).status_code, 403)
        self.login(self.charlie)
        self.assertEqual(self.client.get(url).status_code, 404)
        self.login(self.alice)
        self.assertEqual(self.client.get(url).status_code, 200)

    def test_restrict(self) -> None:
        url = reverse("privacy:restrict", args=[self.patient.code])
        self._check(url, ok="post", wrong="get", data={"reason": "Widerspruch nach Art. 21"})
        restriction = PatientRestriction.objects.get()
        restriction.__dict__["_duktus_patient"] = Patient.objects.select_related("data_key", "practice").get(pk=self.patient.pk)
        self.assertEqual(restriction.reason, "Widerspruch nach Art. 21")
        self.assertNotIn("Widerspruch", PatientRestriction.objects.values_list("reason_ct", flat=True).get())

    def test_restrict_bad_input(self) -> None:
        r = self.client.post(reverse("privacy:restrict", args=[self.patient.code]), {"reason": "  "})
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, "Bitte geben Sie eine Begründung an.", status_code=422)
        self.assertFalse(PatientRestriction.objects.exists())

    def test_lift_restriction(self) -> None:
        erasure.restrict(request=None, patient=self.patient, reason="Widerspruch")
        url = reverse("privacy:lift_restriction", args=[self.patient.code])
        self._check(url, ok="post", wrong="get")
        self.assertFalse(PatientRestriction.objects.exists())
        self.assertTrue(AuditEntry.objects.filter(action="privacy.restriction_lifted").exists())

    def test_erase(self) -> None:
        url = reverse("privacy:erase", args=[self.patient.code])
        self._check(url, ok="post", wrong="get", ok_status=(422,))  # refused during retention
        self.assertTrue(Patient.objects.filter(pk=self.patient.pk).exists())

    def test_force_bad_input(self) -> None:
        self.login(self.olga)
        r = self.client.post(reverse("privacy:erase", args=[self.patient.code]), {"force": "1", "reason": ""})
        self.assertContains(r, "Bitte dokumentieren Sie den Rechtsgrund", status_code=422)
        self.assertTrue(Patient.objects.filter(pk=self.patient.pk).exists())
        self.assertFalse(ErasureCertificate.objects.exists())

    def test_certificate(self) -> None:
        cert = self._certificate()
        url = reverse("privacy:certificate", args=[cert.code])
        self._check(url, ok="get", wrong="post")
        r = self.client.get(url + "?download=1")
        self.assertIn("attachment", r["Content-Disposition"])
        self.assertNotIn(b"<nav", r.content)  # standalone file
        self.assertContains(r, cert.patient_pseudonym)
        self.assertNotContains(r, "Alt")  # no name

    def test_retention_overview(self) -> None:
        url = reverse("privacy:retention")
        self._check(url, ok="get", wrong="post", wrong_role=self.alice)
        erasure.restrict(request=None, patient=self.patient, reason="Widerspruch")
        cert = self._certificate()
        r = self.client.get(url)
        self.assertContains(r, self.patient.pseudonym)
        self.assertContains(r, cert.patient_pseudonym)
        owner_b = make_user("bea@example.org", self.practice_b, Role.OWNER)
        self.login(owner_b)
        r = self.client.get(url)
        self.assertNotContains(r, self.patient.pseudonym)
        self.assertNotContains(r, cert.patient_pseudonym)

    def test_settings(self) -> None:
        url = reverse("privacy:settings")
        data = {"record_retention_years": 15, "audit_retention_years": 5, "backup_window_days": 14,
                "backup_note": "Nächtliche Sicherung, 14 Tage Rotation"}
        call_405 = self.client.put
        self.login(self.alice)
        self.assertEqual(self.client.post(url, data).status_code, 403)
        self.login(self.olga)
        self.assertEqual(call_405(url).status_code, 405)
        self.assertEqual(self.client.get(url).status_code, 200)
        self.assertRedirects(self.client.post(url, data), reverse("privacy:retention"))
        row = PracticePrivacySettings.objects.get(practice=self.practice)
        self.assertEqual((row.record_retention_years, row.backup_window_days), (15, 14))
        self.assertEqual(privacy_settings.record_years(self.practice), 15)
        self.assertEqual(privacy_settings.record_years(self.practice_b), 10)  # another practice: untouched
        self.assertTrue(AuditEntry.objects.filter(action="privacy.settings_changed").exists())

    def test_settings_never_below_the_legal_minimum(self) -> None:
        self.login(self.olga)
        r = self.client.post(reverse("privacy:settings"), {"record_retention_years": 9, "audit_retention_years": 5,
                                                           "backup_window_days": 30})
        self.assertContains(r, "gesetzliche Mindestfrist beträgt 10 Jahre", status_code=422)
        self.assertFalse(PracticePrivacySettings.objects.exists())
        # Even a row written around the form cannot shorten the period.
        PracticePrivacySettings.objects.create(practice=self.practice, record_retention_years=3)
        self.assertEqual(erasure.retention_years(self.practice), 10)

    def test_certificate_names_what_was_deleted(self) -> None:
        cert = self._certificate()
        r = self.client.get(reverse("privacy:certificate", args=[cert.code]))
        self.assertContains(r, "Stammdaten")
        self.assertContains(r, "Datenschlüssel der Patientin / des Patienten")
        self.assertNotContains(r, "duktus.AuditEntry")  # nothing deleted there: listed under "what remains"
