from __future__ import annotations

from typing import Any

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
    patients.sort(key=lambda p: (crypto.normalize_name_token(p.last_name or "")[:1] or [""], (p.first_name or "").casefold()))
    return patients


def access_log(patient: Patient, limit: int = 50) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(practice=patient.practice, patient_pseudonym=patient.pseudonym)
        .order_by("-id")[:limit]
    )
