"""Art. 17 DSGVO, honest about § 630f BGB.

During the statutory retention period (10 years after the end of treatment; open treatment =
ongoing) erasure is refused (Art. 17(3)(b),(c)). The practice may restrict processing instead
(Art. 18) and schedule deletion for the end of retention. An owner can force erasure with a
documented legal reason.

Erasure reaches backups: after the registry erasers ran (rows, blind index, data key), every
remaining practice key is re-wrapped under a new master version and the old master versions are
destroyed after the backup window. A backup taken before the erasure then holds the patient's
DataKey wrapped under a practice key wrapped under a master version that no longer exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from duktus import audit, crypto
from duktus.models import (
    ErasureCertificate,
    PatientRestriction,
    PendingKeyDestruction,
    PracticeKey,
)
from duktus.privacy import registry

MIN_RETENTION_YEARS = 10


def retention_years() -> int:
    return max(getattr(settings, "PRIVACY_RETENTION_YEARS", MIN_RETENTION_YEARS), MIN_RETENTION_YEARS)


def backup_window() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "PRIVACY_BACKUP_WINDOW_DAYS", 30))


def retention_end(treatment_end: dt.date | None, years: int | None = None) -> dt.date | None:
    """Last day of the retention period; None while the treatment is open.

    Leap day: 10 years after 2016-02-29 there is no 29 February, so the period ends on
    2026-03-01 (the later date: we never erase a day early). From that day on erasure is allowed.
    """
    if treatment_end is None:
        return None
    years = years or retention_years()
    try:
        return treatment_end.replace(year=treatment_end.year + years)
    except ValueError:  # 29 February → 1 March
        return dt.date(treatment_end.year + years, 3, 1)


@dataclass(frozen=True)
class ErasureCheck:
    allowed: bool
    reason: str
    retention_until: dt.date | None


def check_erasure(patient: Any, today: dt.date | None = None) -> ErasureCheck:
    today = today or timezone.localdate()
    end = retention_end(patient.treatment_end)
    if end is None:
        return ErasureCheck(False, "Die Behandlung ist nicht abgeschlossen: Die Dokumentation muss nach § 630f Abs. 3 BGB "
                            "aufbewahrt werden (Art. 17 Abs. 3 lit. b, c DSGVO).", None)
    if today < end:
        return ErasureCheck(False, f"Gesetzliche Aufbewahrungsfrist (§ 630f Abs. 3 BGB) bis {end:%d.%m.%Y}: "
                            "Löschung nach Art. 17 Abs. 3 lit. b, c DSGVO ausgeschlossen.", end)
    return ErasureCheck(True, "Aufbewahrungsfrist abgelaufen.", end)


def is_restricted(patient: Any) -> bool:
    """The one check later (AI) features call: processing is restricted (Art. 18)."""
    return PatientRestriction.objects.filter(patient_ref=patient.pk).exists()


def restrict(*, request: Any, patient: Any, reason: str) -> PatientRestriction:
    end = retention_end(patient.treatment_end)
    restriction, _ = PatientRestriction.objects.update_or_create(
        patient_ref=patient.pk,
        defaults={"practice": patient.practice, "reason": reason, "erase_on": end, "created_by": request.user if request else None},
    )
    audit.record(request, "privacy.restricted", patient=patient,
                 detail=f"Löschung geplant am {end:%d.%m.%Y}" if end else "Löschung nach Behandlungsende")
    return restriction


class ErasureRefused(Exception):
    pass


def erase(*, request: Any, patient: Any, actor: Any = None, force_reason: str = "", today: dt.date | None = None) -> ErasureCertificate:
    """Run every registry eraser, rotate the master key, schedule destruction, write a certificate.

    force_reason: an owner's documented legal reason to erase during retention.
    """
    check = check_erasure(patient, today)
    if not check.allowed and not force_reason:
        raise ErasureRefused(check.reason)
    actor = actor or (request.user if request else None)
    practice = patient.practice
    pseudonym = patient.pseudonym
    audit.record(request, "privacy.erasure_started", patient=patient, actor=actor,
                 detail=("erzwungen: " + force_reason) if force_reason else "")
    parts = registry.parts()
    last = {"patients.Patient": 1, "duktus.DataKey": 2}
    parts.sort(key=lambda p: last.get(p.model._meta.label, 0))
    deleted: dict[str, int] = {}
    with transaction.atomic():
        for part in parts:
            deleted[part.model._meta.label] = part.eraser(patient)
        # FKs are deferred: check now, so a row no eraser removed fails here, not at commit.
        connection.check_constraints()
        PatientRestriction.objects.filter(patient_ref=patient.pk).delete()
        deleted["export files"] = _delete_export_files(patient)
    now = timezone.now()
    cert = ErasureCertificate.objects.create(
        practice=practice, patient_pseudonym=pseudonym, erased_at=now,
        erased_by_label=(actor.email if actor else "system"), forced=bool(force_reason), legal_reason=force_reason,
        deleted=deleted,
        remains=[
            ("Zugriffsprotokoll: nur pseudonymisierte Einträge (Pseudonym, Zeitpunkt, Aktion), bis zum Ablauf der "
             "Protokollaufbewahrung – Nachweis der Rechenschaftspflicht (Art. 5 Abs. 2 DSGVO)."),
            "Diese Löschbestätigung ohne klinische Daten (Art. 5 Abs. 2 DSGVO).",
            ("Backups: verschlüsselt; die bisherige Hauptschlüssel-Version wird nach Ablauf des Backup-Fensters "
             "vernichtet, danach sind die Daten auch in Backups unlesbar. Wiederherstellung: Datenzeilen aus "
             "dem Backup, Schlüsselzeilen aus dem laufenden System."),
        ],
    )
    _rotate_practice_key(practice)
    _rotate_for_backups(cert, now)
    audit.record(request, "privacy.erased", practice=practice, obj=cert, actor=actor,
                 detail=f"Pseudonym {pseudonym}" + (" (erzwungen)" if force_reason else ""))
    return cert


def _delete_export_files(patient: Any) -> int:
    from duktus.models import ExportJob
    from duktus.privacy.export import export_dir

    count = 0
    for job in ExportJob.objects.filter(patient_ref=patient.pk).exclude(file_name=""):
        path = export_dir() / job.file_name
        if path.exists():
            path.unlink()
            count += 1
    ExportJob.objects.filter(patient_ref=patient.pk).update(status=ExportJob.Status.EXPIRED, file_name="")
    return count


def _rotate_practice_key(practice: Any) -> None:
    """New practice key: remaining data keys are re-wrapped (their raw keys stay the same, so the
    live system reads everything), and the old practice key rows are deleted. The erased
    patient's DataKey in a backup is wrapped under the old practice key, which from now on
    exists only in backups, wrapped under master versions due for destruction."""
    crypto.rotate_practice_key(practice)
    PracticeKey.objects.filter(practice=practice, retired_at__isnull=False).delete()
    practice._duktus_keyring = None


def _rotate_for_backups(cert: ErasureCertificate, now: dt.datetime) -> None:
    if not crypto.master_keys_from_file():
        return  # operator-managed master key: rotation is a documented manual step
    old = sorted(crypto.master_keyring().keys)
    new_version = crypto.rotate_master_key()
    due = now + backup_window()
    PendingKeyDestruction.objects.create(versions=old, due_at=due)
    cert.new_master_version = new_version
    cert.old_master_versions_destroy_after = due
    cert.save(update_fields=["new_master_version", "old_master_versions_destroy_after"])


def destroy_due_keys(*, now: dt.datetime | None = None, dry_run: bool = False) -> list[int]:
    """Destroy master versions whose backup window has passed."""
    now = now or timezone.now()
    destroyed: list[int] = []
    for pending in PendingKeyDestruction.objects.filter(done_at__isnull=True, due_at__lte=now).order_by("id"):
        ring = crypto.master_keyring()
        versions = [v for v in pending.versions if v in ring.keys and v != ring.primary]
        if not dry_run:
            if versions:
                crypto.rewrap_practice_keys()
                crypto.rewrap_system_secrets()
                crypto.destroy_master_versions(versions)
            pending.done_at = now
            pending.save(update_fields=["done_at"])
        destroyed += versions
    return destroyed
