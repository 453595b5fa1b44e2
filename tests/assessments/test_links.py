"""Patient links: creation (token shown once, only its hash stored), the public form, expiry,
reuse, forgery, revocation, rate limit, notification without clinical content."""

from __future__ import annotations

import datetime as dt
import hashlib

import time_machine
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from assessments.models import Administration, Notification, PatientLink
from duktus.models import AuditEntry
from patients.crisis import CrisisEvent
from tests.assessments.helpers import PHQ9_CLEAN, PHQ9_ITEM9, make_link, post_items
from tests.base import BaseTestCase


class LinkCreateTestCase(BaseTestCase):
    def url(self) -> str:
        return reverse("assessments:link_create", args=[self.patient.code])

    def test_it_works(self) -> None:
        r = self.client.post(self.url(), {"instrument": "phq9", "days": "7"})
        self.assertEqual(r.status_code, 200)
        link = PatientLink.objects.get()
        html = r.content.decode()
        start = html.index("/fragebogen/ausfuellen/") + len("/fragebogen/ausfuellen/")
        token = html[start:html.index("/", start)]
        self.assertGreaterEqual(len(token), 40)
        self.assertEqual(link.token_hash, hashlib.sha256(token.encode()).hexdigest())
        self.assertNotIn(token, str(PatientLink.objects.values().get()))
        self.assertNotIn(token, "".join(AuditEntry.objects.values_list("detail", flat=True)))
        self.assertContains(r, 'id="link-qr"')
        self.assertContains(r, "<svg")
        self.assertEqual(r["Cache-Control"], "no-store")
        expires = link.expires_at - timezone.now()
        self.assertTrue(dt.timedelta(days=6, hours=23) < expires <= dt.timedelta(days=7))

    def test_licensed_instrument_needs_a_licence(self) -> None:
        r = self.client.post(self.url(), {"instrument": "isi", "days": "7"}, headers={"HX-Request": "true"})
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, 'id="links"', status_code=422)
        self.assertFalse(PatientLink.objects.exists())

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), {"instrument": "phq9", "days": "7"}).status_code, 403)
        self.assertFalse(PatientLink.objects.exists())

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), {"instrument": "phq9", "days": "7"}).status_code, 404)
        self.assertFalse(PatientLink.objects.exists())


class FillTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.link, self.token = make_link(self.patient, self.alice)
        self.client.logout()  # the patient has no login

    def url(self, token: str | None = None) -> str:
        return reverse("assessments:fill", args=[token or self.token])

    def assertDead(self, r) -> None:  # type: ignore[no-untyped-def]
        self.assertEqual(r.status_code, 404)
        self.assertContains(r, "Dieser Link ist nicht (mehr) gültig", status_code=404)
        self.assertNotContains(r, "Praxis A", status_code=404)
        self.assertNotContains(r, "<form", status_code=404)

    def test_it_shows_only_questionnaire_and_practice_name(self) -> None:
        r = self.client.get(self.url())
        self.assertContains(r, "Praxis A")
        self.assertContains(r, "Wenig Interesse oder Freude")
        self.assertContains(r, 'name="viewport"')
        for secret in ("Anna", "Berger", self.patient.pseudonym, "alice@example.org", "1981"):
            self.assertNotContains(r, secret)
        self.assertEqual(r["Referrer-Policy"], "same-origin")

    def test_submission_stores_result_and_kills_the_link(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(self.url(), post_items(PHQ9_CLEAN))
        self.assertContains(r, "Vielen Dank")
        self.assertNotContains(r, "112")
        a = Administration.objects.get()
        a.patient = self.patient
        self.assertEqual((a.source, a.total, a.answers), ("link", "4", PHQ9_CLEAN))
        self.link.refresh_from_db()
        self.assertIsNotNone(self.link.used_at)
        self.assertEqual(self.link.administration, a)
        self.assertDead(self.client.get(self.url()))
        self.assertDead(self.client.post(self.url(), post_items(PHQ9_CLEAN)))
        self.assertEqual(Administration.objects.count(), 1)

    def test_it_notifies_the_therapist_without_clinical_content(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(self.url(), post_items(PHQ9_ITEM9))
        note = Notification.objects.get()
        self.assertEqual((note.recipient, note.patient), (self.alice, self.patient))
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["alice@example.org"])
        self.assertEqual(message.subject, "Ein Fragebogen wurde ausgefüllt")
        text = message.subject + message.body
        for secret in ("Anna", "Berger", self.patient.pseudonym, "PHQ", "Summenwert", "Item", "mittelgradig", "Suizid", str(self.patient.code)):
            self.assertNotIn(secret, text)
        self.assertIn(reverse("assessments:notification_open", args=[note.code]), message.body)

    def test_risk_item_shows_emergency_numbers(self) -> None:
        r = self.client.post(self.url(), post_items(PHQ9_ITEM9))
        self.assertContains(r, 'id="risk-help"')
        self.assertContains(r, "112")
        self.assertContains(r, "0800 111 0 111")
        self.assertContains(r, "0800 111 0 222")
        self.assertContains(r, "nicht sofort")
        self.assertEqual(CrisisEvent.objects.filter(patient=self.patient, status="open").count(), 1)

    def test_risk_thank_you_page_offers_the_practice_phone(self) -> None:
        self.practice.phone = "030 1234567"
        self.practice.save(update_fields=["phone"])
        r = self.client.post(self.url(), post_items(PHQ9_ITEM9))
        self.assertContains(r, 'href="tel:0301234567"')
        self.assertContains(r, "spätestens bei Ihrem nächsten Termin")

    def test_invalid_answers_keep_the_link_open(self) -> None:
        r = self.client.post(self.url(), post_items(PHQ9_CLEAN[:5]))
        self.assertContains(r, "Item 6: Antwort fehlt.", status_code=422)
        self.link.refresh_from_db()
        self.assertIsNone(self.link.used_at)
        self.assertFalse(Administration.objects.exists())

    def test_expired_link_is_dead(self) -> None:
        with time_machine.travel(timezone.now() + dt.timedelta(days=7, minutes=1)):
            self.assertDead(self.client.get(self.url()))
            self.assertDead(self.client.post(self.url(), post_items(PHQ9_CLEAN)))
        with time_machine.travel(timezone.now() + dt.timedelta(days=6, hours=23)):
            self.assertEqual(self.client.get(self.url()).status_code, 200)
        self.assertFalse(Administration.objects.exists())

    def test_forged_token_is_dead(self) -> None:
        self.assertDead(self.client.get(self.url("x" * 43)))
        self.assertDead(self.client.get(self.url(self.token[:-1] + ("A" if self.token[-1] != "A" else "B"))))
        self.assertDead(self.client.get(self.url(self.link.token_hash)))  # the hash is not the token
        self.assertDead(self.client.get(self.url("x" * 500)))

    def test_revoked_link_is_dead(self) -> None:
        self.login(self.alice)
        r = self.client.post(reverse("assessments:link_revoke", args=[self.patient.code, self.link.code]))
        self.assertEqual(r.status_code, 302)
        self.client.logout()
        self.assertDead(self.client.get(self.url()))

    def test_it_rejects_put(self) -> None:
        self.assertEqual(self.client.put(self.url()).status_code, 405)

    @override_settings(ASSESSMENTS_LINK_RATE=(3, 600))
    def test_it_is_rate_limited_per_ip(self) -> None:
        for _ in range(3):
            self.assertEqual(self.client.get(self.url("forged-token")).status_code, 404)
        r = self.client.get(self.url())
        self.assertEqual(r.status_code, 429)
        self.assertContains(r, "Zu viele Anfragen", status_code=429)
        other_ip = self.client.get(self.url(), REMOTE_ADDR="10.0.0.9")
        self.assertEqual(other_ip.status_code, 200)

    def test_licensed_instrument_link_dies_when_licence_is_removed(self) -> None:
        from assessments import services
        from tests.assessments.helpers import fake_request

        licence = services.record_licence(practice=self.practice, instrument="isi", licence_note="Mapi 2026-001",
                                          item_texts=tuple(f"Lizenztext {n}" for n in range(1, 8)), request=fake_request(self.olga, self.practice))
        link, token = make_link(self.patient, self.alice, instrument="isi")
        r = self.client.get(self.url(token))
        self.assertContains(r, "Lizenztext 7")
        services.remove_licence(licence=licence, request=fake_request(self.olga, self.practice))
        self.assertDead(self.client.get(self.url(token)))


class LinkRevokeTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.link, self.token = make_link(self.patient, self.alice)

    def url(self) -> str:
        return reverse("assessments:link_revoke", args=[self.patient.code, self.link.code])

    def test_it_works(self) -> None:
        self.assertEqual(self.client.post(self.url()).status_code, 302)
        self.link.refresh_from_db()
        self.assertIsNotNone(self.link.revoked_at)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url()).status_code, 403)
        self.link.refresh_from_db()
        self.assertIsNone(self.link.revoked_at)

    def test_another_practices_link_is_404(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url()).status_code, 404)
        # Even through one of Charlie's own patients, Alice's link is not found.
        from tests.base import make_patient

        own = make_patient(self.practice_b, therapist=self.charlie)
        r = self.client.post(reverse("assessments:link_revoke", args=[own.code, self.link.code]))
        self.assertEqual(r.status_code, 404)
        self.link.refresh_from_db()
        self.assertIsNone(self.link.revoked_at)


class OtherPracticeLinkTestCase(BaseTestCase):
    """A link belongs to one practice: it shows that practice's name, stores into that
    practice's patient and notifies only that practice's therapist."""

    def setUp(self) -> None:
        super().setUp()
        from tests.base import make_patient

        self.other = make_patient(self.practice_b, therapist=self.charlie, first_name="Bernd", last_name="Kowalski")
        self.link_b, self.token_b = make_link(self.other, self.charlie)

    def test_a_link_of_practice_b_is_practice_b_only(self) -> None:
        # Alice (practice A) is logged in in this browser: the public page does not care.
        r = self.client.get(reverse("assessments:fill", args=[self.token_b]))
        self.assertContains(r, "Praxis B")
        self.assertNotContains(r, "Praxis A")
        for secret in ("Bernd", "Kowalski", "Anna", "Berger"):
            self.assertNotContains(r, secret)
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(reverse("assessments:fill", args=[self.token_b]), post_items(PHQ9_ITEM9))
        self.assertContains(r, "Praxis B")
        a = Administration.objects.get()
        self.assertEqual(a.patient_id, self.other.pk)
        self.assertEqual(list(Notification.objects.values_list("recipient__email", flat=True)), ["charlie@example.org"])
        self.assertEqual([m.to for m in mail.outbox], [["charlie@example.org"]])
        # Practice A sees neither the banner nor the notification.
        self.assertNotContains(self.client.get("/"), 'id="crisis-banner"')
        self.assertNotContains(self.client.get("/"), "Ein Fragebogen wurde ausgefüllt")
        self.login(self.charlie)
        self.assertContains(self.client.get("/"), "Kowalski, Bernd")

    def test_practice_a_cannot_see_or_revoke_practice_b_links(self) -> None:
        r = self.client.post(reverse("assessments:link_revoke", args=[self.other.code, self.link_b.code]))
        self.assertEqual(r.status_code, 404)
        r = self.client.post(reverse("assessments:link_revoke", args=[self.patient.code, self.link_b.code]))
        self.assertEqual(r.status_code, 404)
        self.assertNotContains(self.client.get(reverse("patients:detail", args=[self.patient.code])), str(self.link_b.code))
        self.link_b.refresh_from_db()
        self.assertEqual(self.link_b.status, "open")


class TokenTestCase(BaseTestCase):
    def test_tokens_are_long_random_and_url_safe(self) -> None:
        import re

        tokens = [make_link(self.patient, self.alice)[1] for _ in range(20)]
        self.assertEqual(len(set(tokens)), 20)
        for token in tokens:
            self.assertRegex(token, re.compile(r"^[A-Za-z0-9_-]{43,}$"))
        stored = set(PatientLink.objects.values_list("token_hash", flat=True))
        self.assertFalse(stored & set(tokens))

    def test_each_link_is_single_use_on_its_own(self) -> None:
        first, token1 = make_link(self.patient, self.alice)
        second, token2 = make_link(self.patient, self.alice)
        self.client.logout()
        self.assertContains(self.client.post(reverse("assessments:fill", args=[token1]), post_items(PHQ9_CLEAN)), "Vielen Dank")
        self.assertEqual(self.client.post(reverse("assessments:fill", args=[token1]), post_items(PHQ9_CLEAN)).status_code, 404)
        self.assertContains(self.client.post(reverse("assessments:fill", args=[token2]), post_items(PHQ9_CLEAN)), "Vielen Dank")
        self.assertEqual(Administration.objects.count(), 2)

    def test_error_and_thank_you_pages_show_no_patient_data(self) -> None:
        link, token = make_link(self.patient, self.alice)
        self.client.logout()
        url = reverse("assessments:fill", args=[token])
        bad = self.client.post(url, post_items([9] * 9))
        self.assertContains(bad, "Item 1: Wert 9 liegt außerhalb von 0–3.", status_code=422)
        good = self.client.post(url, post_items(PHQ9_ITEM9))
        for r in (bad, good):
            for secret in ("Anna", "Berger", self.patient.pseudonym, "alice@example.org", "Summenwert", "mittelgradig"):
                self.assertNotContains(r, secret, status_code=r.status_code)

    def test_submissions_count_towards_the_rate_limit(self) -> None:
        link, token = make_link(self.patient, self.alice)
        self.client.logout()
        url = reverse("assessments:fill", args=[token])
        with override_settings(ASSESSMENTS_LINK_RATE=(2, 600)):
            self.client.post(url, post_items([9] * 9))
            self.client.post(url, post_items([9] * 9))
            self.assertEqual(self.client.post(url, post_items(PHQ9_CLEAN)).status_code, 429)
        self.assertFalse(Administration.objects.exists())


class LinkEmailTestCase(BaseTestCase):
    def url(self) -> str:
        return reverse("assessments:link_create", args=[self.patient.code])

    def test_it_mails_the_link_to_the_patient_without_clinical_content(self) -> None:
        r = self.client.post(self.url(), {"instrument": "phq9", "days": "7", "send_email": "on"})
        self.assertContains(r, "per E-Mail an anna.berger@example.org gesendet")
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual((message.to, message.subject), (["anna.berger@example.org"], "Fragebogen von Praxis A"))
        for secret in ("PHQ", "Depress", "Anna", "Berger", self.patient.pseudonym):
            self.assertNotIn(secret, message.subject + message.body)
        start = message.body.index("/fragebogen/ausfuellen/")
        path = message.body[start:message.body.index("\n", start)]
        self.assertTrue(AuditEntry.objects.filter(action="assessment.link_email").exists())
        self.client.logout()
        self.assertContains(self.client.get(path), "Wenig Interesse oder Freude")

    def test_without_an_address_it_is_422_and_no_link(self) -> None:
        from tests.base import make_patient

        patient = make_patient(self.practice, therapist=self.alice, email="")
        r = self.client.post(reverse("assessments:link_create", args=[patient.code]), {"instrument": "phq9", "days": "7", "send_email": "on"})
        self.assertContains(r, "keine E-Mail-Adresse hinterlegt", status_code=422)
        self.assertFalse(PatientLink.objects.exists())
        self.assertEqual(mail.outbox, [])

    def test_a_failing_mail_server_still_shows_the_link(self) -> None:
        from unittest import mock

        with mock.patch("django.core.mail.send_mail", side_effect=OSError("connection refused")):
            r = self.client.post(self.url(), {"instrument": "phq9", "days": "7", "send_email": "on"})
        self.assertContains(r, 'id="link-email-failed"')
        self.assertContains(r, 'id="link-qr"')
        self.assertFalse(AuditEntry.objects.filter(action="assessment.link_email").exists())

    def test_without_the_box_nothing_is_sent(self) -> None:
        self.client.post(self.url(), {"instrument": "phq9", "days": "7"})
        self.assertEqual(mail.outbox, [])
