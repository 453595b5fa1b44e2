"""What the duktus app itself holds about a patient (its models live in duktus/models.py):
the LLM gateway log. Imported by registry.autodiscover() for the duktus app."""

from __future__ import annotations

from typing import Any

from duktus.models import LLMCall, LLMConversation
from duktus.privacy.registry import register


def export_llm_calls(patient: Any) -> list[dict[str, Any]]:
    # What was sent left the practice only anonymized; the restored answer is clinical content.
    return [{"at": c.created.isoformat(), "role": c.role, "model": c.model, "status": c.status}
            for c in LLMCall.objects.filter(conversation__patient=patient).order_by("created", "id")]


def erase_llm_calls(patient: Any) -> int:
    return LLMCall.objects.filter(conversation__patient=patient).delete()[0]


def erase_llm_conversations(patient: Any) -> int:
    # Runs after erase_llm_calls (registration order); the cascade would catch stragglers.
    return LLMConversation.objects.filter(patient=patient).delete()[0]


register(LLMCall, key="ai_calls", title="KI-Aufrufe (anonymisiert)", exporter=export_llm_calls, eraser=erase_llm_calls)
register(LLMConversation, key="ai_conversations", title="KI-Konversationen",
         exporter=lambda p: [{"at": c.created.isoformat()} for c in LLMConversation.objects.filter(patient=p)],
         eraser=erase_llm_conversations)
