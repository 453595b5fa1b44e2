from __future__ import annotations

import datetime as dt
import uuid
from unittest import mock

from django.db import connection

from duktus.models import AuditEntry
from memory import services, tasks
from memory.models import EntryStatus, ExtractionRun, MemoryEntry, MemoryVector
from tests.memory.base import MemoryLLMTestCase
from tests.memory.helpers import entries_json

NOTE = ("Frau Henrike Wolkenstein berichtet, dass sie seit dem Umzug kaum schläft und nachts grübelt. "
        "Sie möchte wieder an drei Tagen pro Woche joggen gehen. Wir haben Schlafhygiene besprochen. "
        "Ihre Schwester unterstützt sie sehr.")
VALID = entries_json(
    ("clinical_fact", "[PERSON_1] schläft seit dem Umzug kaum und grübelt nachts.", "seit dem Umzug kaum schläft und nachts grübelt"),
    ("therapeutic_goal", "Wieder an drei Tagen pro Woche joggen.", "an drei Tagen pro Woche joggen"),
    ("intervention", "Psychoedukation Schlafhygiene.", "Schlafhygiene besprochen"),
    ("resource", "Die Schwester unterstützt sie.", "eine Quelle, die so nicht im Text steht"),
)


class ExtractEntriesTestCase(MemoryLLMTestCase):
    def run_task(self, sid: str) -> str | None:
        return tasks.extract_entries.delay("session", sid).get()

    def test_it_stores_valid_entries_as_proposals(self) -> None:
        self.llm.answers(VALID)
        sid = self.source.add(self.pat, NOTE, self.alice, dt.date(2026, 3, 5))
        self.assertEqual(self.run_task(sid), "done")
        run = ExtractionRun.objects.get()
        self.assertEqual((run.status, run.attempts, run.entries_created, run.error_kind), ("done", 1, 4, ""))
        entries = list(MemoryEntry.objects.order_by("id"))
        for e in entries:
            e.patient = self.pat
        self.assertEqual([e.type for e in entries], ["clinical_fact", "therapeutic_goal", "intervention", "resource"])
        self.assertTrue(all(e.status == EntryStatus.PROPOSED for e in entries))
        self.assertTrue(all(e.source_kind == "session" and str(e.source_id) == sid for e in entries))
        self.assertTrue(all(e.date == dt.date(2026, 3, 5) and e.created_by == self.alice for e in entries))
        # The answer is restored: the placeholder became the name again (stored encrypted).
        self.assertEqual(entries[0].text, "Henrike Wolkenstein schläft seit dem Umzug kaum und grübelt nachts.")
        self.assertEqual(entries[0].excerpt, "seit dem Umzug kaum schläft und nachts grübelt")
        # An excerpt that is not in the source is replaced by the best matching source sentence.
        self.assertEqual(entries[3].excerpt, "Ihre Schwester unterstützt sie sehr.")
        with connection.cursor() as cur:
            cur.execute("SELECT text_ct, excerpt_ct FROM memory_memoryentry")
            for text_ct, excerpt_ct in cur.fetchall():
                self.assertNotIn("Wolkenstein", text_ct + excerpt_ct)
                self.assertNotIn("Umzug", text_ct + excerpt_ct)
        # What left the process was anonymized; the prompt asked for JSON after the schema.
        self.assertNothingLeaked()
        body = self.chat_requests()[0]["body"]
        self.assertEqual(body["model"], "meta-llama/Llama-3.3-70B-Instruct")
        self.assertEqual(body["temperature"], 0.1)  # the diagnostics role
        self.assertIn('"required": ["type", "text", "excerpt"]', body["messages"][0]["content"])
        # Every proposal got a vector (provider embeddings through the gateway, anonymized too).
        self.assertEqual(MemoryVector.objects.count(), 4)
        self.assertEqual(set(MemoryVector.objects.values_list("backend", flat=True)), {"provider:BAAI/bge-m3"})
        self.assertTrue(AuditEntry.objects.filter(action="memory.extract", detail="session: 4 Vorschläge").exists())

    def test_it_is_idempotent(self) -> None:
        self.llm.answers(VALID)
        sid = self.source.add(self.pat, NOTE, self.alice)
        self.run_task(sid)
        self.run_task(sid)
        services.extract_from_source(source_kind="session", source_id=uuid.UUID(sid))
        self.assertEqual(len(self.chat_requests()), 1)
        self.assertEqual(MemoryEntry.objects.count(), 4)
        self.assertEqual(ExtractionRun.objects.count(), 1)

    def test_malformed_output_is_retried_once(self) -> None:
        self.llm.answers("Hier sind die Einträge: {entries: [kaputt", "```json\n" + VALID + "\n```")
        sid = self.source.add(self.pat, NOTE, self.alice)
        self.assertEqual(self.run_task(sid), "done")
        run = ExtractionRun.objects.get()
        self.assertEqual((run.attempts, run.entries_created), (2, 4))
        second = self.chat_requests()[1]["body"]["messages"]
        self.assertIn("nicht verwertbar (malformed_json)", second[-1]["content"])

    def test_malformed_twice_is_reported_and_nothing_stored(self) -> None:
        self.llm.answers("kein JSON", "immer noch kein JSON")
        sid = self.source.add(self.pat, NOTE, self.alice)
        self.assertEqual(self.run_task(sid), "failed")
        run = ExtractionRun.objects.get()
        self.assertEqual((run.status, run.error_kind, run.attempts), ("failed", "malformed_json", 2))
        self.assertFalse(MemoryEntry.objects.exists())
        self.assertEqual(len(self.chat_requests()), 2)
        self.assertTrue(AuditEntry.objects.filter(action="memory.extract_failed").exists())

    def test_schema_violation_stores_nothing(self) -> None:
        # The first entry is fine, the second has an unknown type: all or nothing.
        bad = entries_json(("clinical_fact", "Schläft schlecht.", "kaum schläft"), ("diagnosis", "F32.1", "grübelt"))
        self.llm.answers(bad, bad)
        sid = self.source.add(self.pat, NOTE, self.alice)
        self.run_task(sid)
        run = ExtractionRun.objects.get()
        self.assertEqual((run.status, run.error_kind), ("failed", "schema"))
        self.assertFalse(MemoryEntry.objects.exists())

    def test_empty_output_is_retried_then_reported(self) -> None:
        self.llm.answers(None, None)
        sid = self.source.add(self.pat, NOTE, self.alice)
        self.assertEqual(self.run_task(sid), "failed")
        run = ExtractionRun.objects.get()
        self.assertEqual((run.error_kind, run.attempts), ("empty", 2))
        self.assertFalse(MemoryEntry.objects.exists())

    def test_empty_then_valid(self) -> None:
        self.llm.answers(None, VALID)
        sid = self.source.add(self.pat, NOTE, self.alice)
        self.assertEqual(self.run_task(sid), "done")
        self.assertEqual(MemoryEntry.objects.count(), 4)

    def test_no_entries_is_a_valid_answer(self) -> None:
        self.llm.answers('{"entries": []}')
        sid = self.source.add(self.pat, NOTE, self.alice)
        self.assertEqual(self.run_task(sid), "done")
        self.assertEqual(ExtractionRun.objects.get().entries_created, 0)
        self.assertFalse(MemoryEntry.objects.exists())

    def test_a_failed_run_can_be_retried(self) -> None:
        self.llm.answers("kaputt", "kaputt", VALID)
        sid = self.source.add(self.pat, NOTE, self.alice)
        self.assertEqual(self.run_task(sid), "failed")
        run = ExtractionRun.objects.get()
        with self.captureOnCommitCallbacks(execute=True):
            services.retry_extraction(run=run)
        run.refresh_from_db()
        self.assertEqual((run.status, run.entries_created, run.error_kind), ("done", 4, ""))

    def test_an_unexpected_error_does_not_leave_the_run_claimed(self) -> None:
        # A "running" run would block redeliveries for STALE_RUN, offer no retry and show as running.
        self.llm.answers(VALID)
        sid = self.source.add(self.pat, NOTE, self.alice)
        with mock.patch("memory.services.parse_extraction", side_effect=RuntimeError("boom")), self.assertRaises(RuntimeError):
            self.run_task(sid)
        run = ExtractionRun.objects.get()
        self.assertEqual((run.status, run.error_kind), ("failed", "error"))
        self.assertIsNotNone(run.finished_at)
        self.assertFalse(MemoryEntry.objects.exists())
        with self.captureOnCommitCallbacks(execute=True):
            services.retry_extraction(run=run)
        run.refresh_from_db()
        self.assertEqual((run.status, run.entries_created, run.error_kind), ("done", 4, ""))

    def test_without_consent_nothing_is_sent(self) -> None:
        self.give_consent(self.pat, "withdrawn")
        self.llm.answers(VALID)
        sid = self.source.add(self.pat, NOTE, self.alice)
        self.assertEqual(self.run_task(sid), "failed")
        self.assertEqual(ExtractionRun.objects.get().error_kind, "refused")
        self.assertEqual(self.llm.requests, [])

    def test_a_gone_source_is_ignored(self) -> None:
        self.assertIsNone(self.run_task(str(uuid.uuid4())))
        self.assertFalse(ExtractionRun.objects.exists())

    def test_request_extraction_enqueues_ids_after_commit(self) -> None:
        self.llm.answers(VALID)
        sid = self.source.add(self.pat, NOTE, self.alice)
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            services.request_extraction(source_kind="session", source_id=sid)
        self.assertEqual(len(callbacks), 1)
        self.assertFalse(ExtractionRun.objects.exists())
        callbacks[0]()
        self.assertEqual(MemoryEntry.objects.count(), 4)

    def test_unregistered_source_kind_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            services.request_extraction(source_kind="assessment", source_id=uuid.uuid4())
        with self.assertRaises(ValueError):
            services.register_source("manual", lambda sid: None)


class ParseExtractionTestCase(MemoryLLMTestCase):
    def test_validation_paths_hold_no_content(self) -> None:
        with self.assertRaises(services.ExtractionInvalid) as cm:
            services.parse_extraction('{"entries": [{"type": "clinical_fact", "text": "ok ok", "excerpt": 5}]}')
        self.assertEqual((cm.exception.kind, cm.exception.where), ("schema", "$.entries[0].excerpt"))
        with self.assertRaises(services.ExtractionInvalid) as cm:
            services.parse_extraction('{"eintraege": []}')
        self.assertEqual(cm.exception.kind, "schema")
        with self.assertRaises(services.ExtractionInvalid) as cm:
            services.parse_extraction("   ")
        self.assertEqual(cm.exception.kind, "empty")

    def test_it_tolerates_prose_around_json(self) -> None:
        items = services.parse_extraction('Gern: {"entries": [{"type": "warning", "text": "Passive Todeswünsche.", "excerpt": "x"}]} Ende.')
        self.assertEqual(items[0]["type"], "warning")


class ExtractOutageTestCase(MemoryLLMTestCase):
    def test_an_outage_fails_the_run_and_reraises_for_the_task_retry(self) -> None:
        from duktus.llm.errors import GatewayUnavailable

        self.llm.mode = "fail"
        sid = self.source.add(self.pat, NOTE, self.alice)
        with self.assertRaises(GatewayUnavailable):
            services.extract_from_source(source_kind="session", source_id=sid)
        run = ExtractionRun.objects.get()
        self.assertEqual((run.status, run.error_kind, run.attempts), ("failed", "unavailable", 1))
        self.assertFalse(MemoryEntry.objects.exists())
        # The retry claims the failed run again.
        self.llm.answers(VALID)
        self.assertEqual(services.extract_from_source(source_kind="session", source_id=sid).status, "done")
        self.assertEqual(MemoryEntry.objects.count(), 4)


class ExtractDuplicatesTestCase(MemoryLLMTestCase):
    def test_known_facts_are_not_proposed_again(self) -> None:
        services.add_entry(patient=self.pat, type="intervention", text="Psychoedukation   schlafhygiene.", user=self.alice)
        rejected = services.propose_entry(self.pat, "resource", "Die Schwester unterstützt sie.", "session",
                                          "7d1f3b8e-2a4c-4c1e-9a55-0f3e8a1b2c3d")
        services.reject_entry(entry=rejected)
        twice = entries_json(("clinical_fact", "Schläft kaum.", "kaum schläft"), ("clinical_fact", "schläft  kaum.", "kaum schläft"))
        self.llm.answers(VALID)
        sid = self.source.add(self.pat, NOTE, self.alice)
        services.extract_from_source(source_kind="session", source_id=sid)
        run = ExtractionRun.objects.get()
        self.assertEqual(run.entries_created, 2)  # the intervention and the rejected resource are known
        self.assertTrue(AuditEntry.objects.filter(action="memory.extract", detail="session: 2 Vorschläge, 2 bekannt").exists())
        self.llm.answers(twice)
        services.extract_from_source(source_kind="session", source_id=self.source.add(self.pat, NOTE, self.alice))
        self.assertEqual(ExtractionRun.objects.order_by("-id").first().entries_created, 1)
