"""Per-practice retention and backup settings, with the legal bounds.

Records: § 630f Abs. 3 BGB demands 10 years after the end of treatment; a practice may keep
them longer (e.g. 30 years for minors' records is common advice), never shorter. The access
log: the practice's setting, default 10 years. Backups: old master-key versions are destroyed
once the practice's documented backup window has passed (default 30 days).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from duktus.models import PracticePrivacySettings

MIN_RECORD_YEARS = 10
MAX_RECORD_YEARS = 30
MIN_AUDIT_YEARS = 1
MAX_AUDIT_YEARS = 30
MIN_BACKUP_DAYS = 1
MAX_BACKUP_DAYS = 365


def for_practice(practice: Any) -> PracticePrivacySettings:
    """The practice's row, or an unsaved one with the installation defaults."""
    if practice is not None and practice.pk is not None:
        row = PracticePrivacySettings.objects.filter(practice=practice).first()
        if row is not None:
            return row
    return PracticePrivacySettings(
        practice=practice if practice is not None and practice.pk else None,
        record_retention_years=max(getattr(settings, "PRIVACY_RETENTION_YEARS", MIN_RECORD_YEARS), MIN_RECORD_YEARS),
        audit_retention_years=max(round(settings.AUDIT_LOG_RETENTION_DAYS / 365), MIN_AUDIT_YEARS),
        backup_window_days=getattr(settings, "PRIVACY_BACKUP_WINDOW_DAYS", 30),
    )


def record_years(practice: Any = None) -> int:
    """Never below the legal minimum, whatever the row or the environment says."""
    return max(for_practice(practice).record_retention_years, MIN_RECORD_YEARS)


def backup_window(practice: Any = None) -> dt.timedelta:
    days = for_practice(practice).backup_window_days
    return dt.timedelta(days=min(max(days, MIN_BACKUP_DAYS), MAX_BACKUP_DAYS))


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` + `years`; 29 February → 1 March (the later day: never a day early)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def audit_cutoff(practice: Any, now: dt.datetime) -> dt.datetime:
    """Audit entries before this instant are past the practice's log retention."""
    if practice is None or not PracticePrivacySettings.objects.filter(practice=practice).exists():
        return now - dt.timedelta(days=settings.AUDIT_LOG_RETENTION_DAYS)
    years = min(max(for_practice(practice).audit_retention_years, MIN_AUDIT_YEARS), MAX_AUDIT_YEARS)
    day = now.date()
    try:
        back = day.replace(year=day.year - years)
    except ValueError:  # 29 February → 28 February: keep a day longer rather than shorter
        back = dt.date(day.year - years, 2, 28)
    return now.replace(year=back.year, month=back.month, day=back.day)


def update(*, practice: Any, user: Any, record_retention_years: int, audit_retention_years: int,
           backup_window_days: int, backup_note: str) -> PracticePrivacySettings:
    row, _ = PracticePrivacySettings.objects.get_or_create(practice=practice)
    row.record_retention_years = record_retention_years
    row.audit_retention_years = audit_retention_years
    row.backup_window_days = backup_window_days
    row.backup_note = backup_note
    row.updated_by = user
    row.save()
    return row
