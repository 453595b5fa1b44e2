"""The one way to memory rows: through the access-checked patient (404 across practices,
403 for assistants and for therapists the patient is not assigned to)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from memory.models import ExtractionRun, MemoryEntry
from patients.access import get_child_for_user, get_patient_for_user


def get_patient(request: HttpRequest, code: Any) -> Any:
    return get_patient_for_user(request, code, clinical=True)


def get_entry_for_user(request: HttpRequest, code: Any, entry_code: Any) -> tuple[Any, MemoryEntry]:
    patient = get_patient(request, code)
    return patient, get_child_for_user(request, MemoryEntry, patient, entry_code)


def get_run_for_user(request: HttpRequest, code: Any, run_code: Any) -> tuple[Any, ExtractionRun]:
    patient = get_patient(request, code)
    return patient, get_child_for_user(request, ExtractionRun, patient, run_code)
