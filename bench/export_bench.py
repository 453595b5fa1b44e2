"""Art. 15/20 export of one patient with 200 sessions and 50 documents (issue 8: under 10 s).

Run (starts and stops its own embedded PostgreSQL + Redis in var/bench_export):
    .venv/bin/python bench/export_bench.py
Data: 200 closed sessions with notes (~1,200 characters) and private process notes, each with
its frozen note version; 50 documents from the real templates (pre-filled from the record);
diagnoses, consents and the access log that all this writes. Measured: the registry walk
(decryption of every part), the readable record (HTML), the encrypted ZIP, and the whole
Celery task path (request_export → build_export → run_export) with progress and file write.
Files attached by parts (Part.files, e.g. documents as PDF) are counted and included.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DUKTUS_VAR_DIR", str(ROOT / "var" / "bench_export"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duktus.settings")

from duktus import embedded  # noqa: E402

VAR = Path(os.environ["DUKTUS_VAR_DIR"])
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "200"))
DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", "50"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
NOTE = ("Patientin berichtet über eine ruhigere Woche. Die Schlafprobleme haben sich etwas gebessert, "
        "das Grübeln am Abend tritt seltener auf. Wir arbeiten weiter an der Aktivitätenplanung und "
        "besprechen die Rückfallprophylaxe. ") * 5
PROCESS = "Übertragung: Ärger über die Abwesenheit im Urlaub, eigene Müdigkeit in der Stunde bemerkt."


def _setup() -> tuple[object, object]:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from duktus.models import Practice, Role
    from duktus.services import add_member, create_practice
    from patients import services as patient_services
    from patients.models import Patient

    call_command("migrate", verbosity=0)
    practice = Practice.objects.filter(name="Export-Bench").first() or create_practice(name="Export-Bench")
    User = get_user_model()
    user = User.objects.filter(email="export-bench@example.org").first()
    if user is None:
        user = User.objects.create_user("export-bench@example.org", "export-bench@example.org", "bench-password-123")
        add_member(practice=practice, user=user, role=Role.OWNER)
        TOTP.activate(user, generate_totp_secret())
    patient = Patient.objects.filter(practice=practice).select_related("data_key").first()
    if patient is None:
        patient = patient_services.create_patient(practice=practice, therapist=user, data={
            "first_name": "Erika", "last_name": "Mustermann", "birth_date": dt.date(1980, 5, 17), "gender": "female",
            "street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "phone": "030 123456",
            "email": "erika@example.org", "insurance_type": "gkv", "insurer": "AOK", "insurance_number": "A123456789",
            "treatment_start": dt.date(2022, 1, 10), "treatment_end": None, "is_minor": False,
            "guardian_name": "", "guardian_contact": "", "guardian_custody": ""})
        for code in ("F32.1", "F41.1"):
            patient_services.add_diagnosis(patient=patient, icd_code=code, icd_version=2025, certainty="G",
                                           is_primary=code == "F32.1", diagnosed_on=dt.date(2022, 1, 20), note="Erstdiagnose")
    patient.practice = practice
    _sessions(patient, user)
    _documents(patient, user)
    return patient, user


def _sessions(patient: object, user: object) -> None:
    from sessions import services as session_services
    from sessions.models import TherapySession

    have = TherapySession.objects.filter(patient=patient).count()
    if have >= SESSIONS:
        return
    t0 = time.perf_counter()
    start = dt.date(2022, 1, 17)
    for i in range(have, SESSIONS):
        s = session_services.create_session(patient=patient, date=start + dt.timedelta(days=7 * i), duration_minutes=50,
                                            setting="einzel", approval=None, user=user)
        s.patient = patient
        s.note = f"Sitzung {i + 1}. {NOTE}"
        s.process_notes = PROCESS
        s.save()
        session_services.start_session(session=s)
        session_services.close_session(session=s)
    print(f"created {SESSIONS - have} sessions in {time.perf_counter() - t0:.1f} s")


def _documents(patient: object, user: object) -> None:
    from documents import definitions
    from documents import services as document_services
    from documents.models import Document

    have = Document.objects.filter(patient=patient).count()
    if have >= DOCUMENTS:
        return
    keys = sorted(definitions.all_templates())
    t0 = time.perf_counter()
    for i in range(have, DOCUMENTS):
        document_services.create_document(patient=patient, template_key=keys[i % len(keys)], user=user)
    print(f"created {DOCUMENTS - have} documents in {time.perf_counter() - t0:.1f} s")


def _measure(patient: object, user: object) -> None:
    from duktus.privacy import export, registry
    from patients.models import Patient

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other processes share the machine)")
    phases: dict[str, list[float]] = {"collect": [], "html": [], "zip": [], "total": []}
    size = 0
    for _ in range(RUNS):
        fresh = Patient.objects.select_related("data_key", "practice").get(pk=patient.pk)  # cold data key, like the task
        t0 = time.perf_counter()
        data, files = export.collect(fresh, [])  # includes the documents' PDFs (Part.files)
        t1 = time.perf_counter()
        html = export.render_record(data)
        t2 = time.perf_counter()
        content = export.build_zip(data, files=files, password=export.new_password())  # renders the HTML again
        t3 = time.perf_counter()
        size = len(content)
        for key, value in (("collect", t1 - t0), ("html", t2 - t1), ("zip", t3 - t2), ("total", t3 - t0)):
            phases[key].append(value)
    counts = {p.key: len(data["parts"].get(p.key, data["separate_parts"].get(p.key, {}).get("rows", [])))
              for p in registry.parts()}
    print(f"rows: sessions {counts.get('therapy_sessions')}, note versions {counts.get('session_note_versions')}, "
          f"process notes {counts.get('session_process_notes')}, documents {counts.get('documents')}, "
          f"document versions {counts.get('document_versions')}, access log {counts.get('access_log')}, files {len(files)}")
    for key, values in phases.items():
        print(f"{key:8s} median {statistics.median(values):6.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})")
    print(f"ZIP size {size / 1e6:.2f} MB, HTML {len(html) / 1e6:.2f} MB")

    # The real task path: job row, password stash, the task body with progress updates, file write.
    from unittest import mock

    from django.test import RequestFactory

    from duktus.privacy import tasks

    request = RequestFactory().post("/")
    request.user = user
    with mock.patch.object(tasks.build_export, "delay", side_effect=lambda job_id: tasks.build_export(job_id)):
        t0 = time.perf_counter()
        job, _ = export.request_export(request=request, patient=patient, withheld=[], withheld_reason="")
        elapsed = time.perf_counter() - t0
    job.refresh_from_db()
    path = export.export_dir() / job.file_name
    print(f"export task end to end {elapsed:.2f} s, status {job.status}, progress {job.progress} %, "
          f"ZIP {path.stat().st_size / 1e6:.2f} MB  (target < 10 s)")
    path.unlink()

    # Documents as PDF rendered one after the other (what the thread pool in export.collect saves).
    try:
        from documents import pdf as document_pdf
        from documents.models import Document
    except ImportError:
        return
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    docs = list(Document.objects.filter(patient=patient).order_by("id"))
    t0 = time.perf_counter()
    total = 0
    for d in docs:
        d.patient = patient
        total += len(document_pdf.render_document(d))
    elapsed = time.perf_counter() - t0
    print(f"for comparison, {len(docs)} documents as PDF one after the other (documents/pdf.py): {elapsed:.2f} s, "
          f"{elapsed / max(len(docs), 1):.2f} s each, {total / 1e6:.1f} MB")


def main() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    embedded.main(["start"])
    try:
        import django

        django.setup()
        patient, user = _setup()
        _measure(patient, user)
    finally:
        embedded.main(["stop"])


if __name__ == "__main__":
    main()
