from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.base import BaseTestCase, make_patient


class PatientListTestCase(BaseTestCase):
    url = reverse("patients:list")

    def test_it_works(self) -> None:
        r = self.client.get(self.url)
        self.assertContains(r, "Berger, Anna")
        self.assertContains(r, self.patient.pseudonym)

    def test_it_rejects_other_methods(self) -> None:
        self.assertEqual(self.client.put(self.url).status_code, 405)
        self.assertEqual(self.client.delete(self.url).status_code, 405)

    def test_it_requires_login(self) -> None:
        self.client.logout()
        r = self.client.get(self.url)
        self.assertEqual(r.status_code, 302)
        self.assertIn("/accounts/login/", r["Location"])

    def test_it_isolates_practices(self) -> None:
        make_patient(self.practice_b, therapist=self.charlie, first_name="Bruno", last_name="Fremd")
        r = self.client.get(self.url)
        self.assertNotContains(r, "Fremd")
        self.login(self.charlie)
        r = self.client.get(self.url)
        self.assertContains(r, "Fremd, Bruno")
        self.assertNotContains(r, "Berger")

    def test_therapist_sees_only_assigned_patients(self) -> None:
        make_patient(self.practice, therapist=self.olga, first_name="Otto", last_name="Olgapatient")
        r = self.client.get(self.url)
        self.assertNotContains(r, "Olgapatient")
        self.login(self.olga)
        self.assertContains(self.client.get(self.url), "Olgapatient")
        self.login(self.bob)  # the assistant manages Stammdaten of everyone
        self.assertContains(self.client.get(self.url), "Olgapatient")

    def test_it_searches_by_blind_index(self) -> None:
        make_patient(self.practice, therapist=self.alice, first_name="Jürgen", last_name="Müller")
        for q in ("Mül", "mueller", "muller", "jürgen müller", "JÜRG"):
            r = self.client.post(self.url, {"q": q})
            self.assertContains(r, "Müller, Jürgen", msg_prefix=q)
            self.assertNotContains(r, "Berger, Anna", msg_prefix=q)
        r = self.client.post(self.url, {"q": "Schmidt"})
        self.assertContains(r, "Keine Treffer")

    def test_one_character_query_asks_for_more(self) -> None:
        r = self.client.post(self.url, {"q": "B"})
        self.assertContains(r, "mindestens 2 Zeichen")
        self.assertNotContains(r, "Keine Treffer")

    def test_it_never_takes_a_name_from_the_url(self) -> None:
        # Names in query strings land in access logs and browser history: search is POST only.
        make_patient(self.practice, therapist=self.alice, first_name="Jürgen", last_name="Müller")
        r = self.client.get(self.url, {"q": "Müller"})
        self.assertContains(r, "Berger, Anna")  # the unfiltered list
        self.assertContains(r, 'hx-post="/patienten/"')
        self.assertNotContains(r, 'hx-get="/patienten/"')

    def test_htmx_renders_results_partial(self) -> None:
        r = self.client.post(self.url, {"q": "Ber"}, headers={"HX-Request": "true"})
        html = r.content.decode()
        self.assertTrue(html.strip().startswith('<div id="results">'))
        self.assertIn("Berger, Anna", html)
        self.assertNotIn("<html", html)

    def test_it_sorts_by_decrypted_name(self) -> None:
        make_patient(self.practice, therapist=self.alice, first_name="Zora", last_name="Ärger")
        make_patient(self.practice, therapist=self.alice, first_name="Carl", last_name="Zander")
        html = self.client.get(self.url).content.decode()
        self.assertLess(html.index("Ärger"), html.index("Berger"))
        self.assertLess(html.index("Berger"), html.index("Zander"))

    def test_query_count_does_not_grow(self) -> None:
        for i in range(3):
            make_patient(self.practice, therapist=self.alice, last_name=f"Name{i}")
        with CaptureQueriesContext(connection) as first:
            self.client.get(self.url)
        for i in range(10):
            make_patient(self.practice, therapist=self.alice, last_name=f"Mehr{i}")
        with CaptureQueriesContext(connection) as second:
            r = self.client.get(self.url)
        self.assertContains(r, "Mehr9")
        self.assertEqual(len(first), len(second))

    def test_it_writes_one_audit_entry(self) -> None:
        from duktus.models import AuditEntry

        before = AuditEntry.objects.count()
        self.client.get(self.url)
        self.assertEqual(AuditEntry.objects.count(), before + 1)
