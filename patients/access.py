"""The one way to a patient: 404 across practices, 403 for the wrong role in the same practice."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from duktus.models import Role
from duktus.tenancy import member_request
from patients.models import Patient


def can_see_patient(membership: Any, patient: Patient) -> bool:
    """Owners and assistants see every patient of the practice; therapists their assigned ones."""
    if membership.role == Role.THERAPIST:
        return patient.therapist_id == membership.user_id
    return True


def get_patient_for_user(request: HttpRequest, code: Any, *, clinical: bool = False) -> Patient:
    """Load a patient of the request's practice.

    clinical=True: the caller shows or changes clinical content (diagnoses, consents, notes,
    the access log) — assistants get 403 there.
    """
    membership = member_request(request).membership  # any request: memory's views type theirs plainly
    practice = membership.practice
    try:
        patient = Patient.objects.select_related("data_key").get(code=code, practice=practice)
    except Patient.DoesNotExist:
        raise Http404("Patient/in nicht gefunden.") from None
    patient.practice = practice  # share one practice instance (and its unwrapped key)
    if not can_see_patient(membership, patient):
        raise PermissionDenied("Diese Patientin / dieser Patient ist Ihnen nicht zugewiesen.")
    if clinical and membership.role == Role.ASSISTANT:
        raise PermissionDenied("Klinische Inhalte sind für die Praxisassistenz nicht freigegeben.")
    return patient


def get_child_for_user(request: HttpRequest, model: Any, patient: Patient, code: Any) -> Any:
    """A row that belongs to the given (already access-checked) patient, else 404."""
    try:
        obj = model.objects.get(code=code, patient=patient)
    except model.DoesNotExist:
        raise Http404("Eintrag nicht gefunden.") from None
    obj.patient = patient
    return obj
