"""Memory reads, including the vector search. Every query names the practice and the patient."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from pgvector.django import CosineDistance

from memory.models import (
    EntryStatus,
    EntryType,
    ExtractionRun,
    MemoryEntry,
    MemoryVector,
    PatientSummary,
    share_patient,
)

SEARCHABLE = (EntryStatus.CONFIRMED, EntryStatus.PROPOSED, EntryStatus.OUTDATED)


def entries(patient: Any) -> QuerySet[MemoryEntry]:
    return MemoryEntry.objects.filter(practice_id=patient.practice_id, patient=patient)


def confirmed_entries(patient: Any, *, types: tuple[str, ...] = ()) -> list[MemoryEntry]:
    qs = entries(patient).filter(status=EntryStatus.CONFIRMED)
    if types:
        qs = qs.filter(type__in=types)
    return share_patient(list(qs.order_by("-date", "-id")), patient)


def goals_for_patient(patient: Any, *, include_outdated: bool = False) -> list[MemoryEntry]:
    """Therapy goals for the Therapieplan / Fortführungsbericht: confirmed ones (plus outdated,
    i.e. reached or dropped, when asked), oldest first, with SMART fields and attainment."""
    statuses = [EntryStatus.CONFIRMED, *([EntryStatus.OUTDATED] if include_outdated else [])]
    qs = entries(patient).filter(type=EntryType.THERAPEUTIC_GOAL, status__in=statuses).order_by("date", "id")
    return share_patient(list(qs), patient)


def entry_for_patient(patient: Any, code: Any) -> MemoryEntry | None:
    entry = entries(patient).filter(code=code).first()
    if entry is not None:
        entry.patient = patient
    return entry


def entries_by_codes(patient: Any, codes: list[str]) -> list[MemoryEntry]:
    """For the AI panel: the entries a context used, in the given order."""
    if not codes:
        return []
    found = {str(e.code): e for e in entries(patient).filter(code__in=codes)}
    return share_patient([found[c] for c in codes if c in found], patient)


def current_summary(patient: Any) -> PatientSummary | None:
    s = PatientSummary.objects.filter(practice_id=patient.practice_id, patient=patient).select_related("created_by").order_by("-version").first()
    if s is not None:
        s.patient = patient
    return s


def summary_versions(patient: Any, limit: int = 20) -> list[PatientSummary]:
    qs = PatientSummary.objects.filter(practice_id=patient.practice_id, patient=patient).select_related("created_by")
    return share_patient(list(qs.order_by("-version")[:limit]), patient)


def failed_runs(patient: Any) -> list[ExtractionRun]:
    return list(ExtractionRun.objects.filter(practice_id=patient.practice_id, patient=patient,
                                             status=ExtractionRun.Status.FAILED).order_by("-created_at"))


def running_runs(patient: Any) -> int:
    return ExtractionRun.objects.filter(practice_id=patient.practice_id, patient=patient,
                                        status__in=[ExtractionRun.Status.PENDING, ExtractionRun.Status.RUNNING]).count()


@dataclass
class Hit:
    entry: MemoryEntry
    score: float  # cosine similarity, 1 = same direction


def nearest(patient: Any, vector: list[float], backend: str, *, k: int = 5,
            statuses: tuple[str, ...] = (EntryStatus.CONFIRMED,)) -> list[Hit]:
    """Exact cosine scan over one patient's vectors of one backend (index memory_vector_patient_idx),
    then the k entries by primary key.

    Both WHERE clauses name practice and patient: an entry of another practice can never be
    returned, whatever its text. No ANN index: pgvector 0.6's filtered HNSW can return fewer
    than k rows, while the exact scan over one patient's few thousand rows is fast.
    """
    top = list(MemoryVector.objects
               .filter(practice_id=patient.practice_id, patient_id=patient.pk, backend=backend, status__in=statuses)
               .annotate(distance=CosineDistance("embedding", vector))
               .order_by("distance")
               .values_list("entry_id", "distance")[:k])
    found = {e.pk: e for e in entries(patient).filter(pk__in=[pk for pk, _ in top])}
    hits = []
    for pk, distance in top:
        entry = found.get(pk)
        if entry is not None:
            entry.patient = patient
            hits.append(Hit(entry=entry, score=1.0 - float(distance)))
    return hits


def unsearchable_count(patient: Any, backend: str) -> int:
    """Non-rejected entries without a vector of the current backend (missing or stale): two
    index-backed counts in one round trip instead of an anti-join over the patient's rows."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM memory_memoryentry WHERE practice_id = %s AND patient_id = %s AND status <> %s)"
            " - (SELECT count(*) FROM memory_memoryvector WHERE practice_id = %s AND patient_id = %s AND backend = %s)",
            [patient.practice_id, patient.pk, EntryStatus.REJECTED, patient.practice_id, patient.pk, backend])
        return max(int(cur.fetchone()[0]), 0)


def section(patient: Any) -> dict[str, Any]:
    """Everything the memory section on the patient page shows: three queries for the entries,
    summary and runs, plus the open crisis events."""
    from patients.crisis import open_events

    rows = share_patient(list(entries(patient).select_related("confirmed_by").order_by("-date", "-id")), patient)
    by_status: dict[str, list[MemoryEntry]] = {s: [] for s in EntryStatus.values}
    for e in rows:
        by_status[e.status].append(e)
    confirmed = by_status[EntryStatus.CONFIRMED]
    groups = [(t.label, [e for e in confirmed if e.type == t]) for t in EntryType if t != EntryType.THERAPEUTIC_GOAL]
    summary = current_summary(patient)
    stale = False
    if summary is not None:
        from memory.services import entries_fingerprint

        stale = summary.entries_fingerprint != entries_fingerprint(confirmed)
    return {
        "proposals": by_status[EntryStatus.PROPOSED],
        "goals": [e for e in confirmed if e.type == EntryType.THERAPEUTIC_GOAL],
        "groups": [(label, items) for label, items in groups if items],
        "confirmed_count": len(confirmed),
        "archived": by_status[EntryStatus.OUTDATED] + by_status[EntryStatus.REJECTED],
        "crisis_warnings": open_events(patient),
        "summary": summary,
        "summary_stale": stale,
        "failed_runs": failed_runs(patient),
    }
