"""Diagnoses, consents, approvals: every endpoint works, rejects GET, 403 for the assistant
(clinical ones), 404 for another practice."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.urls import reverse

from patients.models import Approval, ConsentRecord, Diagnosis
from patients.services import add_approval, add_diagnosis
from tests.base import BaseTestCase


class DiagnosisAddTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.url = reverse("patients:diagnosis_add", args=[self.patient.code])

    def data(self, **kw):  # type: ignore[no-untyped-def]
        return {"icd_code": "f32.1", "certainty": "G", "is_primary": "on", "diagnosed_on": "2026-02-01", "note": "Erstdiagnose", **kw}

    def test_it_works(self) -> None:
        r = self.client.post(self.url, self.data())
        self.assertRedirects(r, reverse("patients:detail", args=[self.patient.code]))
        d = Diagnosis.objects.get()
        d.patient = self.patient
        self.assertEqual((d.icd_code, d.certainty, d.is_primary, d.note), ("F32.1", "G", True, "Erstdiagnose"))
        self.assertIn("depressive Episode", d.title)
        self.assertContains(self.client.get(reverse("patients:detail", args=[self.patient.code])), "F32.1 G")

    def test_htmx_success_redirects_client(self) -> None:
        r = self.client.post(self.url, self.data(), headers={"HX-Request": "true"})
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["HX-Redirect"], reverse("patients:detail", args=[self.patient.code]))

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url, self.data()).status_code, 403)
        self.assertFalse(Diagnosis.objects.exists())

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url, self.data()).status_code, 404)
        self.assertFalse(Diagnosis.objects.exists())

    def test_unknown_code_is_rejected_in_german(self) -> None:
        r = self.client.post(self.url, self.data(icd_code="F99.9X"), headers={"HX-Request": "true"})
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, "Unbekannter ICD-10-GM-Code", status_code=422)
        self.assertContains(r, 'id="diagnoses"', status_code=422)
        self.assertFalse(Diagnosis.objects.exists())

    def test_non_terminal_code_is_rejected(self) -> None:
        r = self.client.post(self.url, self.data(icd_code="F32"))
        self.assertContains(r, "keine endständige", status_code=422)

    def test_new_primary_replaces_old_primary(self) -> None:
        self.client.post(self.url, self.data())
        self.client.post(self.url, self.data(icd_code="F41.1"))
        self.assertEqual(Diagnosis.objects.filter(is_primary=True).count(), 1)


class DiagnosisEndTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.diagnosis = add_diagnosis(patient=self.patient, icd_code="F41.1", icd_version=2025, certainty="G", is_primary=True, diagnosed_on=dt.date(2026, 1, 1))
        self.url = reverse("patients:diagnosis_end", args=[self.patient.code, self.diagnosis.code])

    def test_it_works(self) -> None:
        self.client.post(self.url)
        self.diagnosis.refresh_from_db()
        self.assertIsNotNone(self.diagnosis.ended_on)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url).status_code, 404)
        self.diagnosis.refresh_from_db()
        self.assertIsNone(self.diagnosis.ended_on)


class ConsentAddTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.url = reverse("patients:consent_add", args=[self.patient.code])

    def data(self, **kw):  # type: ignore[no-untyped-def]
        return {"purpose": "ai", "action": "given", "effective_on": "2026-02-01", "given_by": "patient", **kw}

    def test_it_works_and_has_ai_consent_follows_the_ledger(self) -> None:
        self.assertFalse(self.patient.has_ai_consent())
        self.client.post(self.url, self.data())
        self.assertTrue(self.patient.has_ai_consent())
        self.client.post(self.url, self.data(action="withdrawn"))
        self.assertFalse(self.patient.has_ai_consent())
        self.assertEqual(ConsentRecord.objects.count(), 2)
        rec = ConsentRecord.objects.first()
        self.assertEqual(rec.recorded_by, self.alice)

    def test_ledger_is_append_only(self) -> None:
        self.client.post(self.url, self.data())
        rec = ConsentRecord.objects.get()
        rec.patient = self.patient
        with self.assertRaises(ValidationError):
            rec.save()
        with self.assertRaises(ValidationError):
            rec.delete()

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url, self.data()).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url, self.data()).status_code, 404)
        self.assertFalse(ConsentRecord.objects.exists())

    def test_future_date_is_rejected(self) -> None:
        r = self.client.post(self.url, self.data(effective_on="2999-01-01"))
        self.assertContains(r, "nicht in der Zukunft", status_code=422)


class ApprovalTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.url = reverse("patients:approval_add", args=[self.patient.code])

    def data(self, **kw):  # type: ignore[no-untyped-def]
        return {"phase": "kzt1", "approved_sessions": "12", "approved_on": "2026-02-01", "sessions_used": "0", **kw}

    def test_it_works_for_assistant_too(self) -> None:
        self.login(self.bob)
        self.client.post(self.url, self.data())
        self.assertEqual(Approval.objects.get().approved_sessions, 12)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url, self.data()).status_code, 404)
        self.assertFalse(Approval.objects.exists())

    def test_used_cannot_exceed_approved(self) -> None:
        r = self.client.post(self.url, self.data(sessions_used="13"))
        self.assertContains(r, "nicht mehr Sitzungen", status_code=422)

    def test_warns_before_contingent_runs_out_and_at_conversion_point(self) -> None:
        add_approval(patient=self.patient, phase="kzt1", approved_sessions=12, approved_on=dt.date(2026, 1, 1), sessions_used=12)
        a2 = add_approval(patient=self.patient, phase="kzt2", approved_sessions=12, approved_on=dt.date(2026, 4, 1), sessions_used=2)
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertContains(r, "Kontingent ist ausgeschöpft")
        self.assertNotContains(r, "Umwandlung in Langzeittherapie")
        self.client.post(reverse("patients:approval_used", args=[self.patient.code, a2.code]), {"sessions_used": "10"})
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertContains(r, "Nur noch 2 bewilligte Sitzung(en)")
        self.assertContains(r, "Umwandlung in Langzeittherapie")

    def test_used_update_checks_ownership(self) -> None:
        a = add_approval(patient=self.patient, phase="kzt1", approved_sessions=12, approved_on=dt.date(2026, 1, 1))
        self.login(self.charlie)
        url = reverse("patients:approval_used", args=[self.patient.code, a.code])
        self.assertEqual(self.client.post(url, {"sessions_used": "3"}).status_code, 404)
        self.login(self.alice)
        self.assertEqual(self.client.get(url).status_code, 405)


class ICDSearchTestCase(BaseTestCase):
    url = reverse("patients:icd_search")

    def test_it_works(self) -> None:
        r = self.client.get(self.url, {"icd_code": "F32"})
        self.assertContains(r, 'value="F32.1"')

    def test_it_searches_titles(self) -> None:
        self.assertContains(self.client.get(self.url, {"q": "Posttraumatische"}), "F43.1")

    def test_it_rejects_post(self) -> None:
        self.assertEqual(self.client.post(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url, {"q": "F32"}).status_code, 403)
