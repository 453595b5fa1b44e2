"""A real Celery worker process on the embedded Redis, reading the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import TransactionTestCase

from duktus.celery import app
from duktus.embedded import ensure_redis
from duktus.services import create_practice


@pytest.mark.worker
class RealWorkerTestCase(TransactionTestCase):
    def test_task_round_trip_through_a_real_worker(self) -> None:
        create_practice(name="Worker-Praxis")
        ensure_redis(Path(settings.VAR_DIR))
        env = {**os.environ, "DUKTUS_DB_NAME": connection.settings_dict["NAME"], "DUKTUS_VAR_DIR": str(settings.VAR_DIR)}
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "duktus", "worker", "--pool", "solo", "-l", "warning", "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        try:
            app.conf.task_always_eager = False
            result = app.send_task("duktus.ping")
            deadline = time.time() + 60
            value = None
            while time.time() < deadline:
                if result.ready():
                    value = result.get(timeout=1)
                    break
                if worker.poll() is not None:
                    break
                time.sleep(0.2)
            self.assertEqual(value, {"pong": True, "practices": 1}, worker.stdout.read().decode()[-3000:] if worker.poll() is not None else "")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
