from __future__ import annotations

from django.urls import reverse

from duktus.models import AuditEntry
from tests.base import BaseTestCase, make_patient


class PatientDetailTestCase(BaseTestCase):
    def url(self, patient=None) -> str:  # type: ignore[no-untyped-def]
        return reverse("patients:detail", args=[(patient or self.patient).code])

    def test_it_works(self) -> None:
        r = self.client.get(self.url())
        self.assertContains(r, "Anna Berger")
        self.assertContains(r, "B150381")  # KBV Chiffre
        self.assertContains(r, "Zugriffsprotokoll")
        self.assertContains(r, "Diagnosen")

    def test_it_rejects_post(self) -> None:
        self.assertEqual(self.client.post(self.url()).status_code, 405)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url()).status_code, 404)

    def test_unknown_code_is_404(self) -> None:
        self.assertEqual(self.client.get(reverse("patients:detail", args=["00000000-0000-0000-0000-000000000000"])).status_code, 404)

    def test_unassigned_therapist_gets_403(self) -> None:
        other = make_patient(self.practice, therapist=self.olga, last_name="Andere")
        self.assertEqual(self.client.get(self.url(other)).status_code, 403)

    def test_assistant_sees_no_clinical_content(self) -> None:
        self.login(self.bob)
        r = self.client.get(self.url())
        self.assertContains(r, "Stammdaten")
        self.assertContains(r, "Bewilligungen")
        self.assertNotContains(r, "Diagnosen")
        self.assertNotContains(r, "Zugriffsprotokoll")
        self.assertNotContains(r, "Einwilligungen")

    def test_it_audits_the_view_with_pseudonym_only(self) -> None:
        self.client.get(self.url())
        entry = AuditEntry.objects.filter(action="patient.view").latest("id")
        self.assertEqual(entry.patient_pseudonym, self.patient.pseudonym)
        self.assertEqual(entry.actor, self.alice)
        self.assertEqual(entry.ip, "127.0.0.1")
        self.assertNotIn("Berger", entry.detail + entry.object_id)
        # The access log on the page shows it.
        self.assertContains(self.client.get(self.url()), "patient.view")

    def test_clinician_without_totp_is_sent_to_setup(self) -> None:
        from allauth.mfa.models import Authenticator

        Authenticator.objects.filter(user=self.alice).delete()
        r = self.client.get(self.url())
        self.assertEqual(r.status_code, 302)
        self.assertEqual(r["Location"], reverse("mfa_activate_totp"))

    def test_user_without_practice_gets_403(self) -> None:
        from tests.base import make_user

        self.login(make_user("nobody@example.org"))
        self.assertEqual(self.client.get(self.url()).status_code, 403)


class DetailIdsTestCase(BaseTestCase):
    def test_form_field_ids_are_unique(self) -> None:
        import re

        html = self.client.get(reverse("patients:detail", args=[self.patient.code])).content.decode()
        ids = re.findall(r'\bid="([^"]+)"', html)
        self.assertEqual(sorted({i for i in ids if ids.count(i) > 1}), [])
