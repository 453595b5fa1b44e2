"""Crisis pathway: raise_crisis service, banner lifecycle, documentation, manual report."""

from __future__ import annotations

from django.urls import reverse

from duktus.models import AuditEntry
from patients.crisis import CrisisEvent, raise_crisis
from tests.assessments.helpers import PHQ9_ITEM9, make_administration, make_link, post_items
from tests.base import BaseTestCase


class RaiseCrisisTestCase(BaseTestCase):
    def test_it_is_idempotent_per_source_and_audited(self) -> None:
        first = raise_crisis(patient=self.patient, source="session_note", source_id="n-1", summary="Äußerung in Sitzung")
        again = raise_crisis(patient=self.patient, source="session_note", source_id="n-1", summary="anderer Text")
        self.assertEqual(first.pk, again.pk)
        self.assertEqual(CrisisEvent.objects.count(), 1)
        self.assertEqual(AuditEntry.objects.filter(action="crisis.raise").count(), 1)
        entry = AuditEntry.objects.get(action="crisis.raise")
        self.assertEqual(entry.patient_pseudonym, self.patient.pseudonym)
        self.assertNotIn("Äußerung", entry.detail)
        other = raise_crisis(patient=self.patient, source="session_note", source_id="n-2", summary="x")
        self.assertNotEqual(other.pk, first.pk)

    def test_documented_event_is_not_reopened(self) -> None:
        from patients.crisis import document_crisis
        from tests.assessments.helpers import fake_request

        event = raise_crisis(patient=self.patient, source="manual", source_id="m-1", summary="x")
        document_crisis(event=event, actions=["risk_assessment"], note="", request=fake_request(self.alice, self.practice))
        again = raise_crisis(patient=self.patient, source="manual", source_id="m-1", summary="x")
        self.assertEqual(again.status, "documented")

    def test_it_rejects_unknown_source(self) -> None:
        with self.assertRaises(ValueError):
            raise_crisis(patient=self.patient, source="email", source_id="1", summary="x")


class BannerLifecycleTestCase(BaseTestCase):
    def detail(self):  # type: ignore[no-untyped-def]
        return self.client.get(reverse("patients:detail", args=[self.patient.code]))

    def test_banner_appears_via_link_submission_and_stays_until_documented(self) -> None:
        self.assertNotContains(self.detail(), 'id="crisis-banner"')
        link, token = make_link(self.patient, self.alice)
        self.client.logout()
        self.client.post(reverse("assessments:fill", args=[token]), post_items(PHQ9_ITEM9))
        self.login(self.alice)
        r = self.detail()
        self.assertContains(r, 'id="crisis-banner"')
        self.assertContains(r, "Item 9")
        self.assertContains(r, "0800 111 0 111")
        self.assertContains(r, "eigene Risikoeinschätzung")
        self.assertContains(self.client.get("/"), 'id="crisis-banner"')
        # Another visit, another day: still there.
        self.assertContains(self.detail(), 'id="crisis-banner"')
        event = CrisisEvent.objects.get()
        url = reverse("patients:crisis_document", args=[self.patient.code, event.code])
        # 'no action' without a reason is refused.
        r = self.client.post(url, {"actions": ["no_action"], "note": "  "})
        self.assertContains(r, "Begründung erforderlich", status_code=422)
        self.assertContains(self.detail(), 'id="crisis-banner"')
        r = self.client.post(url, {"actions": ["no_action"], "note": "Item im Gespräch geklärt: Missverständnis (Müdigkeit)."})
        self.assertRedirects(r, reverse("patients:detail", args=[self.patient.code]), fetch_redirect_response=False)
        event.refresh_from_db()
        event.patient = self.patient
        self.assertEqual((event.status, event.actions, event.documented_by), ("documented", ["no_action"], self.alice))
        self.assertIn("Missverständnis", event.documentation)
        self.assertNotContains(self.detail(), 'id="crisis-banner"')
        self.assertNotContains(self.client.get("/"), 'id="crisis-banner"')
        self.assertTrue(AuditEntry.objects.filter(action="crisis.document").exists())

    def test_banner_appears_via_therapist_entry(self) -> None:
        self.client.post(reverse("assessments:record", args=[self.patient.code, "phq9"]),
                         {"administered_on": "2026-02-03", **post_items(PHQ9_ITEM9)})
        self.assertContains(self.detail(), 'id="crisis-banner"')

    def test_assistant_sees_no_banner(self) -> None:
        make_administration(self.patient, answers=PHQ9_ITEM9)
        self.login(self.bob)
        r = self.detail()
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, 'id="crisis-banner"')
        self.assertNotContains(r, "Item 9")


class CrisisDocumentTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.event = raise_crisis(patient=self.patient, source="manual", source_id="m-1", summary="Anruf der Schwester")
        self.url = reverse("patients:crisis_document", args=[self.patient.code, self.event.code])

    def test_it_works(self) -> None:
        r = self.client.get(self.url)
        self.assertContains(r, "Anruf der Schwester")
        self.assertContains(r, "Kein Handlungsbedarf")
        r = self.client.post(self.url, {"actions": ["risk_assessment", "safety_plan"], "note": ""})
        self.assertEqual(r.status_code, 302)
        self.event.refresh_from_db()
        self.assertEqual(self.event.status, "documented")

    def test_it_needs_an_action(self) -> None:
        r = self.client.post(self.url, {"note": "nur Text"})
        self.assertContains(r, "mindestens eine Maßnahme", status_code=422)

    def test_it_rejects_put(self) -> None:
        self.assertEqual(self.client.put(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url, {"actions": ["risk_assessment"]}).status_code, 403)
        self.event.refresh_from_db()
        self.assertEqual(self.event.status, "open")

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url, {"actions": ["risk_assessment"]}).status_code, 404)
        self.event.refresh_from_db()
        self.assertEqual(self.event.status, "open")


class CrisisRaiseViewTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.url = reverse("patients:crisis_raise", args=[self.patient.code])

    def test_it_works(self) -> None:
        self.assertEqual(self.client.post(self.url, {"summary": "Anruf: akute Krise"}).status_code, 302)
        event = CrisisEvent.objects.get()
        self.assertEqual((event.source, event.raised_by), ("manual", self.alice))

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url, {"summary": "x"}).status_code, 403)
        self.assertFalse(CrisisEvent.objects.exists())

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url, {"summary": "x"}).status_code, 404)
        self.assertFalse(CrisisEvent.objects.exists())
