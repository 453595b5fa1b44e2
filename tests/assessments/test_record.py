"""Therapist entry of an administration: record view and live score preview."""

from __future__ import annotations

from django.db import connection
from django.urls import reverse

from assessments.models import Administration
from patients.crisis import CrisisEvent
from tests.assessments.helpers import PHQ9_CLEAN, PHQ9_ITEM9, post_items
from tests.base import BaseTestCase


class RecordTestCase(BaseTestCase):
    def url(self, instrument: str = "phq9") -> str:
        return reverse("assessments:record", args=[self.patient.code, instrument])

    def data(self, values=PHQ9_CLEAN, **kw):  # type: ignore[no-untyped-def]
        return {"administered_on": "2026-02-03", **post_items(values), **kw}

    def test_it_works(self) -> None:
        r = self.client.post(self.url(), self.data())
        self.assertRedirects(r, reverse("patients:detail", args=[self.patient.code]) + "#questionnaires", fetch_redirect_response=False)
        a = Administration.objects.get()
        a.patient = self.patient
        self.assertEqual((a.instrument, a.total, a.severity, a.answers), ("phq9", "4", "minimal", PHQ9_CLEAN))
        self.assertEqual(str(a.administered_on), "2026-02-03")
        self.assertEqual(a.entered_by, self.alice)
        self.assertFalse(CrisisEvent.objects.exists())

    def test_it_stores_answers_and_scores_encrypted(self) -> None:
        self.client.post(self.url(), self.data(PHQ9_ITEM9))
        with connection.cursor() as cur:
            cur.execute("SELECT answers_ct, total_ct, severity_ct, flags_ct FROM assessments_administration")
            row = cur.fetchone()
        for column in row:
            self.assertTrue(column.startswith("gAAAA"), column)
            self.assertNotIn("ITEM9", column)

    def test_get_renders_form_with_item_texts(self) -> None:
        r = self.client.get(self.url())
        self.assertContains(r, "Wenig Interesse oder Freude")
        from django.utils import timezone

        self.assertContains(r, f'value="{timezone.localdate().isoformat()}"')  # <input type=date> needs ISO
        self.assertContains(r, "Beinahe jeden Tag")
        r = self.client.get(self.url(), headers={"HX-Request": "true"})
        self.assertContains(r, 'id="record-form"')
        self.assertNotContains(r, "<html")

    def test_paper_entry_for_licensed_instrument_uses_neutral_labels(self) -> None:
        r = self.client.get(self.url("isi"))
        self.assertContains(r, "Item 7")
        self.assertContains(r, "Eingabe vom Papierbogen")
        r = self.client.post(self.url("isi"), self.data([2, 2, 2, 2, 2, 2, 3]))
        self.assertEqual(r.status_code, 302)
        a = Administration.objects.get()
        a.patient = self.patient
        self.assertEqual((a.total, a.severity), ("15", "moderate"))

    def test_ors_keeps_exact_decimals(self) -> None:
        r = self.client.post(self.url("ors"), self.data(["6,1", "7.2", "5", "8.4"]))
        self.assertEqual(r.status_code, 302)
        a = Administration.objects.get()
        a.patient = self.patient
        self.assertEqual(a.total, "26.7")
        self.assertEqual(a.answers, ["6.1", "7.2", "5.0", "8.4"])

    def test_invalid_answers_get_german_errors_and_422(self) -> None:
        values = list(PHQ9_CLEAN)
        values[4] = 7
        r = self.client.post(self.url(), self.data(values), headers={"HX-Request": "true"})
        self.assertContains(r, "Item 5: Wert 7 liegt außerhalb von 0–3.", status_code=422)
        self.assertContains(r, 'id="record-form"', status_code=422)
        r = self.client.post(self.url(), {"administered_on": "2026-02-03", **post_items(PHQ9_CLEAN[:8])})
        self.assertContains(r, "Item 9: Antwort fehlt.", status_code=422)
        self.assertFalse(Administration.objects.exists())

    def test_future_date_is_rejected(self) -> None:
        r = self.client.post(self.url(), self.data(administered_on="2999-01-01"))
        self.assertContains(r, "nicht in der Zukunft", status_code=422)

    def test_htmx_success_redirects_client(self) -> None:
        r = self.client.post(self.url(), self.data(), headers={"HX-Request": "true"})
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r["HX-Redirect"].startswith(reverse("patients:detail", args=[self.patient.code])))

    def test_item9_raises_crisis(self) -> None:
        self.client.post(self.url(), self.data(PHQ9_ITEM9))
        event = CrisisEvent.objects.get()
        event.patient = self.patient
        self.assertEqual((event.source, event.status), ("questionnaire", "open"))
        self.assertEqual(event.source_id, str(Administration.objects.get().code))
        self.assertIn("Item 9", event.summary)

    def test_cssrs_moderate_raises_crisis_low_does_not(self) -> None:
        low = {"administered_on": "2026-02-03", "q1": "yes", "q2": "no", "q6": "no"}
        self.assertEqual(self.client.post(self.url("cssrs"), low).status_code, 302)
        self.assertFalse(CrisisEvent.objects.exists())
        moderate = {"administered_on": "2026-02-04", "q1": "yes", "q2": "yes", "q3": "yes", "q4": "no", "q5": "no", "q6": "no"}
        self.assertEqual(self.client.post(self.url("cssrs"), moderate).status_code, 302)
        self.assertEqual(CrisisEvent.objects.count(), 1)

    def test_cssrs_skip_logic_error_is_german(self) -> None:
        r = self.client.post(self.url("cssrs"), {"administered_on": "2026-02-03", "q1": "yes", "q2": "yes", "q6": "no"})
        self.assertContains(r, "Frage 3 (q3): Antwort fehlt, weil Frage 2 bejaht wurde.", status_code=422)

    def test_auditc_uses_entered_sex(self) -> None:
        r = self.client.post(self.url("auditc"), self.data([2, 1, 1], sex="male"))
        self.assertEqual(r.status_code, 302)
        a = Administration.objects.get()
        a.patient = self.patient
        self.assertEqual((a.total, a.severity, a.context["sex"]), ("4", "negative", "male"))

    def test_unknown_instrument_is_404(self) -> None:
        self.assertEqual(self.client.get(self.url("xyz")).status_code, 404)

    def test_it_rejects_put(self) -> None:
        self.assertEqual(self.client.put(self.url()).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), self.data()).status_code, 403)
        self.assertEqual(self.client.get(self.url()).status_code, 403)
        self.assertFalse(Administration.objects.exists())

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), self.data()).status_code, 404)
        self.assertFalse(Administration.objects.exists())


class PreviewTestCase(BaseTestCase):
    def url(self, instrument: str = "phq9") -> str:
        return reverse("assessments:preview", args=[self.patient.code, instrument])

    def test_it_works(self) -> None:
        r = self.client.post(self.url(), post_items(PHQ9_ITEM9), headers={"HX-Request": "true"})
        self.assertContains(r, 'id="score-preview"')
        self.assertContains(r, "Summenwert 10")
        self.assertContains(r, "mittelgradig")
        self.assertContains(r, "Item 9 &gt; 0")
        self.assertFalse(Administration.objects.exists())

    def test_incomplete_answers_show_what_is_missing(self) -> None:
        r = self.client.post(self.url(), post_items([1, 2]))
        self.assertContains(r, "Noch kein Ergebnis: Item 3: Antwort fehlt.")

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_unknown_instrument_is_404(self) -> None:
        self.assertEqual(self.client.post(self.url("bdi2"), post_items(PHQ9_CLEAN)).status_code, 404)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), post_items(PHQ9_CLEAN)).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), post_items(PHQ9_CLEAN)).status_code, 404)


class AuditCSexTestCase(BaseTestCase):
    def test_patient_without_recorded_sex_gets_the_lower_cutoff_and_a_true_note(self) -> None:
        from tests.base import make_patient

        patient = make_patient(self.practice, therapist=self.alice, gender="unspecified")
        r = self.client.post(reverse("assessments:preview", args=[patient.code, "auditc"]), post_items([2, 1, 1]))
        self.assertContains(r, "Geschlecht ohne Angabe: niedrigerer Cut-off ≥ 4")
        r = self.client.post(reverse("assessments:record", args=[patient.code, "auditc"]), {"administered_on": "2026-02-03", **post_items([2, 1, 1])})
        self.assertEqual(r.status_code, 302)
        a = Administration.objects.get()
        a.patient = patient
        self.assertEqual((a.total, a.severity, a.cutoff), ("4", "positive", 4))
        self.assertTrue(any(n.startswith("Geschlecht ohne Angabe") for n in a.notes))

    def test_diverse_patient_gets_the_diverse_note(self) -> None:
        from tests.base import make_patient

        patient = make_patient(self.practice, therapist=self.alice, gender="diverse")
        r = self.client.post(reverse("assessments:preview", args=[patient.code, "auditc"]), post_items([2, 1, 1]))
        self.assertContains(r, "Geschlecht divers: niedrigerer Cut-off ≥ 4")
