from __future__ import annotations

import pytest
from django.contrib.staticfiles.testing import StaticLiveServerTestCase

from tests.base import PASSWORD, PersonasMixin
from tests.browser import SCREENSHOTS, browser_page, sign_in


@pytest.mark.browser
class BrowserLoginTestCase(PersonasMixin, StaticLiveServerTestCase):
    def test_login_with_totp_and_create_patient(self) -> None:
        with browser_page() as page:
            sign_in(page, self.live_server_url, self.alice, PASSWORD)
            page.goto(f"{self.live_server_url}/patienten/")
            assert "Berger, Anna" in page.content()
            page.screenshot(path=str(SCREENSHOTS / "patient_list.png"), full_page=True)

            page.click("text=Neue/r Patient/in")
            page.fill("#id_first_name", "Jürgen")
            page.fill("#id_last_name", "Weiß")
            page.fill("#id_birth_date", "1970-05-04")
            page.select_option("#id_insurance_type", "gkv")
            page.fill("#id_insurer", "BARMER")
            page.fill("#id_insurance_number", "A123456781")
            page.click("button:has-text('Speichern')")
            page.wait_for_selector(".error-summary")
            assert "Prüfziffer stimmt nicht" in page.content()
            assert page.input_value("#id_last_name") == "Weiß"  # nothing typed is lost
            page.screenshot(path=str(SCREENSHOTS / "patient_form_error.png"), full_page=True)

            page.fill("#id_insurance_number", "A123456780")
            page.click("button:has-text('Speichern')")
            page.wait_for_selector("text=Patient/in wurde angelegt.")
            assert "Jürgen Weiß" in page.content()
            page.screenshot(path=str(SCREENSHOTS / "patient_detail.png"), full_page=True)

            # Search over the blind index, live via htmx.
            page.goto(f"{self.live_server_url}/patienten/")
            page.fill("#q", "weiss")
            # (wait_for_function would need 'unsafe-eval', which our CSP rightly forbids)
            from playwright.sync_api import expect

            expect(page.locator("#results")).not_to_contain_text("Berger")
            assert "Weiß, Jürgen" in page.inner_text("#results")
            page.screenshot(path=str(SCREENSHOTS / "patient_search.png"), full_page=True)
