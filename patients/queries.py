from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from django.db.models import QuerySet

from duktus import crypto
from duktus.models import AuditEntry, Role
from patients.models import Patient


def visible_patients(membership: Any) -> QuerySet[Patient]:
    qs = Patient.objects.filter(practice=membership.practice).select_related("data_key", "therapist")
    if membership.role == Role.THERAPIST:
        qs = qs.filter(therapist=membership.user)
    return qs


def patient_list(membership: Any, query: str = "") -> list[Patient]:
    """Patients the member may see, filtered by the blind index, sorted by name in Python.

    One query: data keys and therapists are joined; the practice instance is shared so its key
    is unwrapped once.
    """
    qs = visible_patients(membership)
    if query:
        terms = crypto.blind_index_query(membership.practice, query)
        if not terms:
            return []
        qs = qs.filter(name_index__contains=terms)
    patients = list(qs)
    for p in patients:
        p.practice = membership.practice
    patients.sort(key=lambda p: ((crypto.normalize_name_token(p.last_name or "") or [""])[0], (p.first_name or "").casefold()))
    return patients


def access_log(patient: Patient, limit: int = 50) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(practice=patient.practice, patient_pseudonym=patient.pseudonym)
        .order_by("-id")[:limit]
    )


@dataclass(frozen=True)
class PatientRow:
    """What the list shows: decrypted once, formatted once (the template only prints)."""

    url: str
    name: str
    birth_date: str
    insurance: str
    pseudonym: str
    therapist: str


def patient_rows(membership: Any, query: str = "") -> list[PatientRow]:
    patients = patient_list(membership, query)
    # One reverse() for the whole list: URLs differ only in the UUID.
    marker = "00000000-0000-0000-0000-000000000000"
    pattern = reverse("patients:detail", kwargs={"code": marker})
    return [
        PatientRow(
            url=pattern.replace(marker, str(p.code)),
            name=f"{p.last_name}, {p.first_name}",
            birth_date=p.birth_date.strftime("%d.%m.%Y") if p.birth_date else "",
            insurance=p.get_insurance_type_display(),
            pseudonym=p.pseudonym,
            therapist=p.therapist.email if p.therapist else "–",
        )
        for p in patients
    ]
