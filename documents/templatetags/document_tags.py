"""{% documents_section patient %}: the patient's documents and "new document" on the patient page
(clinical roles only; the patient view has already checked access)."""

from __future__ import annotations

from typing import Any

from django import template

from documents import queries
from documents.forms import template_choices

register = template.Library()


@register.inclusion_tag("documents/_section.html", takes_context=True)
def documents_section(context: Any, patient: Any) -> dict[str, Any]:
    membership = context.get("membership")
    if membership is None or not membership.is_clinical:
        return {"hidden": True}
    return {
        "patient": patient,
        "documents": queries.patient_documents(patient),
        "choices": template_choices(),
        "is_owner": membership.is_owner,
        "csrf_token": context.get("csrf_token"),
    }
