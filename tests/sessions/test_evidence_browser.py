"""Browser: the "Leitlinie durchsuchen" box answers live (htmx) without any model."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import override_settings

from tests.base import PASSWORD, PersonasMixin
from tests.browser import SCREENSHOTS, browser_page, sign_in
from tests.sessions.test_evidence_index import IndexDirMixin


@pytest.mark.browser
@override_settings(LLM_API_KEY="")
class EvidenceBrowserTestCase(IndexDirMixin, PersonasMixin, StaticLiveServerTestCase):
    def test_typing_a_question_shows_cited_entries(self) -> None:
        from playwright.sync_api import expect

        with browser_page() as page:
            sign_in(page, self.live_server_url, self.alice, PASSWORD)
            page.goto(f"{self.live_server_url}/leitlinien/")
            expect(page.locator("#results")).to_contain_text("Geben Sie eine Frage")
            page.fill("#q", "Exposition bei Angst vor öffentlichen Plätzen und Menschenmengen")
            hits = page.locator("#results .evidence-hit")
            expect(hits.first).to_be_visible()
            assert hits.count() == 5
            text = page.inner_text("#results")
            assert "S3-Leitlinie Behandlung von Angststörungen" in text
            assert "ungeprüft" in text
            assert "Lexikalische Suche (offline" in text
            assert page.url.endswith("/leitlinien/")  # htmx swapped the results in place
            # Enter submits the form: a POST, so the question never shows up in the URL.
            page.press("#q", "Enter")
            expect(hits.first).to_be_visible()
            assert page.url.endswith("/leitlinien/") and "Menschenmengen" not in page.url
            page.screenshot(path=str(SCREENSHOTS / "evidence_search.png"), full_page=True)
