"""Tasks take ids only, load, call a service, return (STYLE.md §5). No patient text in the
broker: the extraction task gets the source kind and the source's public id."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from duktus.llm.errors import GatewayUnavailable


def _patient(patient_id: int) -> Any:
    from patients.models import Patient

    return Patient.objects.select_related("data_key", "practice").filter(pk=patient_id).first()


@shared_task(name="memory.extract_entries", autoretry_for=(GatewayUnavailable,), retry_backoff=30, max_retries=3)
def extract_entries(source_kind: str, source_id: str, override_warnings: bool = False) -> str | None:
    """Proposals from one source (session, document, assessment). Idempotent per source."""
    from memory import services

    run = services.extract_from_source(source_kind=source_kind, source_id=source_id, override_warnings=override_warnings)
    return run.status if run is not None else None


@shared_task(name="memory.rebuild_summary")
def rebuild_summary(patient_id: int, force: bool = False, user_id: int | None = None) -> int | None:
    from django.contrib.auth import get_user_model

    from memory import services

    patient = _patient(patient_id)
    if patient is None:
        return None
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    summary = services.rebuild_summary(patient=patient, force=force, user=user)
    return summary.version if summary is not None else None


@shared_task(name="memory.reembed_patient")
def reembed_patient(patient_id: int) -> int:
    from memory import services

    patient = _patient(patient_id)
    if patient is None:
        return 0
    return services.reembed(patients=[patient], stale_only=True)
