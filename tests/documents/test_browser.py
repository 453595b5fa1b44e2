"""End to end in Debian's Chromium: create a document from the patient page, edit with autosave,
sign with password + TOTP, download the PDF and look at it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import Client

from documents.models import Document, DocumentStatus
from tests.base import PASSWORD, PersonasMixin, totp_now
from tests.browser import ARGS, CHROMIUM, SCREENSHOTS
from tests.documents.helpers import fill_record, pdf_text


@pytest.mark.browser
class DocumentBrowserTestCase(PersonasMixin, StaticLiveServerTestCase):
    def test_draft_edit_sign_download(self) -> None:
        from playwright.sync_api import expect, sync_playwright

        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        fill_record(self.patient, self.alice)
        # Log in by session cookie: the TOTP code is needed fresh for signing below.
        client = Client()
        client.force_login(self.alice)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        host = self.live_server_url.split("//")[1].split(":")[0]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE", accept_downloads=True)
                context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"}])
                page = context.new_page()
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

                # 1. Create from the patient page: pre-filled with the structured record.
                page.goto(f"{self.live_server_url}/patienten/{self.patient.code}/")
                page.select_option("#new-document-template", "verlaufsdokumentation")
                page.click("#documents button:has-text('Anlegen')")
                page.wait_for_selector("#section-rahmen")
                expect(page.locator("#section-fragebogen textarea")).to_have_value(
                    "- PHQ-9: 17 (12.01.2026) → 8 (20.03.2026), 2 Messungen; Veränderung +9 Punkte (positiv = besser): "
                    "reliable Verbesserung, klinisch relevante Veränderung, Response (≥ 50 % Reduktion) "
                    "(Kriterium reliable Veränderung ≥ 6 Punkte)\n"
                    "- GAD-7: 7 am 12.01.2026 (nur eine Messung, noch kein Verlauf)")

                # 2. Edit: autosave after a pause in typing (htmx, no inline script).
                page.fill("#section-sitzungen textarea", "")
                page.type("#section-sitzungen textarea", "Aktivitätenplanung eingeführt; „Grübelstopp“ geübt.")
                expect(page.locator("#save-sitzungen")).to_contain_text("gespeichert", timeout=8000)
                doc = Document.objects.get()
                doc.patient = self.patient
                assert doc.sections["sitzungen"] == "Aktivitätenplanung eingeführt; „Grübelstopp“ geübt."
                page.reload()
                expect(page.locator("#section-sitzungen textarea")).to_have_value("Aktivitätenplanung eingeführt; „Grübelstopp“ geübt.")
                page.screenshot(path=str(SCREENSHOTS / "document_editor.png"), full_page=True)

                # 3. Sign: password and a fresh TOTP code again.
                page.fill("#sign-form input[name=password]", PASSWORD)
                page.fill("#sign-form input[name=code]", totp_now(self.alice.totp_secret))
                page.click("#sign-form button:has-text('Abschließen und signieren')")
                expect(page.locator("#doc-status")).to_have_text("abgeschlossen und signiert")
                expect(page.locator("#doc-sha")).to_have_text(Document.objects.get().content_sha256)
                assert Document.objects.get().status == DocumentStatus.SIGNED
                assert page.locator("#section-sitzungen textarea").count() == 0
                page.screenshot(path=str(SCREENSHOTS / "document_signed.png"), full_page=True)

                # 4. Download the PDF and read it.
                with page.expect_download() as info:
                    page.click("#pdf-link")
                content = Path(info.value.path()).read_bytes()
                path = SCREENSHOTS / "document.pdf"
                path.write_bytes(content)
                assert content.startswith(b"%PDF")
                text = pdf_text(content)
                assert "Aktivitätenplanung eingeführt; „Grübelstopp“ geübt." in text
                assert "elektronisch signiert" in text and "Seite 1 von" in text
                # No CSP violation, no script error (the browser's favicon request may 404).
                assert not [e for e in errors if "status of 404" not in e], errors
            finally:
                browser.close()
        # Look at a rendered page (poppler, where installed: not a test dependency).
        if shutil.which("pdftoppm"):
            target = SCREENSHOTS / "document_pdf_page1"
            subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "1", "-singlefile", str(path), str(target)],
                           check=True, timeout=60)
            assert (SCREENSHOTS / "document_pdf_page1.png").stat().st_size > 5000
