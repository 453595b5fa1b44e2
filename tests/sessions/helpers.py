"""Builders for session tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sessions import services
from sessions.models import TherapySession
from tests.assessments.helpers import fake_request

__all__ = ["fake_request", "make_session", "reload"]


def make_session(patient: Any, user: Any, *, running: bool = True, approval: Any = None,
                 date: dt.date = dt.date(2026, 3, 2), setting: str = "einzel", note: str = "") -> TherapySession:
    request = fake_request(user, patient.practice)
    session = services.create_session(patient=patient, date=date, duration_minutes=50, setting=setting,
                                      approval=approval, user=user, request=request)
    if running:
        services.start_session(session=session, request=request)
        if note:
            services.save_note(session=session, text=note, revision=session.note_revision, request=request)
    return session


def reload(session: TherapySession) -> TherapySession:
    fresh = TherapySession.objects.select_related("patient").get(pk=session.pk)
    fresh.patient = session.patient
    return fresh
