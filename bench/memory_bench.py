"""Clinical memory: per-patient vector search latency at 100,000 entries, and retrieval quality.

Run: .venv/bin/python bench/memory_bench.py [--skip-fill] [--misses]
     (embedded PostgreSQL + pgvector in $DUKTUS_VAR_DIR, default var/bench_memory; stop it
      afterwards with `DUKTUS_VAR_DIR=… .venv/bin/python -m duktus.embedded stop`)

1. Latency. One practice, 200 patients, 100,000 entries: one heavy patient with 5,000, the other
   199 with ~477 each. Texts are generated German entries (encrypted like real ones), vectors
   from the offline backend. The bulk fill skips the anonymizer (generated texts hold no
   identifiers); the real per-entry embedding cost (anonymize + embed) is measured separately on
   a sample. Search =
   `queries.search_rows` (one statement: the exact per-patient scan, the k entries, the
   unsearchable count) and `services.search_memory` (anonymize + embed the query, the statement,
   decrypt the hits). Target from the issue: per-patient p95 < 20 ms.
2. Quality. bench/data/memory_recall.json: 30 German facts of one patient and 40 questions
   ("lexical": shares a content word with the fact; "paraphrase": other words). recall@1/@5
   and MRR of the offline backend, alone and among 470 generated distractor entries, and the
   ablation without the stop-word filter. The provider backend is measured only when
   LLM_API_KEY is set (it is not on this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DUKTUS_VAR_DIR", str(ROOT / "var" / "bench_memory"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duktus.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from pgvector.django import CosineDistance  # noqa: E402

from duktus.models import Practice  # noqa: E402
from duktus.services import create_practice  # noqa: E402
from memory import queries, services  # noqa: E402
from memory.models import EntryStatus, EntryType, MemoryEntry, MemoryVector  # noqa: E402
from patients.models import Patient  # noqa: E402
from patients.services import create_patient  # noqa: E402

PRACTICE = "Gedächtnis-Bench"
PATIENTS = 200
TOTAL = 100_000
HEAVY = 5_000
RECALL = ROOT / "bench" / "data" / "memory_recall.json"

# --- generated entries ------------------------------------------------------------------------------
SUBJECTS = [
    "Berichtet über anhaltende Erschöpfung", "Beschreibt Unruhe vor Prüfungen", "Zeigt sozialen Rückzug",
    "Schildert Konflikte mit dem Vorgesetzten", "Erlebt Stimmungsschwankungen", "Klagt über Kopfschmerzen",
    "Vermeidet Menschenmengen", "Hat Streit mit dem Bruder", "Fühlt sich von der Familie unverstanden",
    "Spricht über die Trennung", "Hat Schuldgefühle wegen der Kündigung", "Sorgt sich um die Gesundheit des Vaters",
    "Übt Achtsamkeit", "Führt ein Stimmungstagebuch", "Hat Expositionsübung im Supermarkt gemacht",
    "Nimmt Sertralin 50 mg", "Hat Rückenschmerzen nach dem Unfall", "Geht regelmäßig schwimmen",
    "Möchte Termine per E-Mail bekommen", "Bevorzugt konkrete Hausaufgaben", "Hat eine neue Stelle angetreten",
    "Zieht in eine kleinere Wohnung", "Pflegt die demenzkranke Großmutter", "Hat einen Hund, der ihr Struktur gibt",
    "Spielt Gitarre zur Entspannung", "Hat Ärger mit dem Vermieter", "Fühlt sich im Studium überfordert",
    "Hat Zwangsgedanken beim Autofahren", "Kontrolliert mehrfach den Herd", "Isst unregelmäßig",
    "Hat Albträume vom Unfall", "Reagiert schreckhaft auf laute Geräusche", "Telefoniert täglich mit der Mutter",
    "Möchte mehr Zeit für sich", "Plant einen Urlaub an der Ostsee", "Hat mit dem Rauchen aufgehört",
    "Erlebt Reizbarkeit im Straßenverkehr", "Zweifelt an der Beziehung", "Hat Selbstwertprobleme im Beruf",
    "Hat die Behandlung beim Psychiater begonnen",
]
DETAILS = [
    "seit einigen Wochen", "vor allem am Wochenende", "besonders morgens", "seit dem letzten Termin",
    "nach dem Urlaub", "in der Arbeit", "im Zusammenhang mit der Familie", "stärker als zuvor",
    "etwas weniger als letzte Woche", "unverändert", "seit dem Jahreswechsel", "bei Belastung",
]
TAILS = ["", "Thema in der nächsten Stunde.", "Wurde gemeinsam besprochen.", "Hausaufgabe vereinbart.",
         "Sie möchte daran weiterarbeiten.", "Er sieht selbst einen Zusammenhang.", "Skalierung 6 von 10.",
         "Skalierung 3 von 10.", "Ressource im Alltag.", "Rückfallprophylaxe besprochen."]
TYPES = list(EntryType.values)


def generated_text(rng: random.Random) -> str:
    return " ".join(p for p in (rng.choice(SUBJECTS), rng.choice(DETAILS) + ".", rng.choice(TAILS)) if p)


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


def fmt(values_ms: list[float]) -> str:
    return f"p50 {pct(values_ms, 50):.2f} ms · p95 {pct(values_ms, 95):.2f} ms · max {max(values_ms):.2f} ms (n={len(values_ms)})"


# --- fill ----------------------------------------------------------------------------------------------
def _insert(patient: Patient, n: int, rng: random.Random) -> None:
    texts = [generated_text(rng) for _ in range(n)]
    vectors = services._offline.embed([services.offline_text(t) for t in texts])
    entries = []
    for i, text in enumerate(texts):
        e = MemoryEntry(practice_id=patient.practice_id, patient=patient, type=rng.choice(TYPES), source_kind="session",
                        date=services.timezone.localdate(), status=EntryStatus.CONFIRMED if i % 5 else EntryStatus.PROPOSED)
        e.text, e.excerpt = text, text
        entries.append(e)
    with transaction.atomic():
        MemoryEntry.objects.bulk_create(entries, batch_size=2000)
        MemoryVector.objects.bulk_create(
            [MemoryVector(entry=e, practice_id=patient.practice_id, patient_id=patient.pk, backend=services.OFFLINE_BACKEND,
                          status=e.status, embedding=v) for e, v in zip(entries, vectors, strict=True)], batch_size=2000)


def vacuum() -> None:
    with connection.cursor() as cur:
        # What autovacuum does in production: statistics and the visibility map (index-only counts).
        cur.execute("VACUUM ANALYZE memory_memoryentry")
        cur.execute("VACUUM ANALYZE memory_memoryvector")


def fill(practice: Practice) -> tuple[Patient, list[Patient]]:
    rng = random.Random(6)
    t0 = time.perf_counter()
    patients = [create_patient(practice=practice, data={"first_name": f"Bench{i}", "last_name": "Patient",
                                                       "insurance_type": "gkv"}) for i in range(PATIENTS)]
    heavy, normal = patients[0], patients[1:]
    _insert(heavy, HEAVY, rng)
    rest = TOTAL - HEAVY
    for i, p in enumerate(normal):
        _insert(p, rest // len(normal) + (1 if i < rest % len(normal) else 0), rng)
    vacuum()
    print(f"fill: {TOTAL:,} entries, {PATIENTS} patients in {time.perf_counter() - t0:.0f} s")
    return heavy, normal


def bench_patients(practice: Practice) -> tuple[Patient, list[Patient]]:
    vacuum()
    patients = list(Patient.objects.filter(practice=practice).select_related("data_key").order_by("id"))
    for p in patients:
        p.practice = practice
    return patients[0], patients[1:]


# --- latency ----------------------------------------------------------------------------------------------
QUERIES = ["Was wissen wir über Schlaf?", "Konflikte mit dem Vorgesetzten", "Medikamente", "Albträume vom Unfall",
           "Wie geht es mit der Familie?", "Hausaufgaben", "Rückzug und Erschöpfung", "Urlaub", "Zwang", "Gitarre"]


def latency(heavy: Patient, normal: list[Patient]) -> None:
    print("load average before (1/5/15 min, 2 cores shared with other work): " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    rng = random.Random(7)
    backend = services.OFFLINE_BACKEND
    vecs = {q: services.embed_texts(heavy, [q]).vectors[0] for q in QUERIES}
    for label, pool in (("normal patient (~477 entries)", normal), ("heavy patient (5,000 entries)", [heavy])):
        sql_ms, e2e_ms = [], []
        for i in range(220):
            p, q = rng.choice(pool), QUERIES[i % len(QUERIES)]
            t = time.perf_counter()
            hits, missing = queries.search_rows(p, vecs[q], backend, k=5, statuses=queries.SEARCHABLE)
            dt_sql = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            res = services.search_memory(patient=p, query=q, k=5)
            _ = [h.entry.text for h in res.hits]  # decrypt what the page shows
            dt_e2e = (time.perf_counter() - t) * 1000
            if i >= 20:  # warm-up
                sql_ms.append(dt_sql)
                e2e_ms.append(dt_e2e)
            assert len(hits) == 5 and res.unsearchable == 0 == missing
        print(f"{label}:\n  search statement (queries.search_rows, k=5): {fmt(sql_ms)}\n  search_memory end to end:                    {fmt(e2e_ms)}")
    server_ms = []
    for i in range(100):
        q = QUERIES[i % len(QUERIES)]
        plan = (MemoryVector.objects.filter(practice_id=heavy.practice_id, patient_id=heavy.pk, backend=backend,
                                            status__in=queries.SEARCHABLE)
                .annotate(distance=CosineDistance("embedding", vecs[q])).order_by("distance")
                .values_list("entry_id", "distance")[:5]).explain(analyze=True)
        server_ms.append(float(re.search(r"Execution Time: ([0-9.]+) ms", plan).group(1)))
    print(f"heavy patient, scan time inside PostgreSQL (EXPLAIN ANALYZE): {fmt(server_ms)}")
    qs = (MemoryVector.objects.filter(practice_id=heavy.practice_id, patient_id=heavy.pk, backend=backend,
                                      status__in=queries.SEARCHABLE)
          .annotate(distance=CosineDistance("embedding", vecs[QUERIES[0]])).order_by("distance").values_list("entry_id", "distance")[:5])
    print("load average after: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    print("plan of the scan (heavy patient):\n  " + qs.explain(analyze=True, buffers=True).replace("\n", "\n  "))


def embed_cost(patient: Patient) -> None:
    rng = random.Random(8)
    texts = [generated_text(rng) + " Frau Bench0 Patient aus Köln." for _ in range(500)]
    t = time.perf_counter()
    for i in range(0, len(texts), 50):
        services.embed_texts(patient, texts[i:i + 50])
    per = (time.perf_counter() - t) * 1000 / len(texts)
    print(f"embedding cost per entry (anonymize + offline embed): {per:.2f} ms")


# --- quality --------------------------------------------------------------------------------------------------
_WORD = re.compile(r"[a-zäöüß0-9-]{5,}")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _WORD.findall(text.casefold())}


def _rank(qv: np.ndarray, dv: np.ndarray, target: int) -> int:
    order = np.argsort(-(dv @ qv), kind="stable")
    return int(np.where(order == target)[0][0]) + 1


def quality(show_misses: bool) -> None:
    data = json.loads(RECALL.read_text())
    facts, questions = data["facts"], data["questions"]
    rng = random.Random(9)
    distractors = [generated_text(rng) for _ in range(470)]
    emb = services._offline

    def run(prep: object, docs: list[str]) -> dict[str, list[int]]:
        dv = np.array(emb.embed([prep(t) for t in docs]))  # type: ignore[operator]
        ranks: dict[str, list[int]] = {"all": [], "lexical": [], "paraphrase": []}
        for q in questions:
            qv = np.array(emb.embed([prep(q["q"])])[0])  # type: ignore[operator]
            target = next(i for i, f in enumerate(facts) if f["id"] == q["fact"])
            r = _rank(qv, dv, target)
            ranks["all"].append(r)
            ranks[q["kind"]].append(r)
        return ranks

    def line(name: str, ranks: dict[str, list[int]]) -> str:
        parts = []
        for k in ("all", "lexical", "paraphrase"):
            rs = ranks[k]
            r1 = sum(r <= 1 for r in rs) / len(rs)
            r5 = sum(r <= 5 for r in rs) / len(rs)
            mrr = statistics.fmean(1 / r for r in rs)
            parts.append(f"{k} (n={len(rs)}): R@1 {r1:.2f} R@5 {r5:.2f} MRR {mrr:.2f}")
        return f"{name}\n    " + "\n    ".join(parts)

    fact_texts = [f["text"] for f in facts]
    filtered = services.offline_text
    raw = lambda t: t  # noqa: E731
    print("retrieval quality, offline backend (" + services.OFFLINE_BACKEND + "):")
    print("  " + line("30 facts only, with stop-word filter (as shipped)", run(filtered, fact_texts)))
    print("  " + line("30 facts + 470 distractors, with stop-word filter", run(filtered, fact_texts + distractors)))
    print("  " + line("30 facts + 470 distractors, without filter (ablation)", run(raw, fact_texts + distractors)))
    auto = sum(bool(_stems(q["q"]) & _stems(next(f["text"] for f in facts if f["id"] == q["fact"]))) for q in questions)
    print(f"  questions sharing a 5-letter stem with their fact (automatic check): {auto}/{len(questions)}")
    if show_misses:
        dv = np.array(emb.embed([filtered(t) for t in fact_texts + distractors]))
        for q in questions:
            target = next(i for i, f in enumerate(facts) if f["id"] == q["fact"])
            r = _rank(np.array(emb.embed([filtered(q["q"])])[0]), dv, target)
            if r > 5:
                print(f"    miss (rank {r}, {q['kind']}): {q['q']}  →  {fact_texts[target]}")
    from duktus.llm import gateway

    if gateway.is_configured():
        # Fictional texts, no patient: sent as they are to the configured `embed` model.
        docs = fact_texts + distractors
        dv = np.array(gateway.embed(docs).vectors)
        dv /= np.linalg.norm(dv, axis=1, keepdims=True)
        qv = np.array(gateway.embed([q["q"] for q in questions]).vectors)
        qv /= np.linalg.norm(qv, axis=1, keepdims=True)
        ranks: dict[str, list[int]] = {"all": [], "lexical": [], "paraphrase": []}
        for q, v in zip(questions, qv, strict=True):
            r = _rank(v, dv, next(i for i, f in enumerate(facts) if f["id"] == q["fact"]))
            ranks["all"].append(r)
            ranks[q["kind"]].append(r)
        print("  " + line(f"provider backend ({gateway.embed(['x']).backend}), 30 facts + 470 distractors", ranks))
    else:
        print("  provider backend: not configured on this machine (LLM_API_KEY empty) — not measured.")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-fill", action="store_true", help="reuse the filled bench practice")
    ap.add_argument("--misses", action="store_true", help="list the questions the offline backend misses")
    ap.add_argument("--quality-only", action="store_true")
    args = ap.parse_args()
    if not args.quality_only:
        call_command("migrate", verbosity=0)
        practice = Practice.objects.filter(name=PRACTICE).first()
        if practice is not None and not args.skip_fill:
            MemoryVector.objects.filter(practice=practice).delete()
            MemoryEntry.objects.filter(practice=practice).delete()
            Patient.objects.filter(practice=practice).delete()
        if practice is None:
            practice = create_practice(name=PRACTICE, city="Berlin")
        heavy, normal = bench_patients(practice) if args.skip_fill and Patient.objects.filter(practice=practice).exists() else fill(practice)
        print(f"rows: {MemoryEntry.objects.filter(practice=practice).count():,} entries, "
              f"{MemoryVector.objects.filter(practice=practice).count():,} vectors")
        latency(heavy, normal)
        embed_cost(heavy)
    quality(args.misses)


if __name__ == "__main__":
    main()
