from __future__ import annotations

from memory import services
from memory.context import Block, build_context
from memory.models import EntryStatus
from patients.crisis import raise_crisis
from tests.base import BaseTestCase
from tests.memory.helpers import make_entry


class MemoryContextTestCase(BaseTestCase):
    def test_only_confirmed_entries_feed_the_context(self) -> None:
        confirmed = make_entry(self.patient, text="Schläft schlecht, wacht früh auf.", status=EntryStatus.CONFIRMED)
        make_entry(self.patient, text="Schlaf: nimmt Zopiclon (Vorschlag).")
        make_entry(self.patient, text="Schlaf gut (verworfen).", status=EntryStatus.REJECTED)
        make_entry(self.patient, text="Schlaf früher schlecht (veraltet).", status=EntryStatus.OUTDATED)
        ctx = build_context(self.patient, "Wie schläft sie?", [("Sitzung 3", "Notiz")])
        self.assertEqual(ctx.used_entries, [str(confirmed.code)])
        self.assertEqual(ctx.included[-1], "Sitzung 3")
        self.assertIn("Schläft schlecht, wacht früh auf.", ctx.text)
        self.assertNotIn("Zopiclon", ctx.text)
        self.assertNotIn("verworfen", ctx.text)

    def test_order_summary_ranked_entries_and_budget(self) -> None:
        sleep = make_entry(self.patient, text="Schlafstörung mit frühem Erwachen.", status=EntryStatus.CONFIRMED)
        work = make_entry(self.patient, text="Arbeitet als Erzieherin in einer Kita.", status=EntryStatus.CONFIRMED)
        summary = services.rebuild_summary(patient=self.patient)
        ctx = build_context(self.patient, "Schlafstörung", [Block("Sitzung", "kurz")])
        self.assertEqual([b.kind for b in ctx.blocks], ["summary", "entry", "entry", "extra"])
        self.assertEqual(ctx.used_summary, str(summary.code))
        self.assertEqual(ctx.used_entries, [str(sleep.code), str(work.code)])  # nearest first
        small = build_context(self.patient, "Schlafstörung", [Block("Sitzung", "kurz")], budget_tokens=60)
        self.assertLessEqual(small.used_tokens, 60)
        self.assertTrue(small.dropped)
        self.assertTrue(set(small.used_entries) <= {str(sleep.code), str(work.code)})

    def test_crisis_and_warnings_come_first_and_always(self) -> None:
        warn = make_entry(self.patient, type="warning", text="Frühere Suizidversuche 2019.", status=EntryStatus.CONFIRMED)
        make_entry(self.patient, text="Mag Gartenarbeit.", status=EntryStatus.CONFIRMED)
        event = raise_crisis(patient=self.patient, source="manual", source_id="x1", summary="PHQ-9 Item 9: 2")
        ctx = build_context(self.patient, "Gartenarbeit", max_entries=1)
        self.assertEqual(ctx.blocks[0].kind, "crisis")
        self.assertEqual(ctx.blocks[0].ref, str(event.code))
        self.assertIn("PHQ-9 Item 9: 2", ctx.text)
        self.assertEqual(ctx.used_entries[0], str(warn.code))
        self.assertEqual(len(ctx.used_entries), 2)  # the warning plus the one nearest entry


class MemoriesUsedTagTestCase(BaseTestCase):
    def test_it_lists_the_entries_a_context_used(self) -> None:
        from django.template import Context, Template

        make_entry(self.patient, text="Schläft schlecht, wacht früh auf.", status=EntryStatus.CONFIRMED)
        make_entry(self.patient, text="Unbestätigter Vorschlag zum Schlaf.")
        ctx = build_context(self.patient, "Schlaf")
        html = Template("{% load memory_tags %}{% memories_used patient codes %}").render(
            Context({"patient": self.patient, "codes": ctx.used_entries}))
        self.assertIn("Verwendete Erinnerungen (1)", html)
        self.assertIn("Schläft schlecht, wacht früh auf.", html)
        self.assertNotIn("Unbestätigter", html)
        empty = Template("{% load memory_tags %}{% memories_used patient codes %}").render(Context({"patient": self.patient, "codes": []}))
        self.assertEqual(empty.strip(), "")
