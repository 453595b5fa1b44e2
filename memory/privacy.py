"""What the memory app holds about a patient (duktus/privacy/registry.py). Erasers run in this
order: vectors, entries, summaries, extraction runs."""

from __future__ import annotations

from typing import Any

from duktus.privacy.registry import register
from memory.models import ExtractionRun, MemoryEntry, MemoryVector, PatientSummary


def _d(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_entries(patient: Any) -> list[dict[str, Any]]:
    rows = []
    for e in MemoryEntry.objects.filter(patient=patient).order_by("date", "id"):
        e.patient = patient
        row: dict[str, Any] = {"type": e.get_type_display(), "text": e.text, "status": e.get_status_display(), "date": _d(e.date),
               "source": e.get_source_kind_display(), "excerpt": e.excerpt, "confirmed_at": _d(e.confirmed_at)}
        if e.is_goal:
            row |= {"goal_measure": e.goal_measure, "goal_baseline": e.goal_baseline, "goal_target": e.goal_target,
                    "goal_relevance": e.goal_relevance, "goal_due": _d(e.goal_due),
                    "attainment": e.attainment_display, "attainment_history": e.attainment_history or []}
        rows.append(row)
    return rows


def export_summaries(patient: Any) -> list[dict[str, Any]]:
    rows = []
    for s in PatientSummary.objects.filter(patient=patient).order_by("version"):
        s.patient = patient
        rows.append({"version": s.version, "author": s.get_author_display(), "created_at": _d(s.created_at), "text": s.text})
    return rows


def export_runs(patient: Any) -> list[dict[str, Any]]:
    return [{"source": r.get_source_kind_display(), "status": r.get_status_display(), "created_at": _d(r.created_at),
             "entries_created": r.entries_created}
            for r in ExtractionRun.objects.filter(patient=patient).order_by("created_at", "id")]


def _eraser(model: Any) -> Any:
    def erase(patient: Any) -> int:
        return model.objects.filter(patient=patient).delete()[0]
    return erase


# Vectors are derived from the (anonymized) entry texts: nothing to export of their own.
register(MemoryVector, key="memory_vectors", title="Gedächtnis: Suchvektoren", exporter=lambda p: [],
         eraser=_eraser(MemoryVector))
register(MemoryEntry, key="memory_entries", title="Klinisches Gedächtnis", exporter=export_entries,
         eraser=_eraser(MemoryEntry))
register(PatientSummary, key="memory_summaries", title="Fallzusammenfassungen", exporter=export_summaries,
         eraser=_eraser(PatientSummary))
register(ExtractionRun, key="memory_runs", title="Gedächtnis: Auswertungen", exporter=export_runs,
         eraser=_eraser(ExtractionRun))
