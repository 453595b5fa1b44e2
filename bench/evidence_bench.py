"""Evidence search with the offline lexical backend: recall@1/@5 and MRR on the German paraphrase
set (bench/data/evidence_paraphrases.json), index build/load time and query latency.

Run: .venv/bin/python bench/evidence_bench.py [--misses]

No provider is configured (LLM_API_KEY empty), so the gateway's offline default answers:
character 3–5-gram hashing (duktus/llm/embeddings.py). No database is touched: an offline
search needs none, so DATABASE_URL points at an address nothing listens on.
The "dev" questions were written before the first measurement; the "test" questions were written
after it and before any change to the document text, and are not used to tune anything.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["LLM_API_KEY"] = ""
os.environ.setdefault("DATABASE_URL", "postgresql://bench@127.0.0.1:9/unused")
os.environ.setdefault("DUKTUS_VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duktus.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from sessions.evidence import index  # noqa: E402
from sessions.evidence.loader import load_entries  # noqa: E402

PARAPHRASES = ROOT / "bench" / "data" / "evidence_paraphrases.json"
# Questions the evidence base cannot answer: how high does an irrelevant top hit score?
OFF_TOPIC = ["Wie mache ich meine Steuererklärung?", "Abrechnung der Ziffer 35421 im EBM",
             "Welche Öffnungszeiten hat die Praxis?", "Rezept für Apfelkuchen", "Kündigungsfrist Mietvertrag",
             "Schizophrenie Clozapin Dosierung", "Essstörung Anorexie Gewichtszunahme"]
_WORD = re.compile(r"[a-zäöüß0-9-]{5,}")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _WORD.findall(text.casefold())}


def shares_a_rare_word(query: str, answer: str, docs: list[str]) -> bool:
    """True if a query word (5+ letters, compared by its first 5) occurs in the answer and in at
    most 5 of all entries: a lexical backend has a distinctive term to match on."""
    df: dict[str, int] = {}
    for d in docs:
        for s in _stems(d):
            df[s] = df.get(s, 0) + 1
    answer_stems = _stems(answer)
    return any(s in answer_stems and df.get(s, 0) <= 5 for s in _stems(query))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true", help="print the questions missed at k=5")
    parser.add_argument("--rounds", type=int, default=20, help="latency rounds over the whole set")
    args = parser.parse_args()

    rows = json.loads(PARAPHRASES.read_text(encoding="utf-8"))
    docs = {e.id: index.document_text(e) for e in load_entries()}
    with tempfile.TemporaryDirectory() as tmp:
        settings.EVIDENCE_INDEX_DIR = tmp
        index.clear_cache()
        t0 = time.perf_counter()
        built = index.rebuild()
        build_s = time.perf_counter() - t0
        index.clear_cache()
        t0 = time.perf_counter()
        index.search("Depression")
        load_ms = (time.perf_counter() - t0) * 1000

        ranks: dict[str, list[int | None]] = {}
        groups: dict[bool, list[bool]] = {True: [], False: []}
        misses: list[tuple[str, str, list[str]]] = []
        answer_scores: list[float] = []
        for row in rows:
            hits = index.search(row["q"], k=10)
            ids = [h.id for h in hits]
            rank = next((i + 1 for i, h in enumerate(ids) if h in row["ids"]), None)
            ranks.setdefault(row["split"], []).append(rank)
            overlap = any(shares_a_rare_word(row["q"], docs[i], list(docs.values())) for i in row["ids"])
            groups[overlap].append(rank is not None and rank <= 5)
            if rank is None or rank > 5:
                misses.append((row["split"], row["q"], ids[:3]))
            else:
                answer_scores.append(hits[rank - 1].score)
        off_topic = [index.search(q, k=1)[0].score for q in OFF_TOPIC]

        latencies: list[float] = []
        for _ in range(args.rounds):
            for row in rows:
                t0 = time.perf_counter()
                index.search(row["q"], k=5)
                latencies.append((time.perf_counter() - t0) * 1000)

    print(f"backend: {built.backend}  entries: {len(built.ids)}  dims: {built.dims}")
    print(f"paraphrase set: {len(rows)} German questions ({PARAPHRASES.relative_to(ROOT)})")
    split_ranks = [("all", [r for v in ranks.values() for r in v])] + sorted(ranks.items())
    for split, rs in split_ranks:
        n = len(rs)
        r1 = sum(1 for r in rs if r is not None and r <= 1) / n
        r5 = sum(1 for r in rs if r is not None and r <= 5) / n
        mrr = sum(1 / r for r in rs if r is not None) / n
        print(f"  {split:4} n={n:3}  recall@1 {r1:.2f}  recall@5 {r5:.2f}  MRR@10 {mrr:.2f}")
    for overlap, label in ((True, "share a distinctive word with the answer"), (False, "share none (true paraphrases)")):
        g = groups[overlap]
        if g:
            print(f"  questions that {label}: {len(g)}, recall@5 {sum(g) / len(g):.2f}")
    print(f"score of the answer when found in the top 5: min {min(answer_scores):.2f}, "
          f"p10 {pct(answer_scores, 10):.2f}, median {statistics.median(answer_scores):.2f}; "
          f"top score for {len(OFF_TOPIC)} off-topic questions: max {max(off_topic):.2f}, "
          f"median {statistics.median(off_topic):.2f}")
    print(f"index build (embed + FAISS + write): {build_s * 1000:.0f} ms; first search after load: {load_ms:.1f} ms")
    print(f"query latency over {len(latencies)} searches: p50 {statistics.median(latencies):.2f} ms, "
          f"p95 {pct(latencies, 95):.2f} ms, max {max(latencies):.2f} ms")
    if args.misses:
        for split, q, top in misses:
            print(f"  MISS ({split}): {q}  →  {', '.join(top)}")


if __name__ == "__main__":
    main()
