"""Art. 18 restriction instead of erasure: blocked for AI, hidden from lists, still reachable by
URL, erased by the retention job at the end of retention."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from duktus.llm import gateway
from duktus.models import LLMCall, PatientRestriction
from duktus.privacy import erasure, retention
from patients import queries as patient_queries
from patients.models import Patient
from tests.base import make_patient
from tests.llm.base import LLMTestCase
from tests.privacy.helpers import IsolatedFilesMixin


class RestrictionTestCase(IsolatedFilesMixin, LLMTestCase):
    def test_ai_is_refused_for_a_restricted_patient(self) -> None:
        self.complete("Kurze Frage zur Sitzung.")  # consent + AI switch on: works
        sent = len(self.llm.requests)
        erasure.restrict(request=None, patient=self.pat, reason="Widerspruch gegen die Verarbeitung")
        with self.assertRaisesRegex(gateway.GatewayRefused, "Art. 18"):
            self.complete("Noch eine Frage.")
        with self.assertRaisesRegex(gateway.GatewayRefused, "Art. 18"):
            gateway.embed(["Text"], patient=self.pat)
        with self.settings(LLM_API_KEY=""):  # offline embedder: refused too
            with self.assertRaises(gateway.GatewayRefused):
                gateway.embed(["Text"], patient=self.pat)
        self.assertEqual(len(self.llm.requests), sent)  # nothing left the practice
        self.assertEqual(LLMCall.objects.filter(status="refused").count(), 1)
        erasure.lift_restriction(request=None, patient=self.pat)
        self.complete("Wieder erlaubt.")

    def test_restricted_patient_is_hidden_from_lists(self) -> None:
        erasure.restrict(request=None, patient=self.pat, reason="Widerspruch")
        self.login(self.olga)
        listed = [row.pseudonym for row in patient_queries.patient_rows(self.olga.memberships.get())]
        self.assertNotIn(self.pat.pseudonym, listed)
        self.assertIn(self.patient.pseudonym, listed)
        r = self.client.get(reverse("patients:list"))
        self.assertNotContains(r, self.pat.pseudonym)
        self.assertContains(r, self.patient.pseudonym)
        # search does not find it either
        r = self.client.get(reverse("patients:list"), {"q": "Wolkenstein"})
        self.assertNotContains(r, self.pat.pseudonym)
        # the record itself stays reachable (owner works on the request), and the owner sees it listed
        self.assertEqual(self.client.get(reverse("privacy:patient", args=[self.pat.code])).status_code, 200)
        self.assertContains(self.client.get(reverse("privacy:retention")), self.pat.pseudonym)
        self.assertContains(self.client.get(reverse("privacy:patient", args=[self.pat.code])), 'id="restricted"')


class RestrictedErasureScheduleTestCase(IsolatedFilesMixin, LLMTestCase):
    def test_restricted_record_is_erased_at_the_end_of_retention(self) -> None:
        p = make_patient(self.practice, last_name="Spaet", treatment_start=dt.date(2018, 1, 1), treatment_end=dt.date(2020, 2, 29))
        with time_machine.travel(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)):
            self.assertFalse(erasure.check_erasure(p).allowed)
            restriction = erasure.restrict(request=None, patient=p, reason="Widerspruch")
        self.assertEqual(restriction.erase_on, dt.date(2030, 3, 1))  # leap day → 1 March
        with time_machine.travel(dt.datetime(2030, 3, 30, 3, tzinfo=dt.UTC)):
            self.assertEqual(retention.run().counts["erased"], 0)  # within the 30-day notice
        with time_machine.travel(dt.datetime(2030, 3, 31, 3, tzinfo=dt.UTC)):
            self.assertEqual(retention.run().counts["erased"], 1)
        self.assertFalse(Patient.objects.filter(pk=p.pk).exists())
        self.assertFalse(PatientRestriction.objects.exists())
