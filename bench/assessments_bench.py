"""Questionnaires: scoring throughput, SVG chart rendering, the start page and the patient page
with many patients and administrations (server time per request including decryption).

Run (embedded PostgreSQL in var/bench unless DUKTUS_VAR_DIR says otherwise):
    DUKTUS_VAR_DIR=var/bench .venv/bin/python -m duktus.embedded start
    .venv/bin/python bench/assessments_bench.py
Environment: BENCH_PATIENTS (default 200), BENCH_RUNS (default 20).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DUKTUS_VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duktus.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from assessments import services  # noqa: E402
from assessments.charts import trend_svg  # noqa: E402
from assessments.scoring import score  # noqa: E402
from duktus.models import Practice, Role  # noqa: E402
from duktus.services import add_member, create_practice  # noqa: E402
from patients.crisis import raise_crisis  # noqa: E402
from patients.demo import demo_patients  # noqa: E402
from patients.models import Patient  # noqa: E402
from patients.services import create_patient  # noqa: E402

N = int(os.environ.get("BENCH_PATIENTS", "200"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))


def timed(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def count_queries(fn) -> int:  # type: ignore[no-untyped-def]
    """Queries one call runs (an execute wrapper survives the request closing the connection)."""
    n = [0]

    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        n[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return n[0]


def p(values: list[float]) -> str:
    return f"p50 {statistics.median(values):.1f} ms, p95 {statistics.quantiles(values, n=20)[18]:.1f} ms"


def pure() -> None:
    answers = [1, 2, 0, 1, 3, 0, 1, 2, 1]
    n = 20000
    t0 = time.perf_counter()
    for _ in range(n):
        score("phq9", answers, previous_total=16)
    per = (time.perf_counter() - t0) / n * 1e6
    t0 = time.perf_counter()
    for _ in range(n):
        score("ors", ["6.1", "7.2", "5.0", "8.4"], previous_total="20.0")
    per_ors = (time.perf_counter() - t0) / n * 1e6
    print(f"score(): PHQ-9 {per:.1f} µs, ORS (Decimal) {per_ors:.1f} µs per call")
    points = [(dt.date(2025, 1, 6) + dt.timedelta(days=7 * i), (i * 7) % 28, set()) for i in range(52)]
    times = timed(lambda: trend_svg("phq9", points), 50)
    print(f"trend_svg(): 52 weekly PHQ-9 points, {p(times)}, {len(trend_svg('phq9', points)) / 1024:.1f} KiB")


def setup_data():  # type: ignore[no-untyped-def]
    practice = Practice.objects.filter(name="Bench-Fragebogen").first() or create_practice(name="Bench-Fragebogen")
    User = get_user_model()
    owner = User.objects.filter(email="bench-assess@example.org").first()
    if owner is None:
        owner = User.objects.create_user("bench-assess@example.org", "bench-assess@example.org", "bench-password-123")
        add_member(practice=practice, user=owner, role=Role.OWNER)
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        TOTP.activate(owner, generate_totp_secret())
    have = Patient.objects.filter(practice=practice).count()
    if have < N:
        from tests.assessments.helpers import fake_request

        t0 = time.perf_counter()
        request = fake_request(owner, practice)
        for i, data in enumerate(demo_patients(N, seed=11)[have:], start=have):
            patient = create_patient(practice=practice, data={k: v for k, v in data.items() if not k.startswith("_")}, therapist=owner)
            for week in range(4):
                services.record_administration(
                    patient=patient, instrument="phq9", answers=[min(3, (week + i) % 4)] * 8 + [0],
                    administered_on=dt.date(2026, 1, 5) + dt.timedelta(days=14 * week), source="therapist", entered_by=owner,
                )
                services.record_administration(
                    patient=patient, instrument="gad7", answers=[week % 4] * 7,
                    administered_on=dt.date(2026, 1, 5) + dt.timedelta(days=14 * week), source="therapist", entered_by=owner,
                )
            services.set_schedule(patient=patient, instrument="phq9", interval_days=28, starts_on=dt.date(2026, 1, 5), request=request)
            if i % 10 == 0:
                raise_crisis(patient=patient, source="manual", source_id=f"bench-{i}", summary="Bench")
        print(f"created {N - have} patients with 8 administrations each in {time.perf_counter() - t0:.1f} s")
    return practice, owner


def pages() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    practice, owner = setup_data()
    client = Client()
    client.force_login(owner)
    assert client.get("/").status_code == 200
    queries = count_queries(lambda: client.get("/"))
    print(f"start page, {N} patients ({N // 10} open crises, {N} schedules, {N * 8} administrations): "
          f"{p(timed(lambda: client.get('/'), RUNS))}, {queries} queries")
    patient = Patient.objects.filter(practice=practice).order_by("id").first()
    url = f"/patienten/{patient.code}/"
    r = client.get(url)
    assert r.status_code == 200 and r.content.count(b'class="trend ') == 2
    queries = count_queries(lambda: client.get(url))
    print(f"patient page with 2 charts (8 administrations): {p(timed(lambda: client.get(url), RUNS))}, {queries} queries")


if __name__ == "__main__":
    pure()
    pages()
