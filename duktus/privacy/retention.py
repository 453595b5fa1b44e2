"""Daily retention run (beat): expired records (notice, then erasure), old audit entries, old
export files, due master-key destructions. Every run writes a RetentionReport (counts only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from duktus import audit
from duktus.models import AuditEntry, Practice, RetentionReport
from duktus.privacy import erasure, export

NOTICE_PERIOD = dt.timedelta(days=30)


def expired_patients(practice: Any, today: dt.date) -> list[Any]:
    """Patients whose retention ended (retention_end(treatment_end) ≤ today). Restricted
    patients are included: their restriction scheduled exactly this deletion."""
    from patients.models import Patient

    years = erasure.retention_years()
    # Coarse filter in SQL (plaintext treatment_end), exact leap-year rule in Python.
    cutoff = dt.date(today.year - years, 12, 31)
    candidates = Patient.objects.filter(practice=practice, treatment_end__isnull=False, treatment_end__lte=cutoff)
    return [p for p in candidates.select_related("data_key") if (end := erasure.retention_end(p.treatment_end)) and end <= today]


def erasure_due_on(patient: Any) -> dt.date | None:
    """Erasure happens after a 30-day notice to the owner counted from the end of retention."""
    end = erasure.retention_end(patient.treatment_end)
    return end + NOTICE_PERIOD if end else None


def run(*, now: dt.datetime | None = None, dry_run: bool = False) -> RetentionReport:
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts: dict[str, int] = {"noticed": 0, "erased": 0, "audit_deleted": 0, "exports_deleted": 0, "keys_destroyed": 0}
    for practice in Practice.objects.order_by("id"):
        for patient in expired_patients(practice, today):
            patient.practice = practice
            due_on = erasure_due_on(patient)
            if due_on and today >= due_on:
                counts["erased"] += 1
                if not dry_run:
                    erasure.erase(request=None, patient=patient, today=today)
            else:
                counts["noticed"] += 1
    cutoff = now - dt.timedelta(days=settings.AUDIT_LOG_RETENTION_DAYS)
    old_audit = AuditEntry.objects.filter(at__lt=cutoff)
    counts["audit_deleted"] = old_audit.count()
    if not dry_run:
        old_audit.delete()
    counts["exports_deleted"] = export.delete_expired_exports(now=now, dry_run=dry_run)
    counts["keys_destroyed"] = len(erasure.destroy_due_keys(now=now, dry_run=dry_run))
    report = RetentionReport.objects.create(ran_at=now, dry_run=dry_run, counts=counts)
    if not dry_run:
        audit.record(None, "privacy.retention_run", detail=" ".join(f"{k}={v}" for k, v in counts.items()))
    return report


def notices_for(practice: Any, today: dt.date | None = None) -> list[tuple[Any, dt.date | None]]:
    """For the owner: records past retention and the day they will be erased."""
    today = today or timezone.localdate()
    return [(p, erasure_due_on(p)) for p in expired_patients(practice, today)]
