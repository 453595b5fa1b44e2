from __future__ import annotations

import datetime as dt

from django.urls import reverse

from duktus.models import AuditEntry
from patients.models import Patient
from tests.base import BaseTestCase, patient_form_data


class PatientCreateTestCase(BaseTestCase):
    url = reverse("patients:create")

    def test_it_works(self) -> None:
        r = self.client.post(self.url, patient_form_data(first_name="Lena", last_name="Krüger", insurance_number="a 123456780"))
        p = Patient.objects.exclude(pk=self.patient.pk).get()
        self.assertRedirects(r, reverse("patients:detail", args=[p.code]))
        p.practice = self.practice
        self.assertEqual((p.first_name, p.last_name, p.insurance_number), ("Lena", "Krüger", "A123456780"))
        self.assertEqual(p.therapist, self.alice)  # a therapist's new patient is theirs
        self.assertRegex(p.pseudonym, r"^[A-Z2-9]{4}-[A-Z2-9]{4}$")
        self.assertTrue(AuditEntry.objects.filter(action="patient.create", patient_pseudonym=p.pseudonym).exists())

    def test_get_shows_form(self) -> None:
        self.assertContains(self.client.get(self.url), "Krankenversichertennummer")

    def test_it_rejects_put(self) -> None:
        self.assertEqual(self.client.put(self.url).status_code, 405)

    def test_assistant_may_create_unassigned(self) -> None:
        self.login(self.bob)
        self.client.post(self.url, patient_form_data(last_name="Assistenz"))
        p = Patient.objects.exclude(pk=self.patient.pk).get()
        self.assertIsNone(p.therapist)

    def test_owner_assigns(self) -> None:
        self.login(self.olga)
        self.client.post(self.url, patient_form_data(therapist=str(self.alice.pk)))
        self.assertEqual(Patient.objects.exclude(pk=self.patient.pk).get().therapist, self.alice)

    def test_owner_cannot_assign_foreign_therapist(self) -> None:
        self.login(self.olga)
        r = self.client.post(self.url, patient_form_data(therapist=str(self.charlie.pk)))
        self.assertEqual(r.status_code, 422)
        self.assertEqual(Patient.objects.count(), 1)

    def assertRejected(self, data: dict, field_error: str) -> None:
        r = self.client.post(self.url, data)
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, field_error, status_code=422)
        self.assertContains(r, "Es wurde nichts gespeichert", status_code=422)
        self.assertEqual(Patient.objects.count(), 1)

    def test_wrong_kvnr_check_digit(self) -> None:
        self.assertRejected(patient_form_data(insurance_number="A123456781"), "Prüfziffer stimmt nicht")

    def test_gkv_requires_kvnr(self) -> None:
        self.assertRejected(patient_form_data(insurance_number=""), "ist die Krankenversichertennummer erforderlich")

    def test_future_birth_date(self) -> None:
        future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
        self.assertRejected(patient_form_data(birth_date=future), "nicht in der Zukunft")

    def test_minor_needs_guardian(self) -> None:
        self.assertRejected(patient_form_data(is_minor=True, birth_date=dt.date(2015, 1, 1)), "Sorgeberechtigte")

    def test_bad_postal_code_and_email(self) -> None:
        r = self.client.post(self.url, patient_form_data(postal_code="123", email="kein-mail"))
        self.assertContains(r, "5 Ziffern", status_code=422)
        self.assertContains(r, "gültige E-Mail", status_code=422)
        # What was typed stays in the form.
        self.assertContains(r, 'value="Anna"', status_code=422)
