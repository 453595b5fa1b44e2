"""FAISS index over the curated guideline evidence, and `search()`.

Vectors come from the gateway's `embed` role (duktus.llm.gateway.embed) when a provider is
configured, else from the offline lexical embedder (character 3–5-grams, duktus/llm/embeddings.py).
Each index file records the backend that made its vectors and a fingerprint of the data files;
a search with another backend or changed data rebuilds it (once, under a lock).

One file per backend under ``settings.EVIDENCE_INDEX_DIR`` (default ``VAR_DIR/evidence``,
gitignored): ``<backend>.npz`` with the serialized FAISS index and a JSON header. Files are
written atomically (temp file + rename) under an exclusive file lock, so a web process and a
Celery worker never read a half-written index or build the same one twice.

Which backend a search uses: the provider only when the text may leave the system —
for a patient (the gateway then checks the practice switch and consent, and anonymizes), or for
a practice that switched AI on (the query is anonymized first). Otherwise, and whenever the
provider fails, the offline index answers; nothing leaves the machine then.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sessions.evidence.loader import EVIDENCE_DIR, EvidenceEntry, load_entries

log = logging.getLogger(__name__)

# Bump when document_text() or the file layout changes: every stored index is then rebuilt.
INDEX_FORMAT = "evidence-index-v1"
EMBED_BATCH = 32
MAX_K = 20

# clinical.md §4: NVL wording and AWMF S3 letters.
GRADE_MEANING = {"Soll": "⇑⇑, starke Empfehlung", "Sollte": "⇑, abgeschwächte Empfehlung", "Kann": "⇔, offen",
                 "A": "soll", "B": "sollte", "0": "kann", "KKP": "klinischer Konsenspunkt", "Statement": "", "": ""}

Embedder = Callable[[list[str]], tuple[list[list[float]], str]]


@dataclass(frozen=True)
class EvidenceHit:
    """One search result: the entry's citation fields plus the similarity score."""

    id: str
    guideline: str
    guideline_short: str
    year: int
    chapter: str
    recommendation_number: str
    grade: str
    source: str
    verified: bool
    text: str
    score: float  # cosine similarity in [-1, 1]; comparable only within one backend
    backend: str

    @property
    def grade_label(self) -> str:
        """The grade with its meaning, e.g. "A (soll)" or "Sollte (⇑)"; "" when unknown."""
        return f"{self.grade} ({GRADE_MEANING[self.grade]})" if GRADE_MEANING.get(self.grade) else self.grade

    @property
    def number_label(self) -> str:
        return f"Empfehlung {self.recommendation_number}" if self.recommendation_number else ""

    @property
    def citation(self) -> str:
        """Short reference for prompts and lists, e.g. "NVL Depression 2022, Empfehlung 12-1 (Soll)"."""
        parts = [f"{self.guideline_short} {self.year}"]
        if self.recommendation_number:
            parts.append(f"Empfehlung {self.recommendation_number}")
        elif self.chapter:
            parts.append(self.chapter)
        label = ", ".join(parts)
        if self.grade:
            label += f" ({self.grade})"
        if not self.verified:
            label += " [ungeprüft]"
        return label


@dataclass
class SearchResult:
    hits: list[EvidenceHit]
    backend: str
    notice: str = ""  # German, for the page: why the offline backend answered although a provider exists


@dataclass
class _Index:
    backend: str
    fingerprint: str
    ids: list[str]
    faiss_index: Any
    dims: int
    built_at: float
    entries: dict[str, EvidenceEntry] = field(default_factory=dict)


# --- data ----------------------------------------------------------------------------------------
def document_text(entry: EvidenceEntry) -> str:
    """What gets embedded for an entry: source label, chapter, paraphrase and search keywords."""
    parts = [entry.guideline_short, entry.chapter, entry.text, ". ".join(entry.keywords)]
    return " ".join(p for p in parts if p)


_fp_lock = threading.Lock()
_fp_cache: tuple[tuple[Any, ...], str] | None = None


def data_fingerprint(directory: Path = EVIDENCE_DIR) -> str:
    """sha256 over the index format and every data file (name + bytes). Cached per file stat."""
    global _fp_cache
    paths = sorted(directory.glob("*.json"))
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths) + (INDEX_FORMAT, str(directory))
    with _fp_lock:
        if _fp_cache is not None and _fp_cache[0] == stamp:
            return _fp_cache[1]
        h = hashlib.sha256(INDEX_FORMAT.encode())
        for p in paths:
            h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
        digest = h.hexdigest()
        _fp_cache = (stamp, digest)
        return digest


def index_dir() -> Path:
    from django.conf import settings

    configured = getattr(settings, "EVIDENCE_INDEX_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "evidence"


def index_path(backend: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", backend).strip("_") or "backend"
    return index_dir() / f"{slug}.npz"


# --- embedders -----------------------------------------------------------------------------------
_WORD = re.compile(r"[a-zäöüß0-9]+(?:-[a-zäöüß0-9]+)*")
# Function words, question words and the phrasing every entry shares ("Die Leitlinie beschreibt …").
# For the lexical backend only: they add the same character n-grams to every vector and drown the
# distinctive terms (bench/evidence_bench.py: recall@5 0.73 → 0.80 on the dev questions, 0.90 →
# 0.95 on the held-out ones). A semantic provider gets the natural text.
STOPWORDS = frozenset("""
der die das den dem des ein eine einer eines einem einen und oder aber als auch an am auf aus bei bis
durch für gegen im in ins ist sind war wird werden wurde mit nach nicht noch nur ob sich so über um
unter von vom vor zu zum zur es er sie wir ich man was wie wo wann warum welche welcher welches wer
dass da dann denn doch hat haben kann können soll sollte sollen darf muss gibt gilt gelten etwa bzw
z b u a d h ggf sowie soweit sofern ohne mehr sehr leitlinie beschreibt nennt empfiehlt sieht
recherche-notiz kapitel information dort
""".split())


def lexical_text(text: str) -> str:
    """Lower-cased words without stop words: the input of the character n-gram backend."""
    return " ".join(w for w in _WORD.findall(text.casefold()) if w not in STOPWORDS)


def gateway_embedder(texts: list[str]) -> tuple[list[list[float]], str]:
    """The configured backend through the gateway: the provider's `embed` role, or offline."""
    from duktus.llm import gateway

    if not gateway.is_configured():
        texts = [lexical_text(t) for t in texts]
    res = gateway.embed(texts)
    return res.vectors, res.backend


def offline_embedder(texts: list[str]) -> tuple[list[list[float]], str]:
    """The offline lexical embedder, local only (used when the provider may not or cannot be used)."""
    from duktus.llm.embeddings import HashingEmbedder

    e = HashingEmbedder()
    return e.embed([lexical_text(t) for t in texts]), e.backend


def _matrix(vectors: list[list[float]]) -> np.ndarray:
    import faiss

    m = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if m.ndim != 2 or m.shape[1] == 0:
        raise ValueError("embedding backend returned no usable vectors")
    faiss.normalize_L2(m)
    return m


# --- build / store / load ------------------------------------------------------------------------
def build(embedder: Embedder = gateway_embedder, *, directory: Path = EVIDENCE_DIR) -> _Index:
    """Embed every entry with `embedder`, write the index file of the backend that answered."""
    import faiss

    entries = load_entries(directory)
    fingerprint = data_fingerprint(directory)
    texts = [document_text(e) for e in entries]
    vectors: list[list[float]] = []
    backend = ""
    for start in range(0, len(texts), EMBED_BATCH):
        batch, batch_backend = embedder(texts[start : start + EMBED_BATCH])
        if backend and batch_backend != backend:
            raise RuntimeError("embedding backend changed during the build")
        backend = batch_backend
        vectors.extend(batch)
    if len(vectors) != len(entries):
        raise RuntimeError("embedding backend returned a wrong number of vectors")
    matrix = _matrix(vectors)
    index = faiss.IndexFlatIP(matrix.shape[1])
    index.add(matrix)
    built = _Index(backend=backend, fingerprint=fingerprint, ids=[e.id for e in entries], faiss_index=index,
                   dims=matrix.shape[1], built_at=time.time(), entries={e.id: e for e in entries})
    _write(built)
    log.info("evidence index built: %d entries, backend %s", len(entries), backend)
    return built


@contextlib.contextmanager
def _file_lock() -> Iterator[None]:
    folder = index_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write(idx: _Index) -> None:
    import faiss

    path = index_path(idx.backend)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": INDEX_FORMAT, "backend": idx.backend, "fingerprint": idx.fingerprint, "ids": idx.ids,
              "dims": idx.dims, "built_at": idx.built_at}
    buf = io.BytesIO()
    np.savez(buf, header=np.array(json.dumps(header)), index=faiss.serialize_index(idx.faiss_index))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_header(backend: str) -> dict[str, Any] | None:
    """The stored header of `backend`'s index (backend, fingerprint, ids, dims), or None."""
    path = index_path(backend)
    try:
        with np.load(path, allow_pickle=False) as data:
            return json.loads(str(data["header"]))
    except (FileNotFoundError, OSError, ValueError, KeyError):
        return None


def _read(backend: str, directory: Path) -> _Index | None:
    import faiss

    path = index_path(backend)
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            raw = np.array(data["index"], dtype=np.uint8)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError):
        log.warning("evidence index %s unreadable, rebuilding", path.name)
        return None
    if header.get("format") != INDEX_FORMAT or header.get("backend") != backend:
        return None
    entries = {e.id: e for e in load_entries(directory)}
    if any(i not in entries for i in header["ids"]):
        return None
    index = faiss.deserialize_index(raw)
    if index.ntotal != len(header["ids"]):
        return None
    return _Index(backend=backend, fingerprint=header["fingerprint"], ids=list(header["ids"]), faiss_index=index,
                  dims=int(header["dims"]), built_at=float(header["built_at"]), entries=entries)


# --- the in-process cache ------------------------------------------------------------------------
_lock = threading.Lock()
_loaded: dict[str, _Index] = {}


def clear_cache() -> None:
    """Forget the loaded indices (tests; after a rebuild by another process the stale check does it)."""
    global _fp_cache
    with _lock:
        _loaded.clear()
    with _fp_lock:
        _fp_cache = None


def get_index(backend: str, embedder: Embedder, *, dims: int | None = None,
              directory: Path = EVIDENCE_DIR) -> _Index:
    """The index for `backend`, current for the data files: from memory, from disk, or built.

    `embedder` must produce vectors of `backend`; `dims` (the query's) forces a rebuild when the
    provider's model changed its dimension under the same name."""
    fingerprint = data_fingerprint(directory)

    def fresh(idx: _Index | None) -> bool:
        return idx is not None and idx.fingerprint == fingerprint and (dims is None or idx.dims == dims)

    with _lock:
        idx = _loaded.get(backend)
        if fresh(idx):
            return idx  # type: ignore[return-value]
        with _file_lock():
            idx = _read(backend, directory)  # another process may have built it meanwhile
            if not fresh(idx):
                idx = build(embedder, directory=directory)
                if idx.backend != backend:
                    raise RuntimeError(f"embedder made {idx.backend!r} vectors, expected {backend!r}")
        _loaded[backend] = idx  # type: ignore[assignment]
        return idx  # type: ignore[return-value]


def rebuild(embedder: Embedder = gateway_embedder) -> _Index:
    """Rebuild unconditionally (the management command)."""
    with _lock, _file_lock():
        idx = build(embedder)
        _loaded[idx.backend] = idx
        return idx


# --- search --------------------------------------------------------------------------------------
def _hits(idx: _Index, query_vector: list[float], k: int) -> list[EvidenceHit]:
    q = _matrix([query_vector])
    if q.shape[1] != idx.dims:
        raise RuntimeError("query and index dimensions differ")
    scores, rows = idx.faiss_index.search(q, min(k, len(idx.ids)))
    hits: list[EvidenceHit] = []
    for score, row in zip(scores[0], rows[0], strict=True):
        if row < 0:
            continue
        e = idx.entries[idx.ids[row]]
        hits.append(EvidenceHit(id=e.id, guideline=e.guideline, guideline_short=e.guideline_short, year=e.year,
                                chapter=e.chapter, recommendation_number=e.recommendation_number, grade=e.grade,
                                source=e.source, verified=e.verified, text=e.text, score=round(float(score), 4),
                                backend=idx.backend))
    return hits


def _practice_ai_on(practice: Any) -> bool:
    from duktus.models import PracticeAISettings

    return PracticeAISettings.objects.filter(practice_id=practice.pk, enabled=True).exists()


PROVIDER_FAILED = "Das Embedding-Modell war nicht erreichbar; es wurde lexikalisch (offline) gesucht."
PROVIDER_NOT_ALLOWED = ("Die KI-Funktionen sind für diese Praxis nicht freigeschaltet; es wurde lexikalisch "
                        "(offline) gesucht, ohne dass Text die Praxis verlässt.")
PROVIDER_BLOCKED = "Die Suchanfrage enthielt Identifizierendes; es wurde lexikalisch (offline) gesucht."


def _provider_query_vector(query: str, *, patient: Any, user: Any) -> tuple[list[float], str]:
    from duktus.llm import gateway

    if patient is not None:
        res = gateway.embed([query], patient=patient, user=user)  # consent, anonymization, leak guard
    else:
        # No patient behind the query, but a therapist may still type a name: anonymize, check.
        anon = gateway.anonymizer()
        text = anon.anonymize(query).text
        if any(e.severity == "block" for e in anon.residual_risk(text)):
            raise gateway.GatewayBlocked([e.label for e in anon.residual_risk(text) if e.severity == "block"])
        res = gateway.embed([text])
    return res.vectors[0], res.backend


def search_with_info(query: str, k: int = 5, *, patient: Any = None, practice: Any = None,
                     user: Any = None) -> SearchResult:
    """Like `search`, plus the backend that answered and a notice when it fell back to offline."""
    from duktus.llm import gateway

    query = " ".join((query or "").split())
    k = max(1, min(int(k), MAX_K))
    if not query:
        return SearchResult(hits=[], backend="")
    notice = ""
    if gateway.is_configured():
        allowed = patient is not None or (practice is not None and _practice_ai_on(practice))
        if allowed:
            try:
                vector, backend = _provider_query_vector(query, patient=patient, user=user)
                idx = get_index(backend, gateway_embedder, dims=len(vector))
                return SearchResult(hits=_hits(idx, vector, k), backend=backend)
            except gateway.GatewayBlocked:
                notice = PROVIDER_BLOCKED
            except gateway.GatewayRefused as exc:
                notice = f"{exc} Es wurde lexikalisch (offline) gesucht."
            except gateway.GatewayError:
                notice = PROVIDER_FAILED
            except RuntimeError:
                log.warning("evidence provider index unusable, falling back to offline")
                notice = PROVIDER_FAILED
        else:
            notice = PROVIDER_NOT_ALLOWED
        (vector,), backend = offline_embedder([query])
        idx = get_index(backend, offline_embedder)
    else:
        (vector,), backend = gateway_embedder([query])  # the gateway's offline default
        idx = get_index(backend, gateway_embedder)
    return SearchResult(hits=_hits(idx, vector, k), backend=backend, notice=notice)


def search(query: str, k: int = 5, *, patient: Any = None, practice: Any = None,
           user: Any = None) -> list[EvidenceHit]:
    """The `k` entries closest to `query`, best first. Empty query → [].

    Pass `patient` when the query belongs to a patient's conversation (the dialog prompt): with a
    provider, the gateway then checks the practice switch and consent and anonymizes the query.
    Without `patient` and `practice` (or without a provider) the offline lexical index answers.
    """
    return search_with_info(query, k, patient=patient, practice=practice, user=user).hits
