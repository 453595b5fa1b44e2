"""Playwright driving Debian's Chromium (never `playwright install`)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def sign_in(page: Any, base_url: str, user: Any, password: str) -> None:
    """Password + TOTP through the real allauth pages; ends on the start page."""
    from tests.base import totp_now

    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/2fa/authenticate/")
    # allauth accepts only the current 30-second window: a code typed just before the window
    # ends can expire on its way through a busy browser and server. Wait for a fresh window then.
    left = 30 - time.time() % 30
    if left < 5:
        time.sleep(left + 0.5)
    page.fill("input[name=code]", totp_now(user.totp_secret))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@contextmanager
def browser_page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="de-DE")
            yield page
        finally:
            browser.close()
