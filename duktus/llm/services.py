"""Practice AI switch (owner only; the view checks the role). Imports no openai."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.utils import timezone

from duktus import audit
from duktus.models import LLMCall, PracticeAISettings

ROLE_LABELS = {"dialog": "Dialog (Sitzung)", "diagnostics": "Diagnostik", "documentation": "Dokumentation"}


def enable_for_practice(*, practice: Any, user: Any, provider: str, avv_signed_on: Any, request: Any = None) -> PracticeAISettings:
    ai, _ = PracticeAISettings.objects.get_or_create(practice=practice)
    ai.enabled, ai.provider, ai.avv_signed_on = True, provider, avv_signed_on
    ai.enabled_by, ai.enabled_at = user, timezone.now()
    ai.save()
    audit.record(request, "llm.enabled", practice=practice, actor=user, detail=provider[:100])
    return ai


def disable_for_practice(*, practice: Any, user: Any, request: Any = None) -> None:
    PracticeAISettings.objects.filter(practice=practice).update(enabled=False)
    audit.record(request, "llm.disabled", practice=practice, actor=user)


def _percentile(sorted_values: list[int], p: float) -> int | None:
    """Nearest-rank percentile (no interpolation); None for no values."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def latency_stats(*, practice: Any, days: int = 30) -> dict[str, Any]:
    """Per-call latency (model round trip as measured by the gateway) of the practice's AI calls
    in the last `days`: p50/p95 per role and overall, plus how many calls failed or were stopped.
    Reads plaintext columns only (status, role, latency), never content."""
    since = timezone.now() - dt.timedelta(days=days)
    rows = list(LLMCall.objects.filter(conversation__patient__practice=practice, created__gte=since)
                .values_list("role", "status", "latency_ms"))
    by_role: dict[str, list[int]] = {}
    counts = {s: 0 for s in LLMCall.Status.values}
    for role, status, latency in rows:
        counts[status] = counts.get(status, 0) + 1
        if status == LLMCall.Status.OK and latency is not None:
            by_role.setdefault(role, []).append(latency)
    everything = sorted(v for values in by_role.values() for v in values)
    roles = [{"role": ROLE_LABELS.get(r, r), "calls": len(v), "p50": _percentile(sorted(v), 50), "p95": _percentile(sorted(v), 95)}
             for r, v in sorted(by_role.items())]
    return {"days": days, "roles": roles, "calls": len(everything), "p50": _percentile(everything, 50),
            "p95": _percentile(everything, 95), "counts": counts}
