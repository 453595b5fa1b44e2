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
from duktus.privacy import settings as privacy_settings

MIN_RETENTION_YEARS = privacy_settings.MIN_RECORD_YEARS


def retention_years(practice: Any = None) -> int:
    """The practice's record retention (never below 10 years, § 630f Abs. 3 BGB)."""
    return privacy_settings.record_years(practice)


def backup_window(practice: Any = None) -> dt.timedelta:
    return privacy_settings.backup_window(practice)


def retention_end(treatment_end: dt.date | None, years: int | None = None) -> dt.date | None:
    """First day after the retention period; None while the treatment is open.

    Leap day: 10 years after 2016-02-29 there is no 29 February, so the period ends on
    2026-03-01 (the later date: we never erase a day early). From that day on erasure is allowed.
    """
    if treatment_end is None:
        return None
    return privacy_settings.add_years(treatment_end, max(years or retention_years(), MIN_RETENTION_YEARS))


@dataclass(frozen=True)
class ErasureCheck:
    allowed: bool
    reason: str
    retention_until: dt.date | None


def check_erasure(patient: Any, today: dt.date | None = None) -> ErasureCheck:
    today = today or timezone.localdate()
    end = retention_end(patient.treatment_end, retention_years(patient.practice))
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
    """Art. 18: AI refuses (duktus/llm/gateway.py), lists hide the patient (patients/queries.py),
    and the retention job erases the record at the end of retention (plus the 30-day notice)."""
    end = retention_end(patient.treatment_end, retention_years(patient.practice))
    restriction = PatientRestriction.objects.filter(patient_ref=patient.pk).first() or PatientRestriction(
        practice=patient.practice, patient_ref=patient.pk)
    restriction.__dict__["_duktus_patient"] = patient
    restriction.reason = reason
    restriction.erase_on = end
    restriction.created_by = request.user if request else None
    restriction.save()
    audit.record(request, "privacy.restricted", patient=patient,
                 detail=f"Löschung geplant am {end:%d.%m.%Y}" if end else "Löschung nach Behandlungsende")
    return restriction


def lift_restriction(*, request: Any, patient: Any) -> int:
    deleted = PatientRestriction.objects.filter(patient_ref=patient.pk).delete()[0]
    if deleted:
        audit.record(request, "privacy.restriction_lifted", patient=patient)
    return deleted


def restricted_refs(practice: Any) -> Any:
    """Patient ids with restricted processing (a subquery for list filters)."""
    return PatientRestriction.objects.filter(practice=practice).values("patient_ref")


class ErasureRefused(Exception):
    pass


def erase(*, request: Any, patient: Any, actor: Any = None, force_reason: str = "", today: dt.date | None = None,
          rotate: bool = True) -> ErasureCertificate:
    """Run every registry eraser, rotate the master key, schedule destruction, write a certificate.

    force_reason: an owner's documented legal reason to erase during retention.
    rotate=False: the caller erases several patients and calls rotate_after_erasures() once.
    """
    check = check_erasure(patient, today)
    if not check.allowed and not force_reason:
        raise ErasureRefused(check.reason)
    actor = actor or (request.user if request else None)
    practice = patient.practice
    pseudonym = patient.pseudonym
    # The force reason goes into the certificate only: free text stays out of the audit log.
    audit.record(request, "privacy.erasure_started", patient=patient, actor=actor,
                 detail="erzwungen während der Aufbewahrungsfrist" if force_reason else "")
    parts = registry.parts()
    last = {"patients.Patient": 1, "duktus.DataKey": 2}
    parts.sort(key=lambda p: last.get(p.model._meta.label, 0))
    deleted: dict[str, int] = {}
    with transaction.atomic():
        for part in parts:
            deleted[part.model._meta.label] = deleted.get(part.model._meta.label, 0) + part.eraser(patient)
        # FKs are deferred: check now, so a row no eraser removed fails here, not at commit.
        connection.check_constraints()
    now = timezone.now()
    remains = [
        ("Zugriffsprotokoll: nur pseudonymisierte Einträge (Pseudonym, Zeitpunkt, Aktion), bis zum Ablauf der "
         "Protokollaufbewahrung – Nachweis der Rechenschaftspflicht (Art. 5 Abs. 2 DSGVO)."),
        "Diese Löschbestätigung ohne klinische Daten (Art. 5 Abs. 2 DSGVO).",
    ]
    if force_reason and check.retention_until:
        remains.append(f"Gesetzliche Aufbewahrungsfrist lief bis {check.retention_until:%d.%m.%Y}; Löschung erzwungen "
                       "mit der dokumentierten Begründung oben.")
    cert = ErasureCertificate.objects.create(
        practice=practice, patient_pseudonym=pseudonym, erased_at=now,
        erased_by_label=(actor.email if actor else "system"), forced=bool(force_reason), legal_reason=force_reason,
        deleted=deleted, remains=remains,
    )
    if rotate:
        rotate_after_erasures([cert], now=now)
    audit.record(request, "privacy.erased", practice=practice, obj=cert, actor=actor,
                 detail=f"Pseudonym {pseudonym}" + (" (erzwungen)" if force_reason else ""))
    return cert


def deleted_rows(cert: ErasureCertificate) -> list[tuple[str, str, int]]:
    """(German title of the registered part, model label, count) for the certificate; parts that
    held nothing are left out (what remains is listed separately, with the reason)."""
    titles: dict[str, str] = {}
    parts = registry.parts()
    for part in [p for p in parts if p.category == "record"] + [p for p in parts if p.category != "record"]:
        titles.setdefault(part.model._meta.label, part.title)
    rows = [(titles.get(label, label), label, count) for label, count in cert.deleted.items() if count]
    return sorted(rows, key=lambda r: (-r[2], r[0]))


def _rotate_practice_key(practice: Any) -> None:
    """New practice key: remaining data keys are re-wrapped (their raw keys stay the same, so the
    live system reads everything), and the old practice key rows are deleted. The erased
    patient's DataKey in a backup is wrapped under the old practice key, which from now on
    exists only in backups, wrapped under master versions due for destruction."""
    crypto.rotate_practice_key(practice)
    PracticeKey.objects.filter(practice=practice, retired_at__isnull=False).delete()
    practice._duktus_keyring = None


def rotate_after_erasures(certs: list[ErasureCertificate], *, now: dt.datetime | None = None) -> None:
    """Once per batch of erasures: a new key for each affected practice, then one new master
    version with the old ones scheduled for destruction after the longest backup window."""
    if not certs:
        return
    now = now or timezone.now()
    practices = {c.practice_id: c.practice for c in certs}
    for practice in practices.values():
        _rotate_practice_key(practice)
    if not crypto.master_keys_from_file():
        # Operator-managed master key (DUKTUS_MASTER_KEY): rotation is a documented manual step.
        for cert in certs:
            cert.remains = [*cert.remains, ("Backups: Der Hauptschlüssel wird vom Betrieb verwaltet (Umgebungsvariable); "
                                            "bis zu seiner Rotation sind Backups vor dieser Löschung noch lesbar.")]
            cert.save(update_fields=["remains"])
        return
    old = sorted(crypto.master_keyring().keys)
    new_version = crypto.rotate_master_key()
    due = now + max(backup_window(p) for p in practices.values())
    PendingKeyDestruction.objects.create(versions=old, due_at=due)
    for cert in certs:
        cert.new_master_version = new_version
        cert.old_master_versions_destroy_after = due
        cert.remains = [*cert.remains, (
            f"Backups vor dieser Löschung: verschlüsselt; die bisherigen Hauptschlüssel-Versionen {', '.join(map(str, old))} "
            f"werden nach dem Backup-Fenster am {timezone.localtime(due):%d.%m.%Y} vernichtet, danach sind die Daten auch in "
            "diesen Backups unlesbar. Wiederherstellung: Datenzeilen aus dem Backup, Schlüsselzeilen aus dem "
            "laufenden System (manage.py restore_keys).")]
        cert.save(update_fields=["new_master_version", "old_master_versions_destroy_after", "remains"])


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
