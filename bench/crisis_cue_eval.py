"""Print precision and recall of sessions.crisis_cue per split of the labelled set.

Usage: .venv/bin/python bench/crisis_cue_eval.py [--errors] [--split dev|test]

Tune rules on the dev split only; the test split is held out (see sessions/data/README.md
for the protocol and the first-run figures of each held-out round).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sessions.crisis_cue import analyse, has_acute_risk  # noqa: E402

SENTENCES = ROOT / "sessions" / "data" / "crisis_sentences.jsonl"


def load() -> list[dict]:
    return [json.loads(line) for line in SENTENCES.read_text(encoding="utf-8").splitlines() if line]


def score(rows: list[dict]) -> dict[str, float | int]:
    tp = sum(1 for r in rows if r["label"] and has_acute_risk(r["text"]))
    fp = sum(1 for r in rows if not r["label"] and has_acute_risk(r["text"]))
    fn = sum(1 for r in rows if r["label"] and not has_acute_risk(r["text"]))
    return {
        "n": len(rows),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--errors", action="store_true", help="list misclassified sentences")
    parser.add_argument("--split", choices=["dev", "test"], help="only this split")
    args = parser.parse_args()
    rows = load()
    splits = [args.split] if args.split else ["dev", "test", "all"]
    for name in splits:
        part = rows if name == "all" else [r for r in rows if r["split"] == name]
        s = score(part)
        print(
            f"{name:5} n={s['n']:3} tp={s['tp']:3} fp={s['fp']:2} fn={s['fn']:2} "
            f"precision={s['precision']:.3f} recall={s['recall']:.3f}"
        )
    if args.errors:
        for r in rows:
            if args.split and r["split"] != args.split:
                continue
            if has_acute_risk(r["text"]) != r["label"]:
                found = [(f.cue.phrase, f.cue.category, f.status) for f in analyse(r["text"])]
                print(f"[{r['split']}/{r['kind']}] label={r['label']}: {r['text']}\n    {found}")


if __name__ == "__main__":
    main()
