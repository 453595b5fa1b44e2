"""End to end in Debian's Chromium: the therapist sends a link, the patient fills it in on a
phone-sized screen, the therapist sees the score, the chart and the crisis banner."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core import mail
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import Client

from tests.base import PersonasMixin
from tests.browser import ARGS, CHROMIUM, SCREENSHOTS


@pytest.mark.browser
class QuestionnaireBrowserTestCase(PersonasMixin, StaticLiveServerTestCase):
    def test_link_fill_in_score_and_banner(self) -> None:
        from playwright.sync_api import expect, sync_playwright

        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        client = Client()
        client.force_login(self.alice)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        host = self.live_server_url.split("//")[1].split(":")[0]
        patient_url = f"{self.live_server_url}/patienten/{self.patient.code}/"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                therapist = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
                therapist.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"}])
                page = therapist.new_page()
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

                # 1. Live score preview while entering from paper (htmx, no inline script).
                page.goto(patient_url)
                page.click("#record-area >> xpath=.. >> a:has-text('PHQ-9')")
                page.wait_for_selector("#record-form")
                for n in range(1, 10):
                    page.check(f"#record-form input[name=item_{n}][value='1']")
                expect(page.locator("#score-preview")).to_contain_text("Summenwert 9")
                page.screenshot(path=str(SCREENSHOTS / "questionnaire_preview.png"), full_page=True)

                # 2. Send a link (shown once, with QR code).
                page.goto(patient_url)
                page.select_option("#links select[name=instrument]", "phq9")
                page.check("#links input[name=send_email]")
                page.click("#links button:has-text('Link erzeugen')")
                page.wait_for_selector("#link-qr svg")
                expect(page.locator("#link-emailed")).to_contain_text("anna.berger@example.org")
                url = page.inner_text("#link-url").strip()
                (message,) = mail.outbox
                assert url in message.body and "PHQ" not in message.body
                page.locator("#links").screenshot(path=str(SCREENSHOTS / "questionnaire_link_qr.png"))
                assert "/fragebogen/ausfuellen/" in url
                mail.outbox.clear()

                # 3. The patient fills it in on a phone, without login.
                phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE", is_mobile=True, has_touch=True)
                ppage = phone.new_page()
                ppage.goto(url)
                content = ppage.content()
                assert "Praxis A" in content and "Berger" not in content and "Anna" not in content
                answers = [1, 1, 1, 1, 1, 1, 1, 1, 2]  # total 10, item 9 = 2
                for n, value in enumerate(answers, 1):
                    ppage.check(f"input[name=item_{n}][value='{value}']")
                ppage.screenshot(path=str(SCREENSHOTS / "questionnaire_phone_form.png"), full_page=True)
                ppage.click("button:has-text('Antworten absenden')")
                ppage.wait_for_selector("#risk-help")
                assert "0800 111 0 111" in ppage.content()
                ppage.screenshot(path=str(SCREENSHOTS / "questionnaire_phone_thanks.png"), full_page=True)
                ppage.goto(url)  # the link is dead now
                assert "nicht (mehr) gültig" in ppage.content()

                # 4. The therapist sees score, chart and banner.
                page.goto(patient_url)
                expect(page.locator("#crisis-banner")).to_contain_text("Item 9")
                card = page.locator(".trend-card[data-instrument=phq9]")
                expect(card).to_contain_text("10")
                expect(card).to_contain_text("mittelgradig")
                assert page.locator(".trend-card svg.trend .point").count() == 1
                page.screenshot(path=str(SCREENSHOTS / "questionnaire_therapist.png"), full_page=True)
                page.goto(f"{self.live_server_url}/")
                expect(page.locator("#crisis-banner")).to_contain_text("Berger, Anna")
                expect(page.locator("#inbox")).to_contain_text("Ein Fragebogen wurde ausgefüllt")
                page.screenshot(path=str(SCREENSHOTS / "questionnaire_dashboard.png"), full_page=True)

                # 5. The trend page with the item-level answers.
                page.goto(f"{self.live_server_url}/fragebogen/patient/{self.patient.code}/verlauf/phq9/")
                assert page.locator("svg.trend .point").count() == 1
                expect(page.locator("body")).to_contain_text("Gedanken, dass Sie lieber tot wären")
                page.screenshot(path=str(SCREENSHOTS / "questionnaire_trend.png"), full_page=True)

                # 6. The therapist documents what they did: the banner goes, on both pages.
                page.goto(f"{self.live_server_url}/")
                page.click("#crisis-banner a.button:has-text('Vorgehen dokumentieren')")
                page.check("input[name=actions][value=risk_assessment]")
                page.fill("textarea[name=note]", "Telefonat, keine akute Suizidalität; Termin vorgezogen.")
                page.screenshot(path=str(SCREENSHOTS / "crisis_document.png"), full_page=True)
                page.click("#crisis-document-form button[type=submit]")
                page.wait_for_url(patient_url)
                assert page.locator("#crisis-banner").count() == 0
                page.goto(f"{self.live_server_url}/")
                assert page.locator("#crisis-banner").count() == 0

                # 7. The Krisenplan: fill in, print view without the app's chrome.
                page.goto(f"{patient_url}krisenplan/")
                page.fill("textarea[name=warning_signs]", "Rückzug, Grübeln nachts")
                page.fill("textarea[name=professional_contacts]", "Praxis A\nKrisendienst")
                page.click("#safety-plan-form button[type=submit]")
                page.goto(f"{patient_url}krisenplan/drucken/")
                page.emulate_media(media="print")
                assert not page.locator("header.topbar").is_visible()
                expect(page.locator(".plan-print")).to_contain_text("0800 111 0 222")
                page.screenshot(path=str(SCREENSHOTS / "safety_plan_print.png"), full_page=True)
                assert not [e for e in errors if "Content Security Policy" in e], errors
            finally:
                browser.close()
