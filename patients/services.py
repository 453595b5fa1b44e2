from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from duktus import audit, crypto
from duktus.models import Practice
from patients.models import Approval, ConsentRecord, Diagnosis, Patient

STAMMDATEN_FIELDS = (
    "first_name", "last_name", "birth_date", "gender", "street", "postal_code", "city", "phone",
    "email", "employer", "insurance_type", "insurer", "insurance_number", "treatment_start", "treatment_end",
    "is_minor", "guardian_name", "guardian_contact", "guardian_custody",
)


def _apply(patient: Patient, data: dict[str, Any]) -> None:
    for field in STAMMDATEN_FIELDS:
        if field in data:
            setattr(patient, field, data[field])
    patient.refresh_name_index()


def create_patient(*, practice: Practice, data: dict[str, Any], therapist: Any = None, request: Any = None) -> Patient:
    with transaction.atomic():
        patient = Patient(practice=practice, therapist=therapist)
        patient.data_key = crypto.create_data_key(practice)
        patient.pseudonym = crypto.pseudonym(practice, patient.code)
        _apply(patient, data)
        patient.save()
        audit.record(request, "patient.create", practice=practice, patient=patient, obj=patient)
    return patient


def update_patient(*, patient: Patient, data: dict[str, Any], request: Any = None) -> Patient:
    with transaction.atomic():
        _apply(patient, data)
        patient.save()
        audit.record(request, "patient.update", patient=patient, obj=patient)
    return patient


def assign_therapist(*, patient: Patient, therapist: Any, request: Any = None) -> None:
    patient.therapist = therapist
    patient.save(update_fields=["therapist", "updated_at"])
    audit.record(request, "patient.assign", patient=patient, obj=patient)


def add_diagnosis(
    *, patient: Patient, icd_code: str, icd_version: int, certainty: str, is_primary: bool,
    diagnosed_on: dt.date, note: str = "", request: Any = None,
) -> Diagnosis:
    with transaction.atomic():
        if is_primary:
            patient.diagnoses.filter(is_primary=True, ended_on__isnull=True).update(is_primary=False)
        diagnosis = Diagnosis(
            patient=patient, icd_version=icd_version, is_primary=is_primary, diagnosed_on=diagnosed_on,
            created_by=getattr(request, "user", None),
        )
        # Encrypted values are set as attributes (the model's constructor only knows their _ct columns).
        diagnosis.icd_code = icd_code
        diagnosis.certainty = certainty
        diagnosis.note = note
        diagnosis.save()
        audit.record(request, "diagnosis.create", patient=patient, obj=diagnosis)
    return diagnosis


def end_diagnosis(*, diagnosis: Diagnosis, ended_on: dt.date, request: Any = None) -> None:
    diagnosis.ended_on = ended_on
    diagnosis.save(update_fields=["ended_on"])
    audit.record(request, "diagnosis.end", patient=diagnosis.patient, obj=diagnosis)


def record_consent(
    *, patient: Patient, purpose: str, action: str, effective_on: dt.date, given_by: str,
    note: str = "", request: Any = None,
) -> ConsentRecord:
    with transaction.atomic():
        record = ConsentRecord(
            patient=patient, purpose=purpose, action=action, effective_on=effective_on,
            given_by=given_by, recorded_by=getattr(request, "user", None),
        )
        record.note = note  # encrypted: an attribute, not a constructor argument
        record.save()
        audit.record(request, f"consent.{action}", patient=patient, obj=record, detail=purpose)
    return record


def add_approval(
    *, patient: Patient, phase: str, approved_sessions: int, approved_on: dt.date,
    sessions_used: int = 0, request: Any = None,
) -> Approval:
    with transaction.atomic():
        approval = Approval.objects.create(
            patient=patient, phase=phase, approved_sessions=approved_sessions, approved_on=approved_on,
            sessions_used=sessions_used, created_by=getattr(request, "user", None),
        )
        audit.record(request, "approval.create", patient=patient, obj=approval)
    return approval


def set_sessions_used(*, approval: Approval, sessions_used: int, request: Any = None) -> None:
    approval.sessions_used = sessions_used
    approval.save(update_fields=["sessions_used"])
    audit.record(request, "approval.update", patient=approval.patient, obj=approval)


def kzt_sessions_total(patient: Patient) -> int:
    return sum(a.sessions_used for a in patient.approvals.all() if a.phase in ("kzt1", "kzt2"))
