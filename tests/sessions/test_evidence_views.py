"""The "Leitlinie durchsuchen" page (sessions/evidence_views.py)."""

from __future__ import annotations

from django.test import override_settings
from django.urls import reverse

from duktus.models import AuditEntry
from tests.base import BaseTestCase
from tests.sessions.test_evidence_index import IndexDirMixin

URL = reverse("evidence:search")


@override_settings(LLM_API_KEY="")
class EvidenceSearchViewTestCase(IndexDirMixin, BaseTestCase):
    def test_it_shows_hits_with_citation_fields_without_any_model(self) -> None:
        resp = self.client.post(URL, {"q": "Exposition bei spezifischer Phobie"})
        self.assertEqual(resp.status_code, 200)
        html = resp.content.decode()
        self.assertIn("<html", html)
        self.assertIn('id="evidence-angst-spezifische-phobie-exposition"', html)
        self.assertIn("S3-Leitlinie Behandlung von Angststörungen", html)
        self.assertIn("(2021)", html)
        self.assertIn("ohne Empfehlungsnummer", html)
        self.assertIn("Quelle:", html)
        self.assertIn("ungeprüft", html)
        self.assertIn("Lexikalische Suche (offline", html)
        self.assertIn("weder eine Diagnose noch eine", html)

    def test_a_verified_entry_shows_number_grade_and_no_unverified_badge(self) -> None:
        resp = self.client.post(URL, {"q": "regionale Versorgungsstrukturen ambulant stationär Rehabilitation"})
        html = resp.content.decode()
        first = html.split('class="card evidence-hit"')[1]  # the best hit
        self.assertIn("nvl-dep-versorgungslandschaft", first)
        self.assertIn("Empfehlung 14-1", first)
        self.assertIn("Empfehlungsgrad: Soll (⇑⇑, starke Empfehlung)", first)
        self.assertIn(">geprüft<", first)
        self.assertNotIn("ungeprüft", first)

    def test_htmx_gets_only_the_results(self) -> None:
        resp = self.client.post(URL, {"q": "Verhaltensaktivierung"}, HTTP_HX_REQUEST="true")
        self.assertEqual(resp.status_code, 200)
        html = resp.content.decode()
        self.assertNotIn("<html", html)
        self.assertTrue(html.lstrip().startswith('<div id="results"'))
        self.assertIn("nvl-dep-verhaltensaktivierung", html)

    def test_empty_and_short_queries_show_a_hint_and_search_nothing(self) -> None:
        resp = self.client.get(URL)
        self.assertEqual(resp.status_code, 200)
        self.assertContains(resp, "Geben Sie eine Frage oder einen Suchbegriff ein.")
        self.assertNotContains(resp, "evidence-hit")
        resp = self.client.post(URL, {"q": "   "})
        self.assertEqual(resp.status_code, 200)
        self.assertNotContains(resp, "evidence-hit")
        resp = self.client.post(URL, {"q": "ab"}, HTTP_HX_REQUEST="true")
        self.assertEqual(resp.status_code, 200)
        self.assertContains(resp, "Bitte mindestens 3 Zeichen eingeben.")
        self.assertNotContains(resp, "evidence-hit")
        self.assertFalse(AuditEntry.objects.filter(action="evidence.search").exists())

    def test_a_too_long_query_is_rejected_in_german(self) -> None:
        resp = self.client.post(URL, {"q": "Angst " * 60}, HTTP_HX_REQUEST="true")
        self.assertEqual(resp.status_code, 422)
        self.assertContains(resp, "Bitte höchstens 300 Zeichen eingeben.", status_code=422)
        self.assertNotContains(resp, "evidence-hit", status_code=422)

    def test_it_never_takes_the_question_from_the_url(self) -> None:
        # A question may name a patient: it travels in the POST body, never in a query string.
        resp = self.client.get(URL, {"q": "Frau Berger Panikattacken"})
        self.assertEqual(resp.status_code, 200)
        self.assertNotContains(resp, "evidence-hit")
        self.assertNotContains(resp, "Berger")
        self.assertContains(resp, 'method="post"')
        self.assertContains(resp, 'hx-post="/leitlinien/"')
        self.assertFalse(AuditEntry.objects.filter(action="evidence.search").exists())

    def test_it_rejects_other_methods(self) -> None:
        self.assertEqual(self.client.put(URL, {"q": "Angst"}).status_code, 405)

    def test_assistant_gets_403_owner_is_allowed(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(URL, {"q": "Angst"}).status_code, 403)
        self.login(self.olga)
        self.assertEqual(self.client.post(URL, {"q": "Angst"}).status_code, 200)

    def test_anonymous_is_sent_to_login(self) -> None:
        self.client.logout()
        resp = self.client.post(URL, {"q": "Angst"})
        self.assertEqual(resp.status_code, 302)
        self.assertIn("/accounts/login/", resp["Location"])

    def test_it_audits_the_backend_but_never_the_query(self) -> None:
        self.client.post(URL, {"q": "Frau Berger Panikattacken"})
        entry = AuditEntry.objects.get(action="evidence.search")
        self.assertEqual(entry.detail, "offline-char-ngram-v1")
        self.assertNotIn("Berger", entry.detail)
