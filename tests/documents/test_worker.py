"""AI drafts of a document's sections through a real Celery worker (embedded Redis, test DB)."""

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

from documents import services
from documents.models import Document, Provenance
from duktus.celery import app
from duktus.embedded import ensure_redis
from duktus.models import PracticeAISettings
from patients import services as patient_services
from tests.base import BaseTransactionTestCase
from tests.documents.helpers import fill_record, make_document
from tests.fake_llm import FakeLLM


@pytest.mark.worker
class DraftWorkerTestCase(BaseTransactionTestCase):
    def test_sections_are_drafted_by_a_real_worker(self) -> None:
        llm = FakeLLM().start()
        self.addCleanup(llm.stop)
        llm.reply("Im PHQ-9 zuletzt 8 Punkte (leicht) bei [PERSON_1]. [fehlt: Beginn der Beschwerden]")
        patient_services.record_consent(patient=self.patient, purpose="ai", action="given",
                                        effective_on=dt.date(2026, 1, 10), given_by="patient")
        PracticeAISettings.objects.create(practice=self.practice, enabled=True, provider="IONOS", avv_signed_on=dt.date(2026, 1, 2))
        fill_record(self.patient, self.alice)
        doc = make_document(self.patient, self.alice, "anamnese")
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
            services.request_drafts(document=doc, keys=["beschwerden", "familie"], user=self.alice)  # on commit
            deadline = time.time() + 90
            status: dict = {}
            while time.time() < deadline and worker.poll() is None:
                status = Document.objects.get(pk=doc.pk).ai_status
                if all(status.get(k, {}).get("state") in ("done", "failed") for k in ("beschwerden", "familie")):
                    break
                time.sleep(0.3)
            output = worker.stdout.read().decode()[-3000:] if worker.poll() is not None else ""
            self.assertEqual({k: v["state"] for k, v in status.items()}, {"beschwerden": "done", "familie": "done"}, output)
            fresh = Document.objects.get(pk=doc.pk)
            fresh.patient = self.patient
            self.assertEqual(fresh.sections["beschwerden"],
                             "Im PHQ-9 zuletzt 8 Punkte (leicht) bei Anna Berger. [fehlt: Beginn der Beschwerden]")
            self.assertEqual(fresh.sections["familie"], "[fehlt: Gedächtniseinträge zur Patientin / zum Patienten]")
            self.assertEqual((fresh.provenance["beschwerden"], fresh.provenance["familie"]), (Provenance.AI, Provenance.AI))
            chat = [r for r in llm.requests if r["path"].endswith("/chat/completions")]
            self.assertEqual(len(chat), 1)  # the section without material never reached the model
            self.assertNotIn("Berger", llm.bodies()[-1])
        finally:
            app.conf.task_always_eager = True
            worker.terminate()
            worker.wait(timeout=30)
