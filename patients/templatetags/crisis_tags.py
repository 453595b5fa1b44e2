"""{% crisis_banner patient %}: the open crisis events of a patient, for clinical roles only.
Any page that shows a patient to a clinician includes it (patient page, session view)."""

from __future__ import annotations

from typing import Any

from django import template

from patients import crisis

register = template.Library()


@register.inclusion_tag("patients/_crisis_banner.html", takes_context=True)
def crisis_banner(context: Any, patient: Any) -> dict[str, Any]:
    membership = context.get("membership")
    if membership is None or not membership.is_clinical:
        return {"events": []}
    return {
        "patient": patient,
        "events": crisis.open_events(patient),
        "steps": crisis.PROTOCOL_STEPS,
        "numbers": crisis.EMERGENCY_NUMBERS,
    }
