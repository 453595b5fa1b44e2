"""FAISS evidence index: build, load, rebuild on data/backend change, search, provider path."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import threading
from pathlib import Path
from unittest import mock

from django.core.management import call_command
from django.test import override_settings

from duktus.llm.embeddings import HashingEmbedder
from duktus.models import PracticeAISettings
from sessions.evidence import EvidenceHit, index, search, search_with_info
from sessions.evidence.loader import EVIDENCE_DIR, load_entries
from tests.base import BaseTestCase
from tests.llm.base import LLMTestCase

OFFLINE = "offline-char-ngram-v1"

# Clear queries and the entry each must find first (offline backend).
CLEAR = {
    "Eye Movement Desensitization and Reprocessing": "ptbs-emdr",
    "Verhaltensaktivierung bei Depression": "nvl-dep-verhaltensaktivierung",
    "Benzodiazepine bei PTBS": "ptbs-benzodiazepine",
    "Regionale Versorgungsstrukturen kennen": "nvl-dep-versorgungslandschaft",
    "Lithium Suizidprävention": "nvl-dep-suizidal-lithium",
    "Sicherheitsplan mit Warnzeichen": "safety-planning-intervention",
    "Exposition bei spezifischer Phobie": "angst-spezifische-phobie-exposition",
}


class IndexDirMixin:
    """Each test gets its own index directory and an empty in-process cache."""

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.index_dir = Path(tempfile.mkdtemp(prefix="evidence-"))
        self.addCleanup(shutil.rmtree, self.index_dir, True)  # type: ignore[attr-defined]
        ov = override_settings(EVIDENCE_INDEX_DIR=str(self.index_dir))
        ov.enable()
        self.addCleanup(ov.disable)  # type: ignore[attr-defined]
        index.clear_cache()
        self.addCleanup(index.clear_cache)  # type: ignore[attr-defined]


@override_settings(LLM_API_KEY="")
class OfflineIndexTestCase(IndexDirMixin, BaseTestCase):
    def test_first_search_builds_and_stores_the_index_with_backend_and_fingerprint(self) -> None:
        self.assertIsNone(index.read_header(OFFLINE))
        search("Panikstörung")
        header = index.read_header(OFFLINE)
        self.assertIsNotNone(header)
        assert header is not None
        self.assertEqual(header["backend"], OFFLINE)
        self.assertEqual(header["fingerprint"], index.data_fingerprint())
        self.assertEqual(header["dims"], 384)
        self.assertEqual(len(header["ids"]), len(load_entries()))
        self.assertTrue(index.index_path(OFFLINE).is_file())
        self.assertEqual([p.name for p in self.index_dir.glob(".tmp-*")], [])  # no temp file left

    def test_a_stored_index_is_loaded_without_embedding_again(self) -> None:
        first = search("Psychoedukation bei Panikstörung")
        index.clear_cache()  # a new process: only the file is left
        with mock.patch.object(index, "build", side_effect=AssertionError("must not rebuild")):
            again = search("Psychoedukation bei Panikstörung")
        self.assertEqual([h.id for h in again], [h.id for h in first])

    def test_a_corrupt_file_is_rebuilt(self) -> None:
        search("Depression")
        index.index_path(OFFLINE).write_bytes(b"kaputt")
        index.clear_cache()
        self.assertTrue(search("Verhaltensaktivierung"))
        self.assertEqual(index.read_header(OFFLINE)["backend"], OFFLINE)  # type: ignore[index]

    def test_it_rebuilds_when_the_data_files_change(self) -> None:
        data = Path(tempfile.mkdtemp(prefix="evidence-data-"))
        self.addCleanup(shutil.rmtree, data, True)
        for p in EVIDENCE_DIR.glob("*.json"):
            shutil.copy(p, data / p.name)
        before = index.get_index(OFFLINE, index.offline_embedder, directory=data)
        self.assertEqual(len(before.ids), len(load_entries()))

        path = data / "s3_angst_2021.json"
        entries = json.loads(path.read_text(encoding="utf-8"))
        entries.append({**entries[0], "id": "angst-neuer-eintrag", "text": "Die Leitlinie beschreibt Zungenbrecher.",
                        "keywords": ["Zungenbrecher"]})
        path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")

        after = index.get_index(OFFLINE, index.offline_embedder, directory=data)
        self.assertNotEqual(after.fingerprint, before.fingerprint)
        self.assertIn("angst-neuer-eintrag", after.ids)
        self.assertEqual(index.read_header(OFFLINE)["fingerprint"], after.fingerprint)  # type: ignore[index]
        hits = index._hits(after, index.offline_embedder(["Zungenbrecher"])[0][0], 1)
        self.assertEqual(hits[0].id, "angst-neuer-eintrag")

    def test_it_finds_the_right_entry_for_clear_queries(self) -> None:
        for query, expected in CLEAR.items():
            with self.subTest(query=query):
                self.assertEqual(search(query, k=5)[0].id, expected)

    def test_hits_carry_the_citation_fields(self) -> None:
        (hit,) = search("regionale Versorgungsstrukturen ambulant stationär Rehabilitation", k=1)
        self.assertIsInstance(hit, EvidenceHit)
        self.assertEqual((hit.id, hit.recommendation_number, hit.grade, hit.year, hit.verified),
                         ("nvl-dep-versorgungslandschaft", "14-1", "Soll", 2022, True))
        self.assertEqual(hit.backend, OFFLINE)
        self.assertIn("AWMF", hit.source)
        self.assertEqual(hit.citation, "NVL Depression 2022, Empfehlung 14-1 (Soll)")
        (unverified,) = search("Eye Movement Desensitization and Reprocessing", k=1)
        self.assertFalse(unverified.verified)
        self.assertEqual(unverified.recommendation_number, "")
        self.assertTrue(unverified.citation.endswith("[ungeprüft]"))

    def test_scores_are_sorted_and_k_is_bounded(self) -> None:
        hits = search("Suizidalität", k=7)
        self.assertEqual(len(hits), 7)
        self.assertEqual([h.score for h in hits], sorted((h.score for h in hits), reverse=True))
        self.assertEqual(len(search("Suizidalität", k=1000)), index.MAX_K)
        self.assertEqual(len(search("Suizidalität", k=0)), 1)

    def test_empty_query_returns_nothing_and_builds_nothing(self) -> None:
        self.assertEqual(search(""), [])
        self.assertEqual(search("   \n"), [])
        self.assertIsNone(index.read_header(OFFLINE))

    def test_parallel_first_searches_build_once(self) -> None:
        calls: list[int] = []
        real_build = index.build

        def counting_build(*args: object, **kwargs: object) -> object:
            calls.append(1)
            return real_build(*args, **kwargs)  # type: ignore[arg-type]

        results: list[list[str]] = []
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                results.append([h.id for h in search("Exposition bei Agoraphobie", k=3)])
            except BaseException as exc:  # noqa: BLE001 — reported below
                errors.append(exc)

        with mock.patch.object(index, "build", side_effect=counting_build):
            threads = [threading.Thread(target=worker) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(calls), 1)
        self.assertEqual(len({tuple(r) for r in results}), 1)

    def test_command_rebuilds_the_offline_index(self) -> None:
        search("Depression")
        built_at = index.read_header(OFFLINE)["built_at"]  # type: ignore[index]
        out = io.StringIO()
        call_command("rebuild_evidence_index", stdout=out)
        self.assertIn(f"{len(load_entries())} Einträge indexiert, Backend {OFFLINE}", out.getvalue())
        self.assertGreater(index.read_header(OFFLINE)["built_at"], built_at)  # type: ignore[index]


class ProviderIndexTestCase(IndexDirMixin, LLMTestCase):
    """A provider is configured (tests/fake_llm.py); the practice switched AI on."""

    def setUp(self) -> None:
        super().setUp()
        hashing = HashingEmbedder()
        # A stand-in "semantic" model: good enough to tell entries apart.
        self.llm.embed_fn = lambda text: hashing.embed_one(text).tolist()

    def embed_requests(self) -> list[dict]:
        return [r for r in self.llm.requests if r["path"] == "/v1/embeddings"]

    def test_embeddings_go_through_the_gateway_to_the_provider(self) -> None:
        result = search_with_info("Eye Movement Desensitization and Reprocessing", practice=self.practice)
        self.assertEqual(result.backend, "provider:BAAI/bge-m3")
        self.assertEqual(result.notice, "")
        self.assertEqual(result.hits[0].id, "ptbs-emdr")
        self.assertEqual(result.hits[0].backend, "provider:BAAI/bge-m3")
        requests = self.embed_requests()
        sent = [t for r in requests for t in r["body"]["input"]]
        self.assertEqual(len(sent), len(load_entries()) + 1)  # every entry once, then the query
        self.assertEqual({r["body"]["model"] for r in requests}, {"BAAI/bge-m3"})
        self.assertEqual(index.read_header("provider:BAAI/bge-m3")["backend"], "provider:BAAI/bge-m3")  # type: ignore[index]
        # A second search embeds only the query.
        search("EMDR", practice=self.practice)
        self.assertEqual(len(self.embed_requests()), len(requests) + 1)

    def test_it_rebuilds_when_the_embedding_model_changes(self) -> None:
        search("Exposition", practice=self.practice)
        with self.settings(LLM_MODEL_EMBED="intfloat/multilingual-e5-large"):
            result = search_with_info("Exposition", practice=self.practice)
        self.assertEqual(result.backend, "provider:intfloat/multilingual-e5-large")
        models = [r["body"]["model"] for r in self.embed_requests() if len(r["body"]["input"]) > 1]
        self.assertEqual(set(models), {"BAAI/bge-m3", "intfloat/multilingual-e5-large"})
        self.assertIsNotNone(index.read_header("provider:BAAI/bge-m3"))
        self.assertIsNotNone(index.read_header("provider:intfloat/multilingual-e5-large"))

    def test_it_rebuilds_when_the_model_changes_its_dimension_under_the_same_name(self) -> None:
        search("Exposition", practice=self.practice)
        self.assertEqual(index.read_header("provider:BAAI/bge-m3")["dims"], 384)  # type: ignore[index]
        self.llm.embed_fn = lambda text: [float(len(text) % 5), 1.0, 0.5, 0.25]
        result = search_with_info("Exposition", practice=self.practice)
        self.assertEqual(result.notice, "")
        self.assertEqual(index.read_header("provider:BAAI/bge-m3")["dims"], 4)  # type: ignore[index]

    def test_offline_and_provider_indices_are_kept_apart(self) -> None:
        with self.settings(LLM_API_KEY=""):
            self.assertEqual(search_with_info("Exposition").backend, OFFLINE)
        self.assertEqual(self.embed_requests(), [])
        self.assertEqual(search_with_info("Exposition", practice=self.practice).backend, "provider:BAAI/bge-m3")
        self.assertEqual({p.name for p in self.index_dir.glob("*.npz")},
                         {f"{OFFLINE}.npz", "provider_BAAI_bge-m3.npz"})

    def test_without_the_practice_switch_nothing_leaves_the_system(self) -> None:
        PracticeAISettings.objects.filter(practice=self.practice).update(enabled=False)
        result = search_with_info("Exposition bei Agoraphobie", practice=self.practice)
        self.assertEqual(result.backend, OFFLINE)
        self.assertIn("nicht freigeschaltet", result.notice)
        self.assertTrue(result.hits)
        self.assertEqual(self.llm.requests, [])
        # No practice and no patient given: offline as well.
        self.assertEqual(search_with_info("Exposition").backend, OFFLINE)
        self.assertEqual(self.llm.requests, [])

    def test_a_patient_query_is_anonymized_by_the_gateway(self) -> None:
        hits = search("Henrike Wolkenstein aus der Kastanienallee 77 hat Panikattacken", patient=self.pat, user=self.alice)
        self.assertTrue(hits)
        self.assertEqual(hits[0].backend, "provider:BAAI/bge-m3")
        self.assertNothingLeaked()

    def test_a_patient_without_consent_gets_the_offline_search(self) -> None:
        self.give_consent(self.pat, action="withdrawn")
        result = search_with_info("Panikattacken", patient=self.pat, user=self.alice)
        self.assertEqual(result.backend, OFFLINE)
        self.assertIn("Einwilligung", result.notice)
        self.assertEqual(self.embed_requests(), [])

    def test_a_name_in_a_practice_query_is_masked_before_it_leaves(self) -> None:
        search("Frau Henrike Wolkenstein, geboren 12.04.1979, hat Panikattacken", practice=self.practice)
        (query_request,) = [r for r in self.embed_requests() if len(r["body"]["input"]) == 1]
        sent = query_request["body"]["input"][0]
        self.assertNotIn("Wolkenstein", sent)
        self.assertNotIn("12.04.1979", sent)
        self.assertIn("Panikattacken", sent)

    def test_provider_outage_falls_back_to_offline(self) -> None:
        self.llm.mode = "fail"
        result = search_with_info("Exposition bei Agoraphobie", practice=self.practice)
        self.assertEqual(result.backend, OFFLINE)
        self.assertIn("nicht erreichbar", result.notice)
        self.assertEqual(result.hits[0].backend, OFFLINE)
        self.assertIn("angst-exposition-agoraphobie", [h.id for h in result.hits])

    def test_command_rebuilds_offline_and_provider_indices(self) -> None:
        out = io.StringIO()
        call_command("rebuild_evidence_index", stdout=out)
        self.assertIn(f"Backend {OFFLINE}", out.getvalue())
        self.assertIn("Backend provider:BAAI/bge-m3", out.getvalue())
        self.assertTrue(self.embed_requests())
        out = io.StringIO()
        count = len(self.llm.requests)
        call_command("rebuild_evidence_index", "--offline-only", stdout=out)
        self.assertEqual(len(self.llm.requests), count)
        self.assertNotIn("provider:", out.getvalue())

    def test_command_reports_a_provider_outage(self) -> None:
        from django.core.management.base import CommandError

        self.llm.mode = "fail"
        with self.assertRaisesRegex(CommandError, "nicht erreichbar"):
            call_command("rebuild_evidence_index", stdout=io.StringIO())
        self.assertIsNotNone(index.read_header(OFFLINE))  # the offline one was built first
