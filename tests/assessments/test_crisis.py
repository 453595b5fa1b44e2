"""Crisis pathway: raise_crisis service, banner lifecycle, documentation, manual report."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from assessments.models import Notification

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
        self.assertEqual(self.client.get(self.url).status_code, 404)
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

    def test_get_shows_the_form(self) -> None:
        r = self.client.get(self.url)
        self.assertContains(r, 'id="crisis-raise-form"')
        self.assertContains(r, "niemanden automatisch")

    def test_empty_report_is_422_in_german_and_saves_nothing(self) -> None:
        r = self.client.post(self.url, {"summary": "   "})
        self.assertContains(r, "Bitte den Anlass angeben.", status_code=422)
        self.assertFalse(CrisisEvent.objects.exists())

    def test_it_rejects_put(self) -> None:
        self.assertEqual(self.client.put(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url, {"summary": "x"}).status_code, 403)
        self.assertEqual(self.client.get(self.url).status_code, 403)
        self.assertFalse(CrisisEvent.objects.exists())

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url, {"summary": "x"}).status_code, 404)
        self.assertFalse(CrisisEvent.objects.exists())


class DocumentedActionsTestCase(BaseTestCase):
    """Each documented action closes the banner; 'no action needed' only with a reason."""

    def test_each_action_closes_the_banner(self) -> None:
        detail = reverse("patients:detail", args=[self.patient.code])
        for n, (action, note) in enumerate((("risk_assessment", ""), ("safety_plan", ""), ("referral", "Klinik X, Aufnahme 14 Uhr"),
                                            ("no_action", "Item im Gespräch geklärt"))):
            with self.subTest(action=action):
                event = raise_crisis(patient=self.patient, source="manual", source_id=f"m-{n}", summary=f"Anlass {n}")
                self.assertContains(self.client.get(detail), f"Anlass {n}")
                url = reverse("patients:crisis_document", args=[self.patient.code, event.code])
                self.assertEqual(self.client.post(url, {"actions": [action], "note": note}).status_code, 302)
                event.refresh_from_db()
                event.patient = self.patient
                self.assertEqual((event.status, event.actions), ("documented", [action]))
                self.assertNotContains(self.client.get(detail), 'id="crisis-banner"')
                entry = AuditEntry.objects.filter(action="crisis.document").latest("id")
                self.assertEqual(entry.detail, action)
                self.assertNotIn("Klinik", entry.detail)

    def test_documented_event_cannot_be_documented_again(self) -> None:
        event = raise_crisis(patient=self.patient, source="manual", source_id="m-1", summary="x")
        url = reverse("patients:crisis_document", args=[self.patient.code, event.code])
        self.client.post(url, {"actions": ["risk_assessment"]})
        r = self.client.post(url, {"actions": ["no_action"], "note": "später"})
        self.assertEqual(r.status_code, 302)
        event.refresh_from_db()
        self.assertEqual(event.actions, ["risk_assessment"])

    def test_one_of_two_open_events_stays(self) -> None:
        first = raise_crisis(patient=self.patient, source="manual", source_id="m-1", summary="Erster Anlass")
        raise_crisis(patient=self.patient, source="manual", source_id="m-2", summary="Zweiter Anlass")
        self.client.post(reverse("patients:crisis_document", args=[self.patient.code, first.code]), {"actions": ["risk_assessment"]})
        for url in (reverse("patients:detail", args=[self.patient.code]), "/"):
            r = self.client.get(url)
            self.assertContains(r, 'id="crisis-banner"')
            self.assertContains(r, "Zweiter Anlass")
            self.assertNotContains(r, "Erster Anlass")

    def test_viewing_the_protocol_is_audited(self) -> None:
        event = raise_crisis(patient=self.patient, source="manual", source_id="m-1", summary="x")
        r = self.client.get(reverse("patients:crisis_document", args=[self.patient.code, event.code]))
        self.assertContains(r, "eigene Risikoeinschätzung")
        self.assertContains(r, 'href="tel:112"')
        self.assertTrue(AuditEntry.objects.filter(action="crisis.view", patient_pseudonym=self.patient.pseudonym).exists())


class NothingContactsAnyoneTestCase(BaseTestCase):
    """Escalation means the therapist is alerted and guided; nothing goes out on its own."""

    def test_risk_entry_by_the_therapist_sends_nothing(self) -> None:
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            self.client.post(reverse("assessments:record", args=[self.patient.code, "phq9"]),
                             {"administered_on": "2026-02-03", **post_items(PHQ9_ITEM9)})
        self.assertEqual(CrisisEvent.objects.count(), 1)
        self.assertEqual(mail.outbox, [])
        self.assertEqual(callbacks, [])
        self.assertFalse(Notification.objects.exists())

    def test_cssrs_high_raises_a_crisis_and_sends_nothing(self) -> None:
        high = {"administered_on": "2026-02-03", "q1": "yes", "q2": "yes", "q3": "yes", "q4": "no", "q5": "yes", "q6": "no"}
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(self.client.post(reverse("assessments:record", args=[self.patient.code, "cssrs"]), high).status_code, 302)
        event = CrisisEvent.objects.get()
        event.patient = self.patient
        self.assertIn("hohes Suizidrisiko", event.summary)
        self.assertEqual(mail.outbox, [])

    def test_risk_via_link_sends_only_the_contentless_notice(self) -> None:
        link, token = make_link(self.patient, self.alice)
        self.client.logout()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("assessments:fill", args=[token]), post_items(PHQ9_ITEM9))
        self.assertEqual([m.to for m in mail.outbox], [["alice@example.org"]])
        self.assertNotIn("Krise", mail.outbox[0].subject + mail.outbox[0].body)
        self.assertNotIn("Suizid", mail.outbox[0].subject + mail.outbox[0].body)
        self.assertEqual(Notification.objects.get().kind, "questionnaire_filled")


class DashboardBannerTestCase(BaseTestCase):
    def test_start_page_banner_shows_protocol_steps_and_numbers(self) -> None:
        make_administration(self.patient, answers=PHQ9_ITEM9)
        r = self.client.get("/")
        self.assertContains(r, 'id="crisis-banner"')
        self.assertContains(r, "eigene Risikoeinschätzung")
        self.assertContains(r, "Krisenplan gemeinsam erstellen")
        for number in ("112", "0800111 0111".replace(" ", ""), "08001110222"):
            self.assertContains(r, f'href="tel:{number}"')
