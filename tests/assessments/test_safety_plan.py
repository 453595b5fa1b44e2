from __future__ import annotations

from django.db import connection
from django.urls import reverse

from patients.crisis import SafetyPlan
from tests.base import BaseTestCase


def plan_data(**kw):  # type: ignore[no-untyped-def]
    return {"warning_signs": "Rückzug, Schlaflosigkeit", "coping_strategies": "Spaziergang, Musik",
            "people_places": "Schwester Maria 0170 1234567", "professional_contacts": "Praxis, Krisendienst",
            "means_restriction": "Medikamente bei der Schwester", **kw}


class SafetyPlanTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.url = reverse("patients:safety_plan", args=[self.patient.code])

    def test_it_works(self) -> None:
        self.assertContains(self.client.get(self.url), "Warnzeichen")
        r = self.client.post(self.url, plan_data())
        self.assertRedirects(r, self.url)
        plan = SafetyPlan.objects.get()
        plan.patient = self.patient
        self.assertEqual(plan.people_places, "Schwester Maria 0170 1234567")
        with connection.cursor() as cur:
            cur.execute("SELECT warning_signs_ct FROM patients_safetyplan")
            self.assertNotIn("Rückzug", cur.fetchone()[0])
        # Editing updates the one plan.
        self.client.post(self.url, plan_data(warning_signs="neu"))
        self.assertEqual(SafetyPlan.objects.count(), 1)
        self.assertContains(self.client.get(self.url), "neu")

    def test_empty_plan_is_rejected(self) -> None:
        r = self.client.post(self.url, {})
        self.assertContains(r, "mindestens einen Abschnitt", status_code=422)

    def test_it_rejects_put(self) -> None:
        self.assertEqual(self.client.put(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url).status_code, 403)
        self.assertEqual(self.client.post(self.url, plan_data()).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.client.post(self.url, plan_data())
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url).status_code, 404)
        self.assertEqual(self.client.post(self.url, plan_data(warning_signs="fremd")).status_code, 404)
        plan = SafetyPlan.objects.get()
        plan.patient = self.patient
        self.assertEqual(plan.warning_signs, "Rückzug, Schlaflosigkeit")

    def test_every_section_is_stored_encrypted_and_audited(self) -> None:
        from duktus.models import AuditEntry

        self.client.post(self.url, plan_data())
        columns = [f"{f}_ct" for f in SafetyPlan.FIELDS]
        with connection.cursor() as cur:
            cur.execute(f"SELECT {', '.join(columns)} FROM patients_safetyplan")
            row = cur.fetchone()
        for column, plain in zip(row, plan_data().values()):
            self.assertTrue(column.startswith("gAAAA"))
            self.assertNotIn(plain.split()[0], column)
        self.client.get(self.url)
        self.client.get(reverse("patients:safety_plan_print", args=[self.patient.code]))
        actions = set(AuditEntry.objects.filter(patient_pseudonym=self.patient.pseudonym).values_list("action", flat=True))
        self.assertTrue({"safety_plan.create", "safety_plan.view", "safety_plan.print"} <= actions)


class SafetyPlanPrintTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.url = reverse("patients:safety_plan_print", args=[self.patient.code])

    def test_it_works(self) -> None:
        self.client.post(reverse("patients:safety_plan", args=[self.patient.code]), plan_data())
        r = self.client.get(self.url)
        self.assertContains(r, "Mein Krisenplan")
        self.assertContains(r, "Medikamente bei der Schwester")
        self.assertContains(r, "0800 111 0 222")
        self.assertContains(r, "css/assessments.css")
        from django.contrib.staticfiles import finders

        with open(finders.find("css/assessments.css")) as fh:
            self.assertIn("@media print", fh.read())

    def test_without_plan_it_redirects_to_the_form(self) -> None:
        self.assertRedirects(self.client.get(self.url), reverse("patients:safety_plan", args=[self.patient.code]))

    def test_it_rejects_post(self) -> None:
        self.assertEqual(self.client.post(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url).status_code, 404)
