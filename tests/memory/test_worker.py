"""Memory extraction through a real Celery worker process (embedded Redis, the test database):
closing a session enqueues the task on commit, the worker asks the fake model and stores
proposals; what reached the broker and the model holds no identifier of the patient."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.conf import settings
from django.db import connection

from duktus.celery import app
from duktus.embedded import ensure_redis
from duktus.models import AuditEntry, PracticeAISettings
from memory.models import EntryStatus, ExtractionRun, MemoryEntry, MemoryVector
from memory.tasks import extract_entries
from patients import services as patient_services
from sessions import services as session_services
from tests.base import BaseTransactionTestCase
from tests.memory.helpers import ScriptedLLM
from tests.memory.test_extraction import VALID
from tests.sessions.helpers import fake_request, make_session

# The extraction unit tests' answer, for a note about the default patient (tests.base.PATIENT_DEFAULTS).
NOTE = ("Anna Berger (Lindenstraße 12, 10115, Tel. 030 5550123, anna.berger@example.org, Versichertennummer "
        "A123456780, geboren am 15.03.1981) berichtet, dass sie seit dem Umzug kaum schläft und nachts grübelt. "
        "Sie möchte wieder an drei Tagen pro Woche joggen gehen. Wir haben Schlafhygiene besprochen. "
        "Ihre Schwester unterstützt sie sehr.")
# The patient's identifiers: never in a request body.
SECRETS = ["Anna", "Berger", "Lindenstraße", "10115", "5550123", "anna.berger@example.org", "example.org",
           "A123456780", "15.03.1981"]


@pytest.mark.worker
class ExtractionWorkerTestCase(BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.llm = ScriptedLLM().start()
        self.addCleanup(self.llm.stop)
        patient_services.record_consent(patient=self.patient, purpose="ai", action="given",
                                        effective_on=dt.date(2026, 1, 10), given_by="patient")
        PracticeAISettings.objects.create(practice=self.practice, enabled=True, provider="IONOS", avv_signed_on=dt.date(2026, 1, 2))
        self.published: list[dict[str, Any]] = []
        before_task_publish.connect(self._record_publish, weak=False)
        self.addCleanup(before_task_publish.disconnect, self._record_publish)

    def _record_publish(self, sender: str | None = None, body: Any = None, headers: Any = None, **_: Any) -> None:
        # Task protocol 2: body is (args, kwargs, embed); the headers carry argsrepr/kwargsrepr.
        self.published.append({"task": sender, "body": body, "headers": headers})

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.llm.requests if r["path"].endswith("/chat/completions")]

    def close(self, note: str, date: dt.date) -> str:
        session = make_session(self.patient, self.alice, note=note, date=date)
        with self.settings(LLM_API_KEY="worker-key", LLM_BASE_URL=self.llm.base_url):
            session_services.close_session(session=session, request=fake_request(self.alice, self.practice))  # enqueued on commit
        return str(session.code)

    def wait_for_run(self, sid: str, worker: subprocess.Popen[bytes], log: Any) -> ExtractionRun:
        deadline = time.time() + 90
        run = None
        while time.time() < deadline and worker.poll() is None:
            run = ExtractionRun.objects.filter(source_kind="session", source_id=sid).first()
            if run is not None and run.status in (ExtractionRun.Status.DONE, ExtractionRun.Status.FAILED):
                return run
            time.sleep(0.3)
        log.seek(0)
        self.fail(f"no finished extraction run (run={run and run.status}); worker output:\n{log.read().decode()[-3000:]}")

    def test_closing_a_session_yields_proposals_via_a_real_worker(self) -> None:
        ensure_redis(Path(settings.VAR_DIR))
        env = {**os.environ, "DUKTUS_DB_NAME": connection.settings_dict["NAME"], "DUKTUS_VAR_DIR": str(settings.VAR_DIR),
               "LLM_API_KEY": "worker-key", "LLM_BASE_URL": self.llm.base_url, "LLM_MAX_RETRIES": "0", "LLM_TIMEOUT_SECONDS": "10"}
        log = tempfile.TemporaryFile()
        self.addCleanup(log.close)
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "duktus", "worker", "--pool", "solo", "-l", "warning",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            app.conf.task_always_eager = False
            self.llm.answers(VALID)
            sid = self.close(NOTE, dt.date(2026, 3, 5))
            run = self.wait_for_run(sid, worker, log)
            self.assertEqual((run.status, run.attempts, run.entries_created, run.error_kind), ("done", 1, 4, ""))

            # The broker got the source kind and the session's public id, nothing else.
            self.assertEqual([(p["task"], list(p["body"][0]), p["body"][1]) for p in self.published],
                             [("memory.extract_entries", ["session", sid], {})])
            sent = json.dumps(self.published, default=str).casefold()
            for s in [*SECRETS, "Umzug", "joggen"]:
                self.assertNotIn(s.casefold(), sent, f"reached the broker: {s}")

            # A redelivered message (acks_late) finds the run done: no model call, no new entries.
            # The solo worker runs one task at a time, so the first one (with its embeddings) is over.
            self.assertEqual(extract_entries.delay("session", sid).get(timeout=30), "done")
            self.assertEqual(len(self.chat_requests()), 1)
            self.assertEqual(ExtractionRun.objects.get(pk=run.pk).attempts, 1)

            entries = list(MemoryEntry.objects.filter(source_id=sid).order_by("id"))
            for e in entries:
                e.patient = self.patient
            self.assertEqual([(e.type, e.status) for e in entries], [
                ("clinical_fact", EntryStatus.PROPOSED), ("therapeutic_goal", EntryStatus.PROPOSED),
                ("intervention", EntryStatus.PROPOSED), ("resource", EntryStatus.PROPOSED)])
            # The placeholder in the answer became the name again (stored encrypted).
            self.assertEqual([e.text for e in entries], [
                "Anna Berger schläft seit dem Umzug kaum und grübelt nachts.",
                "Wieder an drei Tagen pro Woche joggen.", "Psychoedukation Schlafhygiene.", "Die Schwester unterstützt sie."])
            self.assertEqual(entries[3].excerpt, "Ihre Schwester unterstützt sie sehr.")  # the model's was no quote
            self.assertTrue(all(e.created_by == self.alice and e.date == dt.date(2026, 3, 5) for e in entries))
            self.assertEqual(MemoryVector.objects.filter(entry__in=entries).count(), 4)

            # Chat and embedding requests alike were anonymized.
            self.assertIn("[PERSON_1]", self.chat_requests()[0]["body"]["messages"][1]["content"])
            self.assertTrue(any(r["path"].endswith("/embeddings") for r in self.llm.requests))
            for body in self.llm.bodies():
                for s in SECRETS:
                    self.assertNotIn(s.casefold(), body.casefold(), f"identifier reached the server: {s}")

            # An unusable answer is asked for once more, then the run is reported; nothing stored.
            self.llm.answers("kein JSON", "immer noch kein JSON")
            sid2 = self.close("Sie berichtet von mehr Antrieb seit dem Sport.", dt.date(2026, 3, 12))
            run2 = self.wait_for_run(sid2, worker, log)
            self.assertEqual((run2.status, run2.error_kind, run2.attempts), ("failed", "malformed_json", 2))
            self.assertEqual(len(self.chat_requests()), 3)
            self.assertFalse(MemoryEntry.objects.filter(source_id=sid2).exists())
            self.assertTrue(AuditEntry.objects.filter(action="memory.extract_failed").exists())
            self.assertEqual(MemoryEntry.objects.count(), 4)
        finally:
            app.conf.task_always_eager = True
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
