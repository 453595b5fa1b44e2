"""The live session in Chromium: type a note (autosave, network error with retry, expired login
re-authenticated in the dialog without losing text), ask, watch the answer stream in with its
sources (answered by a real Celery worker), accept it into the note, see what the AI saw, the
crisis banner, close the session. Screenshots in var/screenshots/session_*.png."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.db import connection
from django.test import override_settings

from duktus.celery import app
from duktus.embedded import ensure_redis
from duktus.models import PracticeAISettings
from patients import services as patient_services
from sessions.models import AI_BEGIN, TherapySession
from tests.base import PASSWORD, PersonasMixin, make_patient, totp_now
from tests.browser import SCREENSHOTS, browser_page, sign_in
from tests.fake_llm import FakeLLM
from tests.llm.base import IDENTIFIERS
from tests.sessions.helpers import make_session

ANSWER = ("Die NVL Unipolare Depression nennt für mittelgradige Episoden Psychotherapie als gleichwertige "
          "Option [E1]. Verhaltensaktivierung mit einem Wochenplan wäre für [PERSON_1] eine Möglichkeit [E2]. "
          "Die Entscheidung treffen Sie.")


class _SlowWriter:
    """Stream chunks slowly so the page shows the answer growing."""

    def __init__(self, raw: Any, pause: float) -> None:
        self.raw, self.pause = raw, pause

    def write(self, data: bytes) -> int:
        if data.startswith(b"data: {"):
            time.sleep(self.pause)
        return self.raw.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class SlowStreamLLM(FakeLLM):
    pause = 0.2

    def _handle(self, h: Any, body: dict[str, Any]) -> None:
        if body.get("stream"):
            h.wfile = _SlowWriter(h.wfile, self.pause)
        return super()._handle(h, body)


@pytest.mark.browser
@pytest.mark.worker
@override_settings(MFA_TOTP_TOLERANCE=1)
class LiveSessionBrowserTestCase(PersonasMixin, StaticLiveServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.llm = SlowStreamLLM().start()
        self.addCleanup(self.llm.stop)
        self.llm.reply(ANSWER, chunk_size=8)
        ov = override_settings(LLM_API_KEY="browser-key", LLM_BASE_URL=self.llm.base_url, LLM_MAX_RETRIES=0)
        ov.enable()
        self.addCleanup(ov.disable)
        self.pat = make_patient(self.practice, therapist=self.alice, **IDENTIFIERS)
        patient_services.record_consent(patient=self.pat, purpose="ai", action="given", effective_on=dt.date(2026, 1, 10), given_by="patient")
        PracticeAISettings.objects.create(practice=self.practice, enabled=True, provider="IONOS", avv_signed_on=dt.date(2026, 1, 2))
        self.session = make_session(self.pat, self.alice)
        self._start_worker()

    def _start_worker(self) -> None:
        ensure_redis(Path(settings.VAR_DIR))
        env = {**os.environ, "DUKTUS_DB_NAME": connection.settings_dict["NAME"], "DUKTUS_VAR_DIR": str(settings.VAR_DIR),
               "LLM_API_KEY": "browser-key", "LLM_BASE_URL": self.llm.base_url, "LLM_MAX_RETRIES": "0"}
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "duktus", "worker", "--pool", "solo", "-l", "warning",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        app.conf.task_always_eager = False

        def stop() -> None:
            app.conf.task_always_eager = True
            self.worker.terminate()
            self.worker.wait(timeout=30)

        self.addCleanup(stop)

    def note_in_db(self) -> str:
        s = TherapySession.objects.get(pk=self.session.pk)
        s.patient = self.pat
        return s.note

    def test_live_session(self) -> None:
        from playwright.sync_api import expect

        shot = lambda name: page.screenshot(path=str(SCREENSHOTS / f"session_{name}.png"), full_page=True)  # noqa: E731
        with browser_page() as page:
            sign_in(page, self.live_server_url, self.alice, PASSWORD)
            page.goto(f"{self.live_server_url}/patienten/{self.pat.code}/")
            page.click("text=Live-Ansicht öffnen")
            status = page.locator("#save-status")

            # 1. Type a note: autosaved.
            page.locator("#note").press_sequentially("Frau Wolkenstein wirkt gedrückt, schläft schlecht. PHQ-9: 17.", delay=10)
            expect(status).to_contain_text("Gespeichert um", timeout=10_000)
            self.assertEqual(self.note_in_db(), "Frau Wolkenstein wirkt gedrückt, schläft schlecht. PHQ-9: 17.")

            # 2. Network error: visible "nicht gespeichert", text stays, retry succeeds.
            page.route("**/notiz/", lambda route: route.abort())
            page.locator("#note").press_sequentially(" Antrieb vermindert.", delay=10)
            expect(status).to_contain_text("Nicht gespeichert", timeout=10_000)
            expect(page.locator("#save-retry")).to_be_visible()
            shot("not_saved")
            page.unroute("**/notiz/")
            page.click("#save-retry")
            expect(status).to_contain_text("Gespeichert um", timeout=10_000)
            self.assertTrue(self.note_in_db().endswith("Antrieb vermindert."))
            # Unsaved text lives in page memory only: nothing of it in the browser's storage.
            stored = page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
            self.assertNotIn("Antrieb", stored)
            self.assertNotIn("htmx-history-cache", stored)

            # 3. Login expires: the dialog re-authenticates, nothing typed is lost.
            Session.objects.all().delete()
            page.locator("#note").press_sequentially(" Während der Abmeldung getippt.", delay=10)
            expect(page.locator("#reauth")).to_be_visible(timeout=10_000)
            expect(status).to_contain_text("Anmeldung abgelaufen")
            shot("reauth")
            page.fill("#reauth-password", PASSWORD)
            page.fill("#reauth-code", totp_now(self.alice.totp_secret, time.time() + 30))
            page.click("#reauth-form button[type=submit]")
            expect(page.locator("#reauth")).to_be_hidden(timeout=10_000)
            expect(status).to_contain_text("Gespeichert um", timeout=10_000)
            self.assertTrue(self.note_in_db().endswith("Während der Abmeldung getippt."))

            # 4. Ask: the answer streams in (real worker), sources under it.
            page.fill("#question", "Welche Interventionen empfiehlt die Leitlinie bei mittelgradiger depressiver Episode?")
            page.click("#ask-form button[type=submit]")
            expect(page.locator(".ai-item .ai-label")).to_contain_text("wird geschrieben", timeout=20_000)
            partial = page.inner_text(".ai-item .answer-text")
            shot("streaming")
            expect(page.locator(".ai-item button:has-text('In Notiz übernehmen')")).to_be_visible(timeout=30_000)
            final = page.inner_text(".ai-item .answer-text")
            self.assertLess(len(partial), len(final))
            self.assertIn("Henrike Wolkenstein", final)  # restored
            self.assertEqual(page.input_value("#question"), "")
            expect(page.locator(".ai-item .sources li")).to_have_count(5)
            expect(page.locator(".ai-item .sources")).to_contain_text("ungeprüft")
            expect(page.locator(".ai-item .sources")).to_contain_text("zitiert")
            shot("answer")

            # 5. What the AI saw: anonymized.
            page.click(".ai-item button:has-text('Was die KI gesehen hat')")
            expect(page.locator(".ai-item pre.sent").first).to_be_visible()
            seen = page.inner_text(".ai-item .seen")
            self.assertIn("[PERSON_", seen)
            self.assertNotIn("Wolkenstein", seen)

            # 6. Accept into the note: marked as AI-generated, saved.
            page.click(".ai-item button:has-text('In Notiz übernehmen')")
            expect(page.locator(".ai-item .decision")).to_contain_text("übernommen")
            expect(page.locator("#note")).to_have_value(re.compile(re.escape(AI_BEGIN)))
            self.assertIn("Verhaltensaktivierung mit einem Wochenplan", page.input_value("#note"))
            note = self.note_in_db()
            self.assertIn(AI_BEGIN, note)
            self.assertTrue(note.startswith("Frau Wolkenstein wirkt gedrückt"))
            shot("accepted")

            # 7. Crisis cue: the banner appears; nothing is sent anywhere.
            page.locator("#note").press_sequentially(" Pat. äußert konkrete Suizidgedanken mit Plan.", delay=5)
            expect(page.locator("#crisis-banner")).to_be_visible(timeout=10_000)
            expect(page.locator("#crisis-banner")).to_contain_text("0800 111 0 111")
            shot("crisis")

            # 8. Close: frozen as version 1.
            page.click("#close-form button[type=submit]")
            expect(page.locator("#versions")).to_contain_text("Version 1 · Original")
            expect(page.locator("#note-current .ai-text")).to_be_visible()
            shot("closed")
        for body in self.llm.bodies():
            self.assertNotIn("Wolkenstein", body)
