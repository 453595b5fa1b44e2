"""PDF export of a 3-page report: time per render (HTML + WeasyPrint layout + PDF), incl. two
trend charts, letterhead with logo and decryption of the document.

Run (starts/uses the embedded PostgreSQL in var/bench):
    DUKTUS_VAR_DIR=var/bench .venv/bin/python -m duktus.embedded start
    DUKTUS_VAR_DIR=var/bench .venv/bin/python bench/pdf_bench.py
Target (issue 7): a 3-page report renders in under 2 s on this machine (2 cores).
"""

from __future__ import annotations

import datetime as dt
import io
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

from assessments import services as assessment_services  # noqa: E402
from documents import pdf, services  # noqa: E402
from duktus.models import Practice, Role  # noqa: E402
from duktus.services import add_member, create_practice  # noqa: E402
from patients import services as patient_services  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "10"))
PARAGRAPH = ("Die Patientin berichtet über eine deutliche Besserung der Stimmung seit der Einführung der "
             "Aktivitätenplanung. Sie nimmt wieder an \"kleinen Dingen\" teil, geht zweimal pro Woche schwimmen und "
             "hat den Kontakt zu einer früheren Kollegin aufgenommen. Grübeln tritt vor allem abends auf; "
             "mit der Technik des Grübelaufschubs gelingt es ihr an etwa der Hälfte der Tage, sich zu distanzieren. ")


def _logo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 90), (31, 58, 95)).save(out, format="PNG")
    return out.getvalue()


def setup() -> object:
    call_command("migrate", verbosity=0)
    practice = Practice.objects.filter(name="Bench-Praxis PDF").first() or create_practice(name="Bench-Praxis PDF", city="Berlin")
    User = get_user_model()
    user = User.objects.filter(email="bench-pdf@example.org").first()
    if user is None:
        user = User.objects.create_user("bench-pdf@example.org", "bench-pdf@example.org", "bench-password-123")
        add_member(practice=practice, user=user, role=Role.OWNER)
    services.save_letterhead(practice=practice, name="Praxis für Psychotherapie Dr. Bench",
                             address="Musterstraße 1\n10115 Berlin", contact="030 1234567", logo=_logo(),
                             remove_logo=False, user=user)
    patient = patient_services.create_patient(practice=practice, therapist=user, data={
        "first_name": "Berta", "last_name": "Beispiel", "birth_date": dt.date(1980, 5, 6), "gender": "female",
        "insurance_type": "gkv", "treatment_start": dt.date(2025, 9, 1)})
    patient_services.add_diagnosis(patient=patient, icd_code="F33.1", icd_version=2025, certainty="G", is_primary=True,
                                   diagnosed_on=dt.date(2025, 9, 1))
    patient_services.add_approval(patient=patient, phase="lzt", approved_sessions=60, approved_on=dt.date(2025, 10, 1),
                                  sessions_used=40)
    for n, total in enumerate((19, 17, 15, 12, 10, 8)):
        answers = [min(3, total // 9 + (1 if i < total % 9 else 0)) for i in range(9)]
        answers[8] = 0
        assessment_services.record_administration(patient=patient, instrument="phq9", answers=answers,
                                                  administered_on=dt.date(2025, 9, 1) + dt.timedelta(days=28 * n),
                                                  source="therapist")
        assessment_services.record_administration(patient=patient, instrument="gad7", answers=[min(3, total // 7)] * 7,
                                                  administered_on=dt.date(2025, 9, 1) + dt.timedelta(days=28 * n),
                                                  source="therapist")
    doc = services.create_document(patient=patient, template_key="psychotherapie_verlaufsbericht", user=user)
    for key, paragraphs in (("f1_verlauf", 5), ("f2_ziele", 4), ("f4_begruendung", 4)):
        text = doc.sections.get(key, "") + "\n\n" + "\n\n".join(PARAGRAPH for _ in range(paragraphs))
        doc = services.update_section(document=doc, key=key, text=text, user=user)
    return doc


def main() -> None:
    import logging

    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    doc = setup()
    t0 = time.perf_counter()
    first, pages = pdf._write(pdf.render_html(doc))
    cold = time.perf_counter() - t0
    html_times, total_times = [], []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        html = pdf.render_html(doc)
        t1 = time.perf_counter()
        content, pages = pdf._write(html)
        t2 = time.perf_counter()
        html_times.append(t1 - t0)
        total_times.append(t2 - t0)
    total_times.sort()
    print(f"pages: {pages}, PDF size: {len(content) // 1024} KB, runs: {RUNS}")
    print(f"first render (cold: fonts, imports): {cold * 1000:.0f} ms")
    print(f"warm render p50 {statistics.median(total_times) * 1000:.0f} ms, max {total_times[-1] * 1000:.0f} ms "
          f"(HTML + queries p50 {statistics.median(html_times) * 1000:.0f} ms)")
    print("target: < 2000 ms for a 3-page report")


if __name__ == "__main__":
    main()
