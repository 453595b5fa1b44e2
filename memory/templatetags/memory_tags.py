"""{% memory_section patient %} on the patient page (clinical roles only; the patient view has
already checked access) and {% memories_used patient codes %} for the AI panel."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("memory/_section.html", takes_context=True)
def memory_section(context: Any, patient: Any) -> dict[str, Any]:
    from memory.views import section_context

    membership = context.get("membership")
    if membership is None or not membership.is_clinical:
        return {"hidden": True}
    return section_context(patient) | {"csrf_token": context.get("csrf_token"), "request": context.get("request")}


@register.inclusion_tag("memory/_used.html")
def memories_used(patient: Any, codes: list[str]) -> dict[str, Any]:
    """The memory entries a build_context() used (Context.used_entries), for "Verwendete Erinnerungen"."""
    from memory import queries

    return {"used": queries.entries_by_codes(patient, list(codes or []))}
