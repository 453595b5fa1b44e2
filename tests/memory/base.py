from __future__ import annotations

from django.test import override_settings

from tests.llm.base import LLMTestCase
from tests.memory.helpers import FakeSource, ScriptedLLM


class MemoryLLMTestCase(LLMTestCase):
    """LLMTestCase (patient self.pat with known identifiers, consent, AI on) with a scripted fake
    server and a registered fake session source."""

    def setUp(self) -> None:
        super().setUp()
        self.llm.stop()
        self.llm = ScriptedLLM().start()
        self.addCleanup(self.llm.stop)
        ov = override_settings(LLM_BASE_URL=self.llm.base_url)
        ov.enable()
        self.addCleanup(ov.disable)
        self.source = FakeSource("session")
        self.addCleanup(self.source.close)

    def chat_requests(self) -> list[dict]:  # type: ignore[type-arg]
        return [r for r in self.llm.requests if r["path"].endswith("/chat/completions")]
