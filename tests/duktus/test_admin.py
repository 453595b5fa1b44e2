from __future__ import annotations

from django.contrib.auth import get_user_model

from tests.base import BaseTestCase, make_patient


class AdminTestCase(BaseTestCase):
    def test_admin_never_shows_decrypted_health_data(self) -> None:
        admin = get_user_model().objects.create_superuser("root@example.org", "root@example.org", "Admin-Passwort-123")
        make_patient(self.practice, first_name="Sichtbar", last_name="Niemals")
        self.login(admin)
        pages = ["/admin/patients/patient/", "/admin/duktus/auditentry/", "/admin/duktus/practice/"]
        from patients.models import Patient

        for p in Patient.objects.all():
            pages.append(f"/admin/patients/patient/{p.pk}/change/")
        for url in pages:
            r = self.client.get(url)
            self.assertEqual(r.status_code, 200, url)
            for secret in ("Sichtbar", "Niemals", "Anna", "Berger", "A123456780", "Lindenstraße"):
                self.assertNotContains(r, secret, msg_prefix=url)
        self.assertContains(self.client.get("/admin/patients/patient/"), self.patient.pseudonym)
