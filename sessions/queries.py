"""Reads for sessions (the caller has passed an access helper)."""

from __future__ import annotations

from typing import Any

from sessions.models import AIRequest, NoteVersion, TherapySession


def sessions_of(patient: Any) -> list[TherapySession]:
    """A patient's sessions, newest first (one query; notes are not decrypted here)."""
    rows = list(TherapySession.objects.filter(patient=patient).select_related("approval").order_by("-date", "-id"))
    for s in rows:
        s.patient = patient
    return rows


def versions_of(session: TherapySession) -> list[NoteVersion]:
    rows = list(NoteVersion.objects.filter(session=session).select_related("author").order_by("number"))
    for v in rows:
        v.session = session
    return rows


def ai_requests_of(session: TherapySession) -> list[AIRequest]:
    rows = list(AIRequest.objects.filter(session=session).select_related("decided_by").order_by("created_at", "id"))
    for r in rows:
        r.session = session
    return rows
