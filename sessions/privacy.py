"""What the sessions app holds about a patient (duktus/privacy/registry.py).

Private process notes are their own part (category "process_notes", § 630g Abs. 1 BGB), so an
export can list them separately or withhold them with a reason.
"""

from __future__ import annotations

from typing import Any

from duktus.privacy.registry import register
from sessions.models import AIRequest, NoteVersion, TherapySession


def _d(value: Any) -> str | None:
    return value.isoformat() if value else None


def _sessions(patient: Any) -> list[TherapySession]:
    rows = list(TherapySession.objects.filter(patient=patient).select_related("approval").order_by("date", "id"))
    for s in rows:
        s.patient = patient
    return rows


def export_sessions(patient: Any) -> list[dict[str, Any]]:
    return [{
        "date": _d(s.date), "duration_minutes": s.duration_minutes, "setting": s.get_setting_display(),
        "status": s.get_status_display(), "contingent": s.contingent_label,
        "approval_phase": s.approval.get_phase_display() if s.approval is not None else None,
        "note": s.note, "started_at": _d(s.started_at), "closed_at": _d(s.closed_at),
    } for s in _sessions(patient)]


def export_process_notes(patient: Any) -> list[dict[str, Any]]:
    return [{"session_date": _d(s.date), "process_notes": s.process_notes} for s in _sessions(patient) if s.process_notes]


def erase_process_notes(patient: Any) -> int:
    # The rows go with erase_sessions (registered after this part); nothing to delete here.
    return 0


def export_versions(patient: Any) -> list[dict[str, Any]]:
    rows = []
    for v in NoteVersion.objects.filter(session__patient=patient).select_related("session", "author").order_by("session__date", "number"):
        v.session.patient = patient
        rows.append({"session_date": _d(v.session.date), "version": v.number, "kind": v.get_kind_display(),
                     "created_at": _d(v.created_at), "author": v.author.email if v.author else None,
                     "reason": v.reason, "text": v.text})
    return rows


def export_ai_requests(patient: Any) -> list[dict[str, Any]]:
    rows = []
    for r in AIRequest.objects.filter(session__patient=patient).select_related("session").order_by("created_at", "id"):
        r.session.patient = patient
        rows.append({"session_date": _d(r.session.date), "asked_at": _d(r.created_at), "question": r.question,
                     "answer": r.answer, "ai_generated": True, "state": r.get_state_display(),
                     "sources": [s.get("citation", s.get("id")) for s in (r.sources or [])],
                     "decision": r.get_decision_display(), "decided_text": r.decided_text, "decided_at": _d(r.decided_at)})
    return rows


register(NoteVersion, key="session_note_versions", title="Sitzungsnotizen – Versionen (§ 630f BGB)",
         exporter=export_versions, eraser=lambda p: NoteVersion.objects.filter(session__patient=p).delete()[0])
register(AIRequest, key="session_ai_requests", title="KI-Anfragen in Sitzungen (KI-generiert)",
         exporter=export_ai_requests, eraser=lambda p: AIRequest.objects.filter(session__patient=p).delete()[0])
register(TherapySession, key="session_process_notes", title="Private Prozessnotizen", category="process_notes",
         exporter=export_process_notes, eraser=erase_process_notes)
register(TherapySession, key="therapy_sessions", title="Sitzungen",
         exporter=export_sessions, eraser=lambda p: TherapySession.objects.filter(patient=p).delete()[0])
