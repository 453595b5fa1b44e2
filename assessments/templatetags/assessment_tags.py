"""{% questionnaire_section patient %}: trends overview, recording, links and schedules on the
patient page (clinical roles only; the patient view has already checked access)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from assessments import queries
from assessments.forms import LinkForm, ScheduleForm
from assessments.instruments import INSTRUMENTS

register = template.Library()


@register.inclusion_tag("assessments/_section.html", takes_context=True)
def questionnaire_section(context: Any, patient: Any) -> dict[str, Any]:
    membership = context.get("membership")
    if membership is None or not membership.is_clinical:
        return {"hidden": True}
    link_codes = [i.code for i in queries.link_instruments(patient.practice)]
    return {
        "patient": patient,
        "series": queries.patient_series(patient),
        "instruments": INSTRUMENTS.values(),
        "link_form": LinkForm(codes=link_codes, patient_email=patient.email),
        "links": queries.patient_links(patient),
        "schedule_form": ScheduleForm(initial={"starts_on": timezone.localdate(), "interval_days": 28}),
        "schedules": queries.patient_schedules(patient),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def flag_label(flag: str) -> str:
    from assessments.instruments import FLAG_LABELS_DE

    return FLAG_LABELS_DE.get(flag, flag)
