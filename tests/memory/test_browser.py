"""Browser: review a proposal and search the memory on the patient page (htmx, no model)."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import override_settings

from memory.models import MemoryEntry
from tests.base import PASSWORD, PersonasMixin
from tests.browser import SCREENSHOTS, browser_page, sign_in
from tests.memory.helpers import make_entry


@pytest.mark.browser
@override_settings(LLM_API_KEY="")
class MemoryBrowserTestCase(PersonasMixin, StaticLiveServerTestCase):
    def test_confirm_a_proposal_and_search(self) -> None:
        from playwright.sync_api import expect

        entry = make_entry(self.patient, text="Schlafstörungen: wacht jede Nacht gegen 4 Uhr auf.")
        make_entry(self.patient, text="Arbeitet als Erzieherin in einer Kita.", status="confirmed")
        url = f"{self.live_server_url}/patienten/{self.patient.code}/"
        with browser_page() as page:
            sign_in(page, self.live_server_url, self.alice, PASSWORD)
            page.goto(url)
            proposal = page.locator(f"#memory-proposals #entry-{entry.code}")
            expect(proposal).to_be_visible()
            proposal.locator("button[data-action=confirm]").click()
            expect(page.locator(f"#memory-confirmed #entry-{entry.code}")).to_be_visible()
            expect(page.locator("#memory-proposals")).to_contain_text("Keine offenen Vorschläge")
            assert page.url == url  # swapped in place
            page.fill("#memory-q", "Was wissen wir über Schlaf?")
            page.locator("#memory-search button[type=submit]").click()
            first = page.locator("#memory-hits li").first
            expect(first).to_contain_text("Schlafstörungen")
            page.screenshot(path=str(SCREENSHOTS / "memory_section.png"), full_page=True)
        self.assertEqual(MemoryEntry.objects.get(pk=entry.pk).status, "confirmed")
