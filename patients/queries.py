from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from django.db.models import QuerySet

from duktus import crypto
from duktus.models import AuditEntry, Role
from patients.models import Patient


def visible_patients(membership: Any) -> QuerySet[Patient]:
    """Patients for lists. Restricted ones (Art. 18) are hidden; the owner finds them on the
    retention page, and their record stays reachable by URL (patients/access.py)."""
    from duktus.privacy.erasure import restricted_refs

    qs = (Patient.objects.filter(practice=membership.practice).exclude(pk__in=restricted_refs(membership.practice))
          .select_related("data_key", "therapist"))
    if membership.role == Role.THERAPIST:
        qs = qs.filter(therapist=membership.user)
    return qs


LIST_FIELDS = ("code", "practice_id", "pseudonym", "first_name", "last_name", "birth_date", "insurance_type",
               "data_key__wrapped", "therapist__email")


def patient_list(membership: Any, query: str = "") -> list[Patient]:
    """Patients the member may see, filtered by the blind index, sorted by name in Python.

    One query: data keys and therapists are joined; the practice instance is shared so its key
    is unwrapped once. The instances carry only LIST_FIELDS: reading another field costs a query.
    """
    qs = visible_patients(membership)
    if query:
        terms = crypto.blind_index_query(membership.practice, query)
        if not terms:
            return []
        qs = qs.filter(name_index__contains=terms)
    # Only what the list shows: the name index (dozens of HMACs per row) and the other
    # ciphertext columns would triple the fetch time for 500 rows.
    patients = list(qs.only(*LIST_FIELDS))
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
    # get_FOO_display() rebuilds the choices dict on every call: build it once.
    insurance_labels = dict(Patient._meta.get_field("insurance_type").flatchoices)
    return [
        PatientRow(
            url=pattern.replace(marker, str(p.code)),
            name=f"{p.last_name}, {p.first_name}",
            birth_date=p.birth_date.strftime("%d.%m.%Y") if p.birth_date else "",
            insurance=str(insurance_labels.get(p.insurance_type, p.insurance_type)),
            pseudonym=p.pseudonym,
            therapist=p.therapist.email if p.therapist else "–",
        )
        for p in patients
    ]
