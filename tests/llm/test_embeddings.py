from __future__ import annotations

import numpy as np

from duktus.llm import gateway
from duktus.llm.embeddings import HashingEmbedder
from tests.llm.base import LLMTestCase


class EmbedTestCase(LLMTestCase):
    def test_offline_without_provider(self) -> None:
        with self.settings(LLM_API_KEY=""):
            res = gateway.embed(["Schlafstörung und Grübeln", "Schlafstörungen, Grübeln", "Steuererklärung"])
        self.assertEqual(res.backend, "offline-char-ngram-v1")
        self.assertEqual(self.llm.requests, [])
        v = np.array(res.vectors)
        self.assertEqual(v.shape, (3, 384))
        self.assertTrue(np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5))
        self.assertGreater(v[0] @ v[1], v[0] @ v[2])

    def test_provider_with_anonymization(self) -> None:
        res = gateway.embed(["Henrike Wolkenstein grübelt nachts.", "Kastanienallee 77"], patient=self.pat)
        self.assertEqual(res.backend, "provider:BAAI/bge-m3")
        self.assertEqual(len(res.vectors), 2)
        self.assertEqual(self.llm.requests[0]["path"], "/v1/embeddings")
        self.assertNothingLeaked()

    def test_deterministic(self) -> None:
        e = HashingEmbedder()
        self.assertEqual(e.embed(["Angst"]), e.embed(["Angst"]))
