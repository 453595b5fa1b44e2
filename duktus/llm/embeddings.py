"""Offline default embedder: character 3–5-gram hashing. This is *lexical* similarity (shared
spelling), not semantic; it keeps search working without a provider. numpy only."""

from __future__ import annotations

import hashlib
import re

import numpy as np

BACKEND = "offline-char-ngram-v1"
DIMS = 384
_SPACE = re.compile(r"\s+")


class HashingEmbedder:
    backend = BACKEND
    dims = DIMS

    def __init__(self, n_min: int = 3, n_max: int = 5) -> None:
        self.n_min, self.n_max = n_min, n_max

    def _bucket(self, gram: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "little")
        return h % DIMS, (1.0 if (h >> 63) & 1 else -1.0)

    def embed_one(self, text: str) -> np.ndarray:
        vec = np.zeros(DIMS, dtype=np.float32)
        t = " " + _SPACE.sub(" ", text.casefold()).strip() + " "
        for n in range(self.n_min, self.n_max + 1):
            for i in range(len(t) - n + 1):
                idx, sign = self._bucket(t[i : i + n])
                vec[idx] += sign
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_one(t).tolist() for t in texts]
