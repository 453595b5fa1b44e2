from __future__ import annotations

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from memory import queries, services
from memory.models import EntryStatus, MemoryEntry, MemoryVector
from tests.base import BaseTestCase, make_patient
from tests.memory.base import MemoryLLMTestCase
from tests.memory.helpers import make_entry

SLEEP = "Schlafstörungen: wacht jede Nacht gegen 4 Uhr auf und kann nicht wieder einschlafen."
WORK = "Arbeitet als Erzieherin in einer Kita, derzeit krankgeschrieben."
PANIC = "Panikattacken in der U-Bahn, meidet öffentliche Verkehrsmittel."


class SearchTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        for text in (SLEEP, WORK, PANIC):
            make_entry(self.patient, text=text, status=EntryStatus.CONFIRMED)

    def test_it_finds_by_shared_word_parts(self) -> None:
        result = services.search_memory(patient=self.patient, query="Was wissen wir über Schlaf?")
        self.assertEqual(result.backend, services.OFFLINE_BACKEND)
        self.assertEqual(result.hits[0].entry.text, SLEEP)
        self.assertEqual(result.unsearchable, 0)
        self.assertEqual(services.search_memory(patient=self.patient, query="U-Bahn Panik").hits[0].entry.text, PANIC)

    def test_rejected_entries_are_not_found(self) -> None:
        entry = services.search_memory(patient=self.patient, query="Schlaf", k=1).hits[0].entry
        self.assertEqual(entry.text, SLEEP)
        services.reject_entry(entry=entry)
        texts = [h.entry.text for h in services.search_memory(patient=self.patient, query="Schlaf", k=5).hits]
        self.assertNotIn(SLEEP, texts)
        self.assertEqual(len(texts), 2)

    def test_stale_backend_is_counted_and_reembedded(self) -> None:
        MemoryVector.objects.update(backend="provider:old-model")
        with self.captureOnCommitCallbacks(execute=True):
            result = services.search_memory(patient=self.patient, query="Schlaf")
        self.assertEqual((result.hits, result.unsearchable), ([], 3))
        self.assertEqual(MemoryVector.objects.filter(backend=services.OFFLINE_BACKEND).count(), 3)

    def test_reembed_command(self) -> None:
        MemoryVector.objects.all().delete()
        call_command("reembed_memory", "--stale-only", stdout=open("/dev/null", "w"))
        self.assertEqual(MemoryVector.objects.count(), 3)
        call_command("reembed_memory", "--patient", str(self.patient.code), stdout=open("/dev/null", "w"))
        self.assertEqual(MemoryVector.objects.count(), 3)


class IsolationTestCase(BaseTestCase):
    """A search in practice A never returns practice B's entries — checked on the SQL itself."""

    def test_identical_text_in_another_practice_is_never_returned(self) -> None:
        other = make_patient(self.practice_b, therapist=self.charlie)
        mine = make_entry(self.patient, text=SLEEP, status=EntryStatus.CONFIRMED)
        theirs = [make_entry(other, text=SLEEP, status=EntryStatus.CONFIRMED) for _ in range(5)]
        vector = services.embed_texts(self.patient, [SLEEP]).vectors[0]
        with CaptureQueriesContext(connection) as ctx:
            hits = queries.nearest(self.patient, vector, services.OFFLINE_BACKEND, k=10, statuses=queries.SEARCHABLE)
        self.assertEqual([h.entry.pk for h in hits], [mine.pk])
        self.assertAlmostEqual(hits[0].score, 1.0, places=5)
        self.assertEqual(len(ctx.captured_queries), 1)
        sql = ctx.captured_queries[0]["sql"]
        scan, rest = sql.split("LIMIT 10)", 1)
        # The vector scan names practice and patient; so do the entry join and both counts.
        self.assertIn(f"FROM memory_memoryvector WHERE practice_id = {self.practice.pk} AND patient_id = {self.patient.pk}", scan)
        self.assertIn(f"WHERE e.practice_id = {self.practice.pk} AND e.patient_id = {self.patient.pk}", rest)
        self.assertEqual(rest.count(f"practice_id = {self.practice.pk} AND patient_id = {self.patient.pk}"), 2)  # the counts
        # The same statement with the other practice's ids finds only theirs, with the same score.
        other_sql = sql.replace(f"practice_id = {self.practice.pk} AND", f"practice_id = {self.practice_b.pk} AND").replace(
            f"patient_id = {self.patient.pk}", f"patient_id = {other.pk}")
        self.assertNotIn(f"= {self.patient.pk}", other_sql.replace(f"= {other.pk}", ""))
        found = {e.pk for e in MemoryEntry.objects.raw(other_sql)}
        self.assertEqual(found, {t.pk for t in theirs})
        self.assertEqual({round(float(e.distance), 5) for e in MemoryEntry.objects.raw(other_sql)}, {0.0})
        # A patient object pointing at the other practice (a bug elsewhere) still finds nothing of A's.
        forged = make_patient(self.practice_b, therapist=self.charlie)
        forged.pk = self.patient.pk
        self.assertEqual(queries.nearest(forged, vector, services.OFFLINE_BACKEND, k=10), [])


class ProviderSearchTestCase(MemoryLLMTestCase):
    def test_query_and_entries_are_embedded_anonymized_by_the_provider(self) -> None:
        entry = services.propose_entry(self.pat, "clinical_fact", "Henrike Wolkenstein schläft schlecht, Kastanienallee ist laut.",
                                       "session", "7d1f3b8e-2a4c-4c1e-9a55-0f3e8a1b2c3d")
        services.confirm_entry(entry=entry, user=self.alice)
        result = services.search_memory(patient=self.pat, query="Wie schläft Frau Wolkenstein?")
        self.assertEqual(result.backend, "provider:BAAI/bge-m3")
        self.assertEqual([h.entry.pk for h in result.hits], [entry.pk])
        self.assertEqual([r["path"] for r in self.llm.requests], ["/v1/embeddings", "/v1/embeddings"])
        self.assertNothingLeaked()

    def test_without_consent_it_stays_offline_and_sends_nothing(self) -> None:
        self.give_consent(self.pat, "withdrawn")
        services.propose_entry(self.pat, "clinical_fact", "Schläft schlecht.", "session", "7d1f3b8e-2a4c-4c1e-9a55-0f3e8a1b2c3d")
        result = services.search_memory(patient=self.pat, query="Schlaf")
        self.assertEqual(result.backend, services.OFFLINE_BACKEND)
        self.assertEqual(len(result.hits), 1)
        self.assertEqual(self.llm.requests, [])

    def test_a_provider_outage_leaves_the_entry_without_vector(self) -> None:
        self.llm.mode = "fail"
        entry = services.propose_entry(self.pat, "clinical_fact", "Schläft schlecht.", "session", "7d1f3b8e-2a4c-4c1e-9a55-0f3e8a1b2c3d")
        self.assertTrue(MemoryEntry.objects.filter(pk=entry.pk).exists())
        self.assertFalse(MemoryVector.objects.exists())
        self.llm.mode = "ok"
        self.assertEqual(services.reembed(patients=[self.pat], stale_only=True), 1)
        self.assertEqual(MemoryVector.objects.get().backend, "provider:BAAI/bge-m3")
