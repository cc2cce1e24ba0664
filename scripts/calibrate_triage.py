"""Choose the semantic triage thresholds by cross-validation on labelled messages.

    python scripts/calibrate_triage.py                 # report cross-validated figures
    python scripts/calibrate_triage.py --write         # also write knowledge/triage_thresholds.yaml

Data: knowledge/triage_examples.jsonl (emergencies and hard non-emergencies, written blind from the
source material) and knowledge/questions.jsonl (ordinary questions: never emergencies). The
decision is the whole triage (rules floor OR semantic layer). For each of
K folds the thresholds are chosen on the other folds: highest recall with over-triage at most
--max-over-triage, ties to fewer false alarms, then to stricter thresholds; the held-out fold is
scored with them. The figures printed (and written) are those held-out ones. The thresholds
written are chosen the same way on all the data.
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
    RedFlagBank,
    TriageThresholds,
    load_examples,
    load_jsonl_models,
    load_red_flag_rules,
    validated,
)
from ivig_chat.safety import RedFlagDetector, detect_red_flag  # noqa: E402
from ivig_chat.safety.semantic import (  # noqa: E402
    NOT_EMERGENCY,
    LinearClassifier,
    SemanticTriage,
    as_detection,
    as_self_harm,
    has_enough_words,
    training_set,
    units,
)

GRID = {
    "regularisation": [2.0, 4.0, 8.0, 16.0],
    "probability": [round(x, 3) for x in np.arange(0.30, 0.801, 0.05)],
    "nearest": [0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55],
    "presentation": [0.65, 0.7, 0.75, 0.8, 0.85, 1.01],
    "self_harm": [0.5, 0.6, 0.7, 0.8, 0.9, 1.01],  # 1.01: the self-harm detector off
    "sign": [round(x, 3) for x in np.arange(0.45, 0.751, 0.05)],
}


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def folds(rows: list[dict], k: int, seed: int) -> list[int]:
    """Fold index per row, stratified by label and category."""
    by_stratum: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(rows):
        by_stratum.setdefault((r["label"], r["category"]), []).append(i)
    assignment = [0] * len(rows)
    rng = random.Random(seed)
    for members in by_stratum.values():
        rng.shuffle(members)
        for j, i in enumerate(members):
            assignment[i] = j % k
    return assignment


def choose(
    pred: np.ndarray,
    truth: np.ndarray,
    idx: np.ndarray,
    max_over: float,
    kinds: np.ndarray,
    max_ordinary: float = 1.0,
) -> int:
    """Index of the best threshold combination on rows idx.

    Over-triage is averaged over the kinds of non-emergency (risk questions, past events, mild
    current effects, ordinary questions, ...), each kind weighing the same: otherwise adding
    easy ordinary questions would dilute the rate and let the thresholds drift lower, flagging
    more of the hard kinds.
    """
    pos, neg = idx[truth[idx]], idx[~truth[idx]]
    recall = pred[:, pos].mean(axis=1)
    over = np.mean(
        [pred[:, neg[kinds[neg] == k]].mean(axis=1) for k in np.unique(kinds[neg])], axis=0
    )
    ordinary = neg[kinds[neg] == "ordinary_question"]
    ordinary_rate = pred[:, ordinary].mean(axis=1) if len(ordinary) else np.zeros(len(pred))
    # Ordinary questions are most of the traffic: a cap of their own, however the other kinds do.
    ok = (over <= max_over) & (ordinary_rate <= max_ordinary)
    if not ok.any():
        ok = over <= over.min()
    # Highest recall, then fewest false alarms, then the strictest (last in grid order).
    best = max(
        (i for i in np.flatnonzero(ok)),
        key=lambda i: (recall[i], -over[i], i),
    )
    return int(best)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--max-over-triage", type=float, default=0.15)
    parser.add_argument(
        "--max-ordinary",
        type=float,
        default=1.0,
        help="at most this share of ordinary questions (knowledge/questions.jsonl) flagged",
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    bank = validated(RedFlagBank, args.knowledge / "red_flags.yaml")
    examples = load_examples(args.knowledge / "triage_examples.jsonl")
    # Ordinary questions about the article are non-emergencies too: the traffic the layer must
    # leave alone. They join the cross-validation as their own kind.
    questions = load_jsonl_models(LabelledQuestion, args.knowledge / "questions.jsonl")
    rows = [e.model_dump() for e in examples] + [
        {"id": q.id, "text": q.text, "label": "not_emergency", "category": "ordinary_question"}
        for q in questions
    ]
    truth = np.array([r["label"] == "emergency" for r in rows])
    kinds = np.array([r["category"] for r in rows])
    embeddings = make_embeddings(Settings(torch_threads=0))
    message_vectors = embeddings.encode([r["text"] for r in rows])
    bank_texts, bank_labels = training_set(bank, [])
    labels = [r["category"] if r["label"] == "emergency" else NOT_EMERGENCY for r in rows]
    bank_vectors = embeddings.encode(bank_texts)
    detector = RedFlagDetector(load_red_flag_rules(args.knowledge))  # the rules of that folder
    rules = np.array([detect_red_flag(r["text"], detector) is not None for r in rows])
    enough = np.array([has_enough_words(r["text"]) for r in rows])
    presentation_texts = [
        t for c in bank.categories for t in [*c.presentations, *sum(c.signs.values(), [])]
    ]
    presentation_vectors = embeddings.encode(presentation_texts)
    unit_sims = [embeddings.encode(units(r["text"])) @ presentation_vectors.T for r in rows]
    nearest = np.array([float(s.max()) for s in unit_sims])
    whole = [
        i
        for i, t in enumerate(presentation_texts)
        if any(t in c.presentations for c in bank.categories)
    ]
    # Near-copies are looked for among the message and its sentences (what every message has
    # embedded); the gate and the category use the clauses too.
    sentence_sims = [
        embeddings.encode(units(r["text"], clauses=False)) @ presentation_vectors[whole].T
        for r in rows
    ]
    closest = np.array([float(s.max()) for s in sentence_sims])
    fold_of = np.array(folds(rows, args.folds, args.seed))

    def fit(train: np.ndarray, c: float) -> LinearClassifier:
        x = np.vstack([message_vectors[train], bank_vectors])
        return LinearClassifier.fit(x, as_detection([labels[i] for i in train] + bank_labels), c)

    def fit_self_harm(train: np.ndarray, c: float) -> LinearClassifier:
        x = np.vstack([message_vectors[train], bank_vectors])
        y = as_self_harm([labels[i] for i in train] + bank_labels)
        return LinearClassifier.fit(x, y, c)

    def decide(prob, self_harm, at, t, n, q, s):  # type: ignore[no-untyped-def]
        """The layer's decision (as SemanticTriage.assess makes it), or the rules'."""
        flagged = (prob >= t) & (nearest[at] >= n)
        flagged |= (prob < t) & ((closest[at] >= q) | (self_harm >= s))
        return (flagged & enough[at]) | rules[at]

    def predictions(train: np.ndarray, score_rows: np.ndarray) -> tuple[list, np.ndarray]:
        combos, preds = [], []
        for c in GRID["regularisation"]:
            prob = fit(train, c).probability(message_vectors[score_rows])
            self_harm = fit_self_harm(train, c).probability(message_vectors[score_rows])
            for t in GRID["probability"]:
                for n in GRID["nearest"]:
                    for q in GRID["presentation"]:
                        for s in GRID["self_harm"]:
                            combos.append((c, t, n, q, s))
                            preds.append(decide(prob, self_harm, score_rows, t, n, q, s))
        return combos, np.array(preds)

    held_out = np.zeros(len(rows), dtype=bool)
    per_fold = []
    for f in range(args.folds):
        train, test = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        # Choose on the training folds by an inner cross-validation, so the held-out fold
        # never influences its own thresholds.
        inner = np.zeros(
            (
                int(np.prod([len(v) for k, v in GRID.items() if k != "sign"])),
                len(rows),
            ),
            bool,
        )
        for g in range(args.folds):
            if g == f:
                continue
            inner_train = np.flatnonzero((fold_of != f) & (fold_of != g))
            inner_test = np.flatnonzero(fold_of == g)
            combos, preds = predictions(inner_train, inner_test)
            inner[:, inner_test] = preds
        best = choose(inner, truth, train, args.max_over_triage, kinds, args.max_ordinary)
        c, t, n, q, s = combos[best]
        per_fold.append(
            {
                "regularisation": c,
                "probability": t,
                "nearest": n,
                "presentation": q,
                "self_harm": s,
            }
        )
        prob = fit(train, c).probability(message_vectors[test])
        self_harm = fit_self_harm(train, c).probability(message_vectors[test])
        held_out[test] = decide(prob, self_harm, test, t, n, q, s)

    def figures(p: np.ndarray) -> dict:
        def share(label: str, cat: str) -> float:
            idx = [i for i, r in enumerate(rows) if r["label"] == label and r["category"] == cat]
            return round(float(np.mean(p[idx])), 3)

        return {
            "messages": len(rows),
            "emergencies": int(truth.sum()),
            "recall": round(float(p[truth].mean()), 3),
            "over_triage": round(float(p[~truth].mean()), 3),
            "over_triage_per_kind_mean": round(
                float(np.mean([p[~truth & (kinds == k)].mean() for k in np.unique(kinds[~truth])])),
                3,
            ),
            "recall_by_category": {
                cat: share("emergency", cat)
                for cat in sorted({r["category"] for r in rows if r["label"] == "emergency"})
            },
            "over_triage_by_kind": {
                cat: share("not_emergency", cat)
                for cat in sorted({r["category"] for r in rows if r["label"] != "emergency"})
            },
        }

    cv = figures(held_out)
    rules_only = figures(rules)
    all_rows = np.arange(len(rows))
    inner = np.zeros(
        (int(np.prod([len(v) for k, v in GRID.items() if k != "sign"])), len(rows)),
        bool,
    )
    for g in range(args.folds):
        combos, preds = predictions(np.flatnonzero(fold_of != g), np.flatnonzero(fold_of == g))
        inner[:, np.flatnonzero(fold_of == g)] = preds
    c, t, n, q, s = combos[
        choose(inner, truth, all_rows, args.max_over_triage, kinds, args.max_ordinary)
    ]

    # The sign threshold only picks the guidance category. Category accuracy is held out too:
    # each fold's emergencies are named by a classifier fitted on the other folds.
    placeholder = TriageThresholds.model_validate(
        {
            "schema": "triage_thresholds/1",
            "probability": t,
            "regularisation": c,
            "sign": 0.6,
            "nearest": n,
            "presentation": q,
            "self_harm": s,
            "chosen_by": "placeholder while calibrating",
        }
    )
    emergency_rows = [i for i, r in enumerate(rows) if r["label"] == "emergency"]
    unit_texts = {i: units(rows[i]["text"]) for i in emergency_rows}
    unit_vectors = {i: embeddings.encode(unit_texts[i]) for i in emergency_rows}
    right: dict[float, int] = dict.fromkeys(GRID["sign"], 0)
    for f in range(args.folds):
        in_fold = fold_of[: len(examples)]
        train_examples = [e for e, g in zip(examples, in_fold, strict=True) if g != f]
        triage = SemanticTriage(bank, train_examples, placeholder, embeddings.encode)
        # (the category classifier learns from emergencies only: questions do not matter here)
        for sign in GRID["sign"]:
            triage.thresholds = placeholder.model_copy(update={"sign": sign})
            right[sign] += sum(
                triage.category(unit_texts[i], unit_vectors[i])[0] == rows[i]["category"]
                for i in emergency_rows
                if fold_of[i] == f
            )
    accuracy = {sign: right[sign] / len(emergency_rows) for sign in GRID["sign"]}
    sign = max(accuracy, key=lambda s: (accuracy[s], s))

    print(
        json.dumps(
            {
                "rules_only": rules_only,
                "cross_validated": cv,
                "per_fold": per_fold,
                "final": {
                    "regularisation": c,
                    "probability": t,
                    "nearest": n,
                    "presentation": q,
                    "self_harm": s,
                    "sign": sign,
                },
                "category_accuracy_by_sign": accuracy,
            },
            indent=1,
        )
    )
    missed = [rows[i]["text"] for i in np.flatnonzero(truth & ~held_out)]
    false = [rows[i]["text"] for i in np.flatnonzero(~truth & held_out)]
    print(f"\nmissed (held out): {len(missed)}", *missed, sep="\n  ")
    print(f"\nfalse alarms (held out): {len(false)}", *false, sep="\n  ")

    if args.write:
        out = args.knowledge / "triage_thresholds.yaml"
        out.write_text(
            "# Written by scripts/calibrate_triage.py --write; re-run it after changing\n"
            "# red_flags.yaml or triage_examples.jsonl instead of editing these numbers.\n"
            f"schema: triage_thresholds/1\nprobability: {t}\nregularisation: {c}\n"
            f"nearest: {n}\npresentation: {q}\nself_harm: {s}\nsign: {sign}\n"
            "chosen_by: >-\n"
            f"  {args.folds}-fold cross-validation (thresholds chosen by an inner cross-validation"
            " on the training folds) over knowledge/triage_examples.jsonl and"
            f" knowledge/questions.jsonl ({len(rows)}"
            f" messages): highest recall with over-triage <= {args.max_over_triage} (mean over"
            f" kinds) and <= {args.max_ordinary} on ordinary questions, rules"
            " floor included; sign: best category accuracy on the labelled emergencies\n"
            "cross_validated:\n"
            f"  recall: {cv['recall']}\n  over_triage: {cv['over_triage']}\n"
            f"  rules_only_recall: {rules_only['recall']}\n"
            f"  rules_only_over_triage: {rules_only['over_triage']}\n"
            f"  category_accuracy: {round(accuracy[sign], 3)}\n"
        )
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
