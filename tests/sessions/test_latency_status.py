"""Per-call latency p50/p95 on the owner's AI page (/ki/einstellungen/)."""

from __future__ import annotations

from duktus.llm import services
from duktus.models import LLMCall, LLMConversation
from tests.base import BaseTestCase, make_patient

URL = "/ki/einstellungen/"


def _calls(patient, latencies, role="dialog", status="ok"):  # type: ignore[no-untyped-def]
    conv = LLMConversation(patient=patient)
    conv.mapping = {}
    conv.save()
    for ms in latencies:
        call = LLMCall(conversation=conv, role=role, model="m", status=status, latency_ms=ms)
        call.request_sent, call.response_text, call.restored_text = {}, "", ""
        call.save()


class LatencyStatsTestCase(BaseTestCase):
    def test_percentiles_per_role_and_practice(self) -> None:
        _calls(self.patient, list(range(100, 2100, 100)))  # 20 calls: 100 … 2000 ms
        _calls(self.patient, [5000], role="documentation")
        _calls(self.patient, [None], status="failed")
        other = make_patient(self.practice_b, therapist=self.charlie, first_name="Bea", last_name="Bauer")
        _calls(other, [99_999])
        stats = services.latency_stats(practice=self.practice)
        dialog = next(r for r in stats["roles"] if r["role"].startswith("Dialog"))
        self.assertEqual((dialog["calls"], dialog["p50"], dialog["p95"]), (20, 1000, 1900))
        self.assertEqual((stats["calls"], stats["p95"]), (21, 2000))
        self.assertEqual(stats["counts"]["failed"], 1)

    def test_the_owner_sees_them(self) -> None:
        _calls(self.patient, [800, 1200, 4100])
        self.login(self.olga)
        r = self.client.get(URL)
        self.assertContains(r, 'id="ai-latency"')
        self.assertContains(r, "1200 ms")  # p50
        self.assertContains(r, "4100 ms")  # p95

    def test_nobody_else_does(self) -> None:
        for user in (self.alice, self.bob):
            self.login(user)
            self.assertEqual(self.client.get(URL).status_code, 403)
