"""Memory reads, including the vector search. Every query names the practice and the patient."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from memory.models import (
    EntryStatus,
    EntryType,
    ExtractionRun,
    MemoryEntry,
    PatientSummary,
    share_patient,
)

SEARCHABLE = (EntryStatus.CONFIRMED, EntryStatus.PROPOSED, EntryStatus.OUTDATED)
# The patient page shows the newest confirmed entries per type (the rest on the list page) and
# decrypts only what it shows; proposals and goals are always shown in full.
SECTION_PER_TYPE = 10
SECTION_ARCHIVED = 20


def entries(patient: Any) -> QuerySet[MemoryEntry]:
    return MemoryEntry.objects.filter(practice_id=patient.practice_id, patient=patient)


def confirmed_entries(patient: Any, *, types: tuple[str, ...] = (), limit: int | None = None) -> list[MemoryEntry]:
    """Newest first."""
    qs = entries(patient).filter(status=EntryStatus.CONFIRMED)
    if types:
        qs = qs.filter(type__in=types)
    qs = qs.order_by("-date", "-id")
    return share_patient(list(qs[:limit] if limit else qs), patient)


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


_COUNTS = (
    "(SELECT count(*) FROM memory_memoryentry WHERE practice_id = %s AND patient_id = %s AND status <> 'rejected')"
    " - (SELECT count(*) FROM memory_memoryvector WHERE practice_id = %s AND patient_id = %s AND backend = %s)"
)
_SEARCH = (
    "WITH top AS ("
    " SELECT entry_id, embedding <=> %s::vector AS distance FROM memory_memoryvector"
    " WHERE practice_id = %s AND patient_id = %s AND backend = %s AND status = ANY(%s)"
    " ORDER BY distance LIMIT %s)"
    " SELECT e.*, top.distance, " + _COUNTS + " AS unsearchable"
    " FROM top JOIN memory_memoryentry e ON e.id = top.entry_id"
    " WHERE e.practice_id = %s AND e.patient_id = %s ORDER BY top.distance"
)


def search_rows(patient: Any, vector: list[float], backend: str, *, k: int = 5,
                statuses: tuple[str, ...] = (EntryStatus.CONFIRMED,)) -> tuple[list[Hit], int]:
    """The k entries nearest to `vector` and the number of entries not (yet) searchable with
    this backend, in one round trip.

    An exact cosine scan over one patient's vectors of one backend (index on practice, patient, backend, status), filtered
    by the entry status kept on the vector row, then the k entries by key. Every table is
    filtered by practice *and* patient: an entry of another practice can never be returned,
    whatever its text. No ANN index: pgvector 0.6's filtered HNSW can return fewer than k rows,
    while the exact scan over one patient's few thousand rows is fast. The two counts run once
    (uncorrelated subqueries); without any hit they are asked for separately.
    """
    literal = "[" + ",".join(repr(float(x)) for x in vector) + "]"
    ids = (patient.practice_id, patient.pk)
    rows = list(MemoryEntry.objects.raw(_SEARCH, [literal, *ids, backend, list(statuses), k, *ids, *ids, backend, *ids]))
    hits = []
    for entry in rows:
        entry.patient = patient
        hits.append(Hit(entry=entry, score=1.0 - float(entry.distance)))  # type: ignore[attr-defined]
    unsearchable = int(rows[0].unsearchable) if rows else unsearchable_count(patient, backend)  # type: ignore[attr-defined]
    return hits, max(unsearchable, 0)


def nearest(patient: Any, vector: list[float], backend: str, *, k: int = 5,
            statuses: tuple[str, ...] = (EntryStatus.CONFIRMED,)) -> list[Hit]:
    return search_rows(patient, vector, backend, k=k, statuses=statuses)[0]


def unsearchable_count(patient: Any, backend: str) -> int:
    """Non-rejected entries without a vector of the current backend (missing or stale): two
    index-backed counts instead of an anti-join over the patient's rows."""
    with connection.cursor() as cur:
        cur.execute("SELECT " + _COUNTS, [patient.practice_id, patient.pk, patient.practice_id, patient.pk, backend])
        return max(int(cur.fetchone()[0]), 0)


def entry_list(patient: Any, *, type: str = "", statuses: tuple[str, ...] = (EntryStatus.CONFIRMED,)) -> list[MemoryEntry]:
    """The full list page: one type (or all), newest first."""
    qs = entries(patient).filter(status__in=statuses).select_related("confirmed_by")
    if type:
        qs = qs.filter(type=type)
    return share_patient(list(qs.order_by("-date", "-id")), patient)


def section(patient: Any) -> dict[str, Any]:
    """Everything the memory section on the patient page shows: three queries for the entries,
    summary and runs, plus the open crisis events."""
    from patients.crisis import open_events

    rows = share_patient(list(entries(patient).select_related("confirmed_by").order_by("-date", "-id")), patient)
    by_status: dict[str, list[MemoryEntry]] = {s: [] for s in EntryStatus.values}
    for e in rows:
        by_status[e.status].append(e)
    confirmed = by_status[EntryStatus.CONFIRMED]
    groups = []
    for t in EntryType:
        items = [e for e in confirmed if e.type == t]
        if items and t != EntryType.THERAPEUTIC_GOAL:
            groups.append({"type": t.value, "label": t.label, "items": items[:SECTION_PER_TYPE], "total": len(items)})
    archived = by_status[EntryStatus.OUTDATED] + by_status[EntryStatus.REJECTED]
    summary = current_summary(patient)
    stale = False
    if summary is not None:
        from memory.services import entries_fingerprint

        stale = summary.entries_fingerprint != entries_fingerprint(confirmed)
    return {
        "proposals": by_status[EntryStatus.PROPOSED],
        "goals": [e for e in confirmed if e.type == EntryType.THERAPEUTIC_GOAL],
        "groups": groups,
        "confirmed_count": len(confirmed),
        "archived": archived[:SECTION_ARCHIVED],
        "archived_total": len(archived),
        "crisis_warnings": open_events(patient),
        "summary": summary,
        "summary_stale": stale,
        "failed_runs": failed_runs(patient),
    }
