"""Patient list with 500 patients: server time per request including decryption.

Run: .venv/bin/python bench/patient_list_bench.py  (uses the embedded PostgreSQL in var/bench)
Target (issue 2): under 150 ms on this machine (2 cores).
"""

from __future__ import annotations

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
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from duktus.models import Practice, Role  # noqa: E402
from duktus.services import add_member, create_practice  # noqa: E402
from patients.demo import demo_patients  # noqa: E402
from patients.models import Patient  # noqa: E402
from patients.services import create_patient  # noqa: E402

N = int(os.environ.get("BENCH_PATIENTS", "500"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    practice = Practice.objects.filter(name="Bench-Praxis").first() or create_practice(name="Bench-Praxis")
    User = get_user_model()
    owner = User.objects.filter(email="bench-owner@example.org").first()
    if owner is None:
        owner = User.objects.create_user("bench-owner@example.org", "bench-owner@example.org", "bench-password-123")
        add_member(practice=practice, user=owner, role=Role.OWNER)
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        TOTP.activate(owner, generate_totp_secret())
    have = Patient.objects.filter(practice=practice).count()
    if have < N:
        t0 = time.perf_counter()
        rows = demo_patients(N, seed=7)
        for data in rows[have:]:
            create_patient(practice=practice, data={k: v for k, v in data.items() if not k.startswith("_")}, therapist=owner)
        print(f"created {N - have} patients in {time.perf_counter() - t0:.1f} s")
    client = Client()
    client.force_login(owner)
    client.get("/patienten/")  # warm-up
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        r = client.get("/patienten/")
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200 and r.content.count(b"<tr>") >= N
    search = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        client.post("/patienten/", {"q": "Ber"})
        search.append((time.perf_counter() - t0) * 1000)
    q = statistics.quantiles
    print(f"patient list, {N} patients, {RUNS} runs: p50 {statistics.median(times):.1f} ms, p95 {q(times, n=20)[18]:.1f} ms (target < 150 ms)")
    print(f"blind-index search 'Ber': p50 {statistics.median(search):.1f} ms, p95 {q(search, n=20)[18]:.1f} ms")


if __name__ == "__main__":
    main()
