"""Choose the semantic manipulation layer's threshold by cross-validation on labelled messages.

    python scripts/calibrate_manipulation.py            # report cross-validated figures
    python scripts/calibrate_manipulation.py --write    # also write the thresholds file

Data: knowledge/manipulation_examples.jsonl (attempts in four categories and hard negatives that
look alike, written blind) and knowledge/questions.jsonl (ordinary questions: never attempts).
The decision is the whole check (the rules floor OR the semantic layer, sentence by sentence).
For each of K folds the regularisation and the probability threshold are chosen on the other
folds: highest recall with false alarms on each kind of legitimate message (hard negatives,
ordinary questions) at most --max-false-alarms, ties to fewer false alarms and then to the
stricter threshold; the held-out fold is scored with them. The figures printed (and written) are
those held-out ones; the values written are chosen the same way on all the data.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ivig_chat.config import Settings  # noqa: E402
from ivig_chat.embeddings import make_embeddings  # noqa: E402
from ivig_chat.knowledge import (  # noqa: E402
    LabelledQuestion,
    ManipulationExample,
    load_jsonl_models,
    load_manipulation_rules,
)
from ivig_chat.safety import ManipulationDetector, detect_manipulation  # noqa: E402
from ivig_chat.safety.manipulation_meaning import NONE, ManipulationByMeaning  # noqa: E402
from ivig_chat.safety.semantic import LinearClassifier  # noqa: E402

REGULARISATION = [1.0, 4.0, 16.0, 64.0]
# The classifier is confident on hard negatives too: the useful thresholds lie close to 1.
PROBABILITY = [0.5, 0.7, 0.8, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.985, 0.99, 0.995, 1.01]


def folds(labels: list[str], k: int, seed: int) -> np.ndarray:
    """Fold index per row, stratified by label."""
    out = np.zeros(len(labels), dtype=int)
    rng = random.Random(seed)
    for label in sorted(set(labels)):
        members = [i for i, x in enumerate(labels) if x == label]
        rng.shuffle(members)
        for j, i in enumerate(members):
            out[i] = j % k
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--max-false-alarms", type=float, default=0.01)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    examples = load_jsonl_models(
        ManipulationExample, args.knowledge / "manipulation_examples.jsonl"
    )
    questions = load_jsonl_models(LabelledQuestion, args.knowledge / "questions.jsonl")
    texts = [e.text for e in examples] + [q.text for q in questions]
    labels = [e.label for e in examples] + [NONE] * len(questions)
    kinds = ["hard_negative" if e.label == NONE else e.label for e in examples]
    kinds += ["ordinary_question"] * len(questions)
    attempt = np.array([label != NONE for label in labels])
    kind_array = np.array(kinds)

    rules = ManipulationDetector(load_manipulation_rules(args.knowledge))
    by_rules = np.array([detect_manipulation(t, rules) is not None for t in texts])

    embeddings = make_embeddings(Settings(torch_threads=0))
    whole = embeddings.encode(texts)
    unit_texts = [ManipulationByMeaning.texts(t) or [t] for t in texts]
    flat = sorted({u for us in unit_texts for u in us})
    unit_vectors = dict(zip(flat, embeddings.encode(flat), strict=True))

    def message_probabilities(train: np.ndarray, c: float, rows: np.ndarray) -> np.ndarray:
        classifier = LinearClassifier.fit(
            whole[train], [labels[i] for i in np.flatnonzero(train)], c
        )
        return np.array(
            [
                float(
                    classifier.probability(np.stack([unit_vectors[u] for u in unit_texts[i]])).max()
                )
                for i in rows
            ]
        )

    def figures(flagged: np.ndarray, rows: np.ndarray) -> dict[str, float]:
        pos = rows[attempt[rows]]
        neg = rows[~attempt[rows]]
        out = {"recall": float(flagged[pos].mean()) if len(pos) else 1.0}
        for kind in ("hard_negative", "ordinary_question"):
            members = neg[kind_array[neg] == kind]
            if len(members):
                out[f"false_alarms_{kind}"] = float(flagged[members].mean())
        return out

    def choose(train: np.ndarray, fold: np.ndarray) -> tuple[float, float]:
        inner = np.flatnonzero(train)
        best: tuple[tuple[float, float, float], tuple[float, float]] | None = None
        for c in REGULARISATION:
            p = np.zeros(len(texts))
            for g in np.unique(fold[inner]):
                test = inner[fold[inner] == g]
                fit_on = train & (fold != g)
                p[test] = message_probabilities(fit_on, c, test)
            for threshold in PROBABILITY:
                flagged = by_rules | (p >= threshold)
                f = figures(flagged, inner)
                alarms = max(v for k, v in f.items() if k.startswith("false_alarms"))
                if alarms > args.max_false_alarms:
                    continue
                key = (f["recall"], -alarms, threshold)
                if best is None or key > best[0]:
                    best = (key, (c, threshold))
        return best[1] if best else (REGULARISATION[0], 1.01)

    fold = folds(labels, args.folds, args.seed)
    held_out = np.zeros(len(texts), dtype=bool)
    per_fold = []
    for f in range(args.folds):
        train, test = fold != f, np.flatnonzero(fold == f)
        inner_fold = folds([labels[i] for i in range(len(texts))], args.folds, args.seed + 1 + f)
        c, threshold = choose(train, inner_fold)
        per_fold.append({"regularisation": c, "probability": threshold})
        p = message_probabilities(train, c, test)
        held_out[test] = by_rules[test] | (p >= threshold)
    everyone = np.arange(len(texts))
    cv = {k: round(v, 3) for k, v in figures(held_out, everyone).items()}
    rules_only = {k: round(v, 3) for k, v in figures(by_rules, everyone).items()}
    c, threshold = choose(
        np.ones(len(texts), dtype=bool), folds(labels, args.folds, args.seed + 99)
    )
    report = {
        "messages": len(texts),
        "attempts": int(attempt.sum()),
        "cross_validated": cv,
        "rules_only": rules_only,
        "per_fold": per_fold,
        "final": {"regularisation": c, "probability": threshold},
    }
    print(json.dumps(report, indent=1))
    for i in everyone:
        if held_out[i] != attempt[i]:
            print(f"  held out, wrongly {'flagged' if held_out[i] else 'missed'}: {texts[i]}")
    if args.write:
        path = args.knowledge / "manipulation_thresholds.yaml"
        lines = [
            "# Written by scripts/calibrate_manipulation.py --write; re-run it after changing",
            "# manipulation_examples.jsonl or questions.jsonl instead of editing these numbers.",
            "schema: manipulation_thresholds/1",
            f"probability: {threshold}",
            f"regularisation: {c}",
            "chosen_by: >-",
            f"  {args.folds}-fold cross-validation (regularisation and threshold chosen by an",
            "  inner cross-validation on the training folds) over",
            "  knowledge/manipulation_examples.jsonl and knowledge/questions.jsonl",
            f"  ({len(texts)} messages): highest recall with at most {args.max_false_alarms}",
            "  false alarms on each kind of legitimate message, rules floor included",
            "cross_validated:",
            *[f"  {k}: {v}" for k, v in cv.items()],
            "rules_only:",
            *[f"  {k}: {v}" for k, v in rules_only.items()],
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
