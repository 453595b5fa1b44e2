from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import pyzipper
from django.contrib.staticfiles.testing import StaticLiveServerTestCase

from tests.base import PASSWORD, PersonasMixin
from tests.browser import SCREENSHOTS, browser_page, sign_in
from tests.privacy.helpers import IsolatedFilesMixin


@pytest.mark.browser
class BrowserExportTestCase(PersonasMixin, StaticLiveServerTestCase):
    def test_export_download(self) -> None:
        with browser_page() as page:
            sign_in(page, self.live_server_url, self.alice, PASSWORD)
            page.goto(f"{self.live_server_url}/patienten/{self.patient.code}/")
            page.click("#privacy a:has-text('Datenauskunft')")
            page.wait_for_selector("#separate-parts")
            page.screenshot(path=str(SCREENSHOTS / "privacy_patient.png"), full_page=True)
            page.click("button:has-text('Datenauskunft erstellen')")
            password = page.inner_text("#export-password").strip()
            page.wait_for_selector("#export-download")
            page.screenshot(path=str(SCREENSHOTS / "privacy_export.png"), full_page=True)
            with page.expect_download() as info:
                page.click("#export-download")
            content = Path(info.value.path()).read_bytes()
        with pyzipper.AESZipFile(io.BytesIO(content)) as zf:
            with self.assertRaises(RuntimeError):  # encrypted: nothing readable without the password
                zf.read("datenauskunft.json")
            zf.setpassword(password.encode())
            data = json.loads(zf.read("datenauskunft.json"))
            html = zf.read("datenauskunft.html").decode()
        assert data["parts"]["master_data"][0]["last_name"] == "Berger"
        assert "Nachname" in html


@pytest.mark.browser
class BrowserErasureTestCase(IsolatedFilesMixin, PersonasMixin, StaticLiveServerTestCase):
    """Own key file: the erasure rotates the master key."""

    def test_owner_forces_erasure_and_downloads_the_certificate(self) -> None:
        from patients.models import Patient

        with browser_page() as page:
            sign_in(page, self.live_server_url, self.olga, PASSWORD)
            page.goto(f"{self.live_server_url}/datenschutz/patient/{self.patient.code}/")
            assert "nicht abgeschlossen" in page.inner_text("#erasure-check")
            page.fill("#erasure form:has(input[name=force]) textarea[name=reason]", "Gerichtliche Anordnung AZ 12 O 345/26")
            page.click("button:has-text('Trotz Aufbewahrungspflicht löschen')")
            page.wait_for_selector("#certificate")
            page.screenshot(path=str(SCREENSHOTS / "privacy_certificate.png"), full_page=True)
            text = page.inner_text("#certificate")
            with page.expect_download() as info:
                page.click("#certificate-download")
            content = Path(info.value.path()).read_text()
        assert "Gerichtliche Anordnung" in text and "Berger" not in text
        assert self.patient.pseudonym in content and "Berger" not in content
        assert not Patient.objects.filter(pk=self.patient.pk).exists()
