"""The AI answer through a real Celery worker process (embedded Redis, the test database)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from duktus.celery import app
from duktus.embedded import ensure_redis
from duktus.models import PracticeAISettings
from patients import services as patient_services
from sessions import services
from sessions.models import AIRequest
from sessions.tasks import answer_question
from tests.base import BaseTransactionTestCase
from tests.fake_llm import FakeLLM
from tests.sessions.helpers import make_session


@pytest.mark.worker
class RealWorkerTestCase(BaseTransactionTestCase):
    def test_a_question_is_answered_by_a_real_worker(self) -> None:
        llm = FakeLLM().start()
        self.addCleanup(llm.stop)
        llm.reply("Die Leitlinie nennt Verhaltensaktivierung [E1] für [PERSON_1].", chunk_size=6)
        patient_services.record_consent(patient=self.patient, purpose="ai", action="given",
                                        effective_on=dt.date(2026, 1, 10), given_by="patient")
        PracticeAISettings.objects.create(practice=self.practice, enabled=True, provider="IONOS", avv_signed_on=dt.date(2026, 1, 2))
        session = make_session(self.patient, self.alice, note="Anna Berger wirkt antriebslos.")
        ensure_redis(Path(settings.VAR_DIR))
        env = {**os.environ, "DUKTUS_DB_NAME": connection.settings_dict["NAME"], "DUKTUS_VAR_DIR": str(settings.VAR_DIR),
               "LLM_API_KEY": "worker-key", "LLM_BASE_URL": llm.base_url, "LLM_MAX_RETRIES": "0", "LLM_TIMEOUT_SECONDS": "10"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "duktus", "worker", "--pool", "solo", "-l", "warning",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        try:
            app.conf.task_always_eager = False
            with self.settings(LLM_API_KEY="worker-key", LLM_BASE_URL=llm.base_url):
                item = services.ask(session=session, question="Welche Interventionen empfiehlt die Leitlinie?")  # enqueued on commit
            deadline = time.time() + 90
            state = None
            while time.time() < deadline and worker.poll() is None:
                state = AIRequest.objects.get(pk=item.pk).state
                if state in ("done", "failed"):
                    break
                time.sleep(0.3)
            output = worker.stdout.read().decode()[-3000:] if worker.poll() is not None else ""
            self.assertEqual(state, "done", output)
            done = AIRequest.objects.select_related("session").get(pk=item.pk)
            done.session.patient = self.patient
            self.assertIn("für Anna Berger", done.answer)
            self.assertTrue(done.sources)
            chat = [r for r in llm.requests if r["path"].endswith("/chat/completions")]
            self.assertEqual(len(chat), 1)
            self.assertNotIn("Berger", llm.bodies()[-1])
            # A redelivered message (acks_late) finds the row claimed and does nothing.
            answer_question.delay(item.pk).get(timeout=30)
            self.assertEqual(len([r for r in llm.requests if r["path"].endswith("/chat/completions")]), 1)
            self.assertEqual(AIRequest.objects.get(pk=item.pk).attempts, 1)
        finally:
            app.conf.task_always_eager = True
            worker.terminate()
            worker.wait(timeout=30)
