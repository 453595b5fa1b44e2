"""{% session_timeline patient %} for the patient page, and the note filter that keeps AI text
marked as AI-generated wherever a note is shown (EU AI Act Art. 50)."""

from __future__ import annotations

from typing import Any

from django import template

from sessions import queries
from sessions.services import split_ai_segments

register = template.Library()


@register.inclusion_tag("sessions/_timeline.html", takes_context=True)
def session_timeline(context: Any, patient: Any) -> dict[str, Any]:
    membership = context.get("membership")
    if membership is None or not membership.is_clinical:
        return {"sessions": [], "patient": patient, "clinical": False}
    return {"sessions": queries.sessions_of(patient), "patient": patient, "clinical": True}


@register.filter
def note_segments(note: str) -> list[dict[str, Any]]:
    return [{"ai": ai, "header": header, "text": text} for ai, header, text in split_ai_segments(note)]
