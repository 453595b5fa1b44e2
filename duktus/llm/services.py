"""Practice AI switch (owner only; the view checks the role). Imports no openai."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from duktus import audit
from duktus.models import PracticeAISettings


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
