from __future__ import annotations

from memory.context import Block, build_context, estimate_tokens
from tests.base import BaseTestCase


class BuildContextTestCase(BaseTestCase):
    def test_it_includes_extra_in_order(self) -> None:
        ctx = build_context(self.patient, "Schlaf?", [("Sitzung 3", "Schläft schlecht."), {"title": "Evidenz", "text": "KVT-I"}])
        self.assertEqual(ctx.included, ["Sitzung 3", "Evidenz"])
        self.assertEqual(ctx.dropped, [])
        self.assertIn("## Sitzung 3\nSchläft schlecht.", ctx.text)

    def test_it_drops_what_does_not_fit(self) -> None:
        big = "x" * 3500  # ~1000 tokens
        ctx = build_context(self.patient, "q", [Block("a", big), Block("b", big), Block("c", "kurz")], budget_tokens=1100)
        self.assertEqual(ctx.included, ["a", "c"])
        self.assertEqual(ctx.dropped_titles, ["b"])
        self.assertLessEqual(ctx.used_tokens, 1100)

    def test_estimate(self) -> None:
        self.assertEqual(estimate_tokens("a" * 35), 10)
