from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.urls import reverse

from django.db.models import QuerySet

from duktus import crypto
from duktus.models import AuditEntry, Role
from patients.models import Patient, name_sort_key


def visible_patients(membership: Any) -> QuerySet[Patient]:
    """Patients for lists. Restricted ones (Art. 18) are hidden; the owner finds them on the
    retention page, and their record stays reachable by URL (patients/access.py)."""
    from duktus.privacy.erasure import restricted_refs

    qs = Patient.objects.filter(practice=membership.practice).exclude(pk__in=restricted_refs(membership.practice))
    if membership.role == Role.THERAPIST:
        qs = qs.filter(therapist=membership.user)
    return qs


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


_ROW_COLUMNS = ("code", "pseudonym", "insurance_type", "therapist__email", "data_key__wrapped")
_ROW_SECRETS = ("last_name", "first_name", "birth_date")


def patient_rows(membership: Any, query: str = "") -> list[PatientRow]:
    """Patients the member may see, filtered by the blind index, sorted by name after decryption.

    One query of plain columns (values_list): for 500 patients, building Patient, DataKey and
    User instances cost more than decrypting. The practice key is unwrapped once; each row's
    data key once; then its three list fields.
    """
    practice = membership.practice
    qs = visible_patients(membership)
    if query:
        terms = crypto.blind_index_query(practice, query)
        if not terms:
            return []
        qs = qs.filter(name_index__contains=terms)
    # get_field is typed Field | ForeignObjectRel; these names are the model's own encrypted fields.
    fields = [cast(crypto.EncryptedField, Patient._meta.get_field(name)) for name in _ROW_SECRETS]
    # One reverse() for the whole list: URLs differ only in the UUID.
    marker = "00000000-0000-0000-0000-000000000000"
    pattern = reverse("patients:detail", kwargs={"code": marker})
    # get_FOO_display() rebuilds the choices dict on every call: build it once.
    insurance_labels = {k: str(v) for k, v in Patient._meta.get_field("insurance_type").flatchoices}
    keyed = []
    for code, pseudonym, insurance, email, wrapped, *tokens in qs.values_list(*_ROW_COLUMNS, *(f.attname for f in fields)):
        last, first, birth = crypto.open_columns(practice, wrapped, fields, tokens)
        last, first = last or "", first or ""
        row = PatientRow(
            url=pattern.replace(marker, str(code)),
            name=f"{last}, {first}",
            birth_date=birth.strftime("%d.%m.%Y") if birth else "",
            insurance=insurance_labels.get(insurance, insurance),
            pseudonym=pseudonym,
            therapist=email or "–",
        )
        keyed.append((name_sort_key(last, first), row))
    keyed.sort(key=lambda pair: pair[0])
    return [row for _, row in keyed]
