"""Builders for questionnaire tests (tests/base.py stays untouched)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import RequestFactory

from assessments import services
from assessments.models import Administration, PatientLink
from duktus.models import Membership

PHQ9_ITEM9 = [1, 1, 1, 1, 1, 1, 1, 1, 2]  # total 10, item 9 = 2
PHQ9_CLEAN = [0, 1, 0, 1, 0, 1, 0, 1, 0]  # total 4


def fake_request(user: Any, practice: Any) -> Any:
    request = RequestFactory().post("/")
    request.user = user
    request.membership = Membership.objects.get(user=user, practice=practice)
    request.practice = practice
    return request


def make_administration(patient: Any, instrument: str = "phq9", answers: Any = None, day: dt.date = dt.date(2026, 2, 1),
                        user: Any = None, **context: Any) -> Administration:
    answers = answers if answers is not None else PHQ9_CLEAN
    return services.record_administration(
        patient=patient, instrument=instrument, answers=answers, administered_on=day,
        source="therapist", context=context or services.scoring_context(instrument, patient), entered_by=user,
    )


def make_link(patient: Any, user: Any, instrument: str = "phq9", days: int = 7) -> tuple[PatientLink, str]:
    return services.create_link(patient=patient, instrument=instrument, request=fake_request(user, patient.practice), days=days)


def post_items(values: list[Any]) -> dict[str, str]:
    return {f"item_{n}": str(v) for n, v in enumerate(values, 1)}
