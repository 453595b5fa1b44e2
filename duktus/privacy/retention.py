"""Daily retention run (beat): expired records (notice, then erasure), old audit entries, old
temporary files, due master-key destructions. Every run writes a RetentionReport (counts only,
never names or pseudonyms)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from duktus import audit
from duktus.models import AuditEntry, Practice, RetentionReport
from duktus.privacy import erasure, export
from duktus.privacy import settings as privacy_settings

NOTICE_PERIOD = dt.timedelta(days=30)
TEMP_TTL = dt.timedelta(hours=24)
# Folders under VAR_DIR for temporary files (exports live in export.export_dir(); uploads in
# progress in FILE_UPLOAD_TEMP_DIR). An app with its own temp folder adds it with register_temp_dir().
_TEMP_DIRS: list[str] = ["tmp"]


def register_temp_dir(name: str) -> None:
    if name not in _TEMP_DIRS:
        _TEMP_DIRS.append(name)


def expired_patients(practice: Any, today: dt.date) -> list[Any]:
    """Patients whose retention ended (retention_end(treatment_end) ≤ today). Restricted
    patients are included: their restriction scheduled exactly this deletion. Open treatments
    (treatment_end empty) never expire."""
    from patients.models import Patient

    years = erasure.retention_years(practice)
    # Coarse filter in SQL (plaintext treatment_end), exact leap-year rule in Python.
    cutoff = dt.date(today.year - years, 12, 31)
    candidates = Patient.objects.filter(practice=practice, treatment_end__isnull=False, treatment_end__lte=cutoff)
    return [p for p in candidates.select_related("data_key")
            if (end := erasure.retention_end(p.treatment_end, years)) and end <= today]


def erasure_due_on(patient: Any) -> dt.date | None:
    """Erasure happens after a 30-day notice to the owner counted from the end of retention."""
    end = erasure.retention_end(patient.treatment_end, erasure.retention_years(patient.practice))
    return end + NOTICE_PERIOD if end else None


def delete_old_audit_entries(*, now: dt.datetime, dry_run: bool = False) -> int:
    """Delete audit entries past their practice's log retention.

    The chain is one for the installation and verify_chain() anchors it at the first remaining
    entry, so only a prefix can go: everything before the oldest entry that some practice must
    still keep. With several practices the longest setting governs the oldest end.
    """
    first_kept: list[int] = []
    for practice in Practice.objects.order_by("id"):
        cutoff = privacy_settings.audit_cutoff(practice, now)
        first = AuditEntry.objects.filter(practice=practice, at__gte=cutoff).aggregate(m=Min("id"))["m"]
        if first is not None:
            first_kept.append(first)
    system_cutoff = now - dt.timedelta(days=settings.AUDIT_LOG_RETENTION_DAYS)
    first = AuditEntry.objects.filter(practice__isnull=True, at__gte=system_cutoff).aggregate(m=Min("id"))["m"]
    if first is not None:
        first_kept.append(first)
    old = AuditEntry.objects.all() if not first_kept else AuditEntry.objects.filter(id__lt=min(first_kept))
    count = old.count()
    if count and not dry_run:
        old.delete()
    return count


def delete_old_temp_files(*, now: dt.datetime, dry_run: bool = False) -> int:
    count = 0
    roots = [Path(settings.VAR_DIR) / name for name in _TEMP_DIRS]
    if getattr(settings, "FILE_UPLOAD_TEMP_DIR", None):
        roots.append(Path(settings.FILE_UPLOAD_TEMP_DIR))
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*"), reverse=True):  # files before their folders
            if path.is_file() and now - dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC) > TEMP_TTL:
                count += 1
                if not dry_run:
                    path.unlink(missing_ok=True)
    return count


def run(*, now: dt.datetime | None = None, dry_run: bool = False) -> RetentionReport:
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts: dict[str, int] = {"noticed": 0, "erased": 0, "audit_deleted": 0, "exports_deleted": 0,
                              "temp_files_deleted": 0, "keys_destroyed": 0}
    certs = []
    for practice in Practice.objects.order_by("id"):
        for patient in expired_patients(practice, today):
            patient.practice = practice
            due_on = erasure_due_on(patient)
            if due_on and today >= due_on:
                counts["erased"] += 1
                if not dry_run:
                    certs.append(erasure.erase(request=None, patient=patient, today=today, rotate=False))
            else:
                counts["noticed"] += 1
    erasure.rotate_after_erasures(certs, now=now)  # one key rotation per run, not per record
    counts["audit_deleted"] = delete_old_audit_entries(now=now, dry_run=dry_run)
    counts["exports_deleted"] = export.delete_expired_exports(now=now, dry_run=dry_run)
    counts["temp_files_deleted"] = delete_old_temp_files(now=now, dry_run=dry_run)
    counts["keys_destroyed"] = len(erasure.destroy_due_keys(now=now, dry_run=dry_run))
    report = RetentionReport.objects.create(ran_at=now, dry_run=dry_run, counts=counts)
    if not dry_run:
        audit.record(None, "privacy.retention_run", detail=" ".join(f"{k}={v}" for k, v in counts.items()))
    return report


def notices_for(practice: Any, today: dt.date | None = None) -> list[tuple[Any, dt.date | None]]:
    """For the owner: records past retention and the day they will be erased."""
    today = today or timezone.localdate()
    return [(p, erasure_due_on(p)) for p in expired_patients(practice, today)]


def restricted_for(practice: Any) -> list[tuple[Any, Any]]:
    """For the owner: patients with restricted processing and their scheduled erasure day
    (hidden from every other list)."""
    from duktus.models import PatientRestriction
    from patients.models import Patient

    restrictions = {r.patient_ref: r for r in PatientRestriction.objects.filter(practice=practice)}
    patients = Patient.objects.filter(practice=practice, pk__in=restrictions).select_related("data_key").order_by("id")
    return [(p, restrictions[p.pk]) for p in patients]
