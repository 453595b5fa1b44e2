from __future__ import annotations

from django.urls import reverse

from patients.models import Patient
from tests.base import BaseTestCase, patient_form_data


class PatientEditTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.url = reverse("patients:edit", args=[self.patient.code])

    def reload(self) -> Patient:
        p = Patient.objects.get(pk=self.patient.pk)
        p.practice = self.practice
        return p

    def test_it_works(self) -> None:
        r = self.client.post(self.url, patient_form_data(last_name="Berger-Lang", city="Potsdam"))
        self.assertRedirects(r, reverse("patients:detail", args=[self.patient.code]))
        p = self.reload()
        self.assertEqual((p.last_name, p.city), ("Berger-Lang", "Potsdam"))
        self.assertEqual(self.client.post(reverse("patients:list"), {"q": "Lang"}).status_code, 200)
        self.assertContains(self.client.post(reverse("patients:list"), {"q": "Lang"}), "Berger-Lang")

    def test_get_prefills(self) -> None:
        r = self.client.get(self.url)
        self.assertContains(r, 'value="Berger"')
        self.assertContains(r, 'value="1981-03-15"')

    def test_it_rejects_delete(self) -> None:
        self.assertEqual(self.client.delete(self.url).status_code, 405)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        r = self.client.post(self.url, patient_form_data(last_name="Gehackt"))
        self.assertEqual(r.status_code, 404)
        self.assertEqual(self.reload().last_name, "Berger")

    def test_invalid_input_saves_nothing(self) -> None:
        r = self.client.post(self.url, patient_form_data(last_name="Neu", insurance_number="X000000001"))
        self.assertEqual(r.status_code, 422)
        self.assertEqual(self.reload().last_name, "Berger")

    def test_owner_reassigns(self) -> None:
        self.login(self.olga)
        self.client.post(self.url, patient_form_data(therapist=str(self.olga.pk)))
        self.assertEqual(self.reload().therapist, self.olga)

    def test_therapist_cannot_reassign(self) -> None:
        self.client.post(self.url, patient_form_data(therapist=str(self.olga.pk)))
        self.assertEqual(self.reload().therapist, self.alice)
