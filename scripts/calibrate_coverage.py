"""Fit the coverage model on labelled questions, by cross-validation, and report held-out figures.

    python scripts/calibrate_coverage.py            # cross-validated figures
    python scripts/calibrate_coverage.py --write    # also write knowledge/coverage_model.yaml

Data: knowledge/questions.jsonl (answerable and out-of-scope questions written blind from the
source material, including blind2's single-turn questions once its first run was reported) plus
the single-turn answerable and out-of-scope cases of the dev split (the old rules were tuned on
dev; it is training data here too). The holdout, holdout_blind and blind3 splits stay out, for
`ivig-chat eval` to check. The labelled_margin feature compares each question with the reviewed
questions of the training folds only, never with itself. For each of K folds the regularisation
and decision threshold are chosen by an inner cross-validation on the other folds (fewest errors
of both kinds: answerable questions abstained plus out-of-scope questions answered), then the
held-out fold is scored. Re-run after changing the corpus or the features.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ivig_chat.answer.coverage import (  # noqa: E402
    FEATURES,
    LabelledNeighbours,
    in_neighbour_bank,
)
from ivig_chat.answer.populations import PopulationCheck  # noqa: E402
from ivig_chat.compose import build_service, checkout_settings, make_store  # noqa: E402
from ivig_chat.knowledge import CoverageModel  # noqa: E402
from ivig_chat.pipeline import build_pipeline  # noqa: E402
from ivig_chat.types import ChatRequest  # noqa: E402

REGULARISATION = [0.01, 0.03, 0.1, 0.3, 1.0]
THRESHOLDS = [round(x, 2) for x in np.arange(0.2, 0.71, 0.05)]


def labelled() -> list[dict]:
    rows = []
    for line in (ROOT / "knowledge/questions.jsonl").read_text().splitlines():
        r = json.loads(line)
        rows.append(
            {
                "id": r["id"],
                "text": r["text"],
                "answerable": r["label"] == "answerable",
                # the service compares new questions with these
                "bank": in_neighbour_bank(r["label"], r.get("kind", "")),
            }
        )
    for line in (ROOT / "evals/datasets/dev.jsonl").read_text().splitlines():
        r = json.loads(line)
        status = r["expect"]["status"]
        single = len(r["turns"]) == 1 and r["category"] in ("single", "patient", "out_of_scope")
        if single and status in ("answered", "abstained"):
            rows.append(
                {
                    "id": r["id"],
                    "text": r["turns"][0],
                    "answerable": status == "answered",
                    "bank": False,
                }
            )
    return rows


def pass_through() -> CoverageModel:
    """A model that covers everything, so every question's evidence gets computed."""
    n = len(FEATURES)
    return CoverageModel.model_validate(
        {
            "schema": "coverage_model/1",
            "features": list(FEATURES),
            "weights": [0.0] * n,
            "bias": 5.0,
            "mean": [0.0] * n,
            "scale": [1.0] * n,
            "threshold": 0.01,
            "chosen_by": "pass-through while calibrating",
        }
    )


def fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit((x - mean) / scale, y)
    return model.coef_[0], float(model.intercept_[0]), mean, scale


def predict(params: tuple, x: np.ndarray) -> np.ndarray:
    weights, bias, mean, scale = params
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ weights + bias)))


def errors(p: np.ndarray, y: np.ndarray, t: float) -> tuple[float, float]:
    covered = p >= t
    return float((~covered[y]).mean()), float(covered[~y].mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--max-abstained",
        type=float,
        default=None,
        help="choose the fewest out-of-scope answers with at most this share of answerable "
        "questions abstained (default: fewest errors of both kinds)",
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    settings = checkout_settings(ROOT)
    pipeline, _ = build_pipeline(settings)
    store = make_store(Path(tempfile.mkdtemp()) / "calibration.sqlite3")
    service = build_service(settings, pipeline, store, coverage_model=pass_through())
    # Questions naming a patient group the corpus never mentions (knowledge/populations.yaml),
    # or only something rare the corpus never uses, abstain before the model: they count in
    # the figures, not in the fit.
    vetoed: list[dict] = []
    kept: list[dict] = []
    evidence = []
    understood = []
    for r in labelled():
        draft = service.prepare(ChatRequest(r["text"])).draft
        if draft is not None and draft.decided_by in ("population", "other_subject"):
            vetoed.append(r)
            continue
        if draft is None or draft.evidence is None:
            raise SystemExit(f"no coverage evidence for {r['id']}: {r['text']!r}")
        evidence.append(draft.evidence.vector())
        understood.append(draft.understood or r["text"])
        kept.append(r)
    rows = kept
    x, y = np.array(evidence), np.array([r["answerable"] for r in rows])
    # The labelled_margin the service computes compares a question with every reviewed
    # question; here it is recomputed against the training rows' reviewed questions only
    # (never the question itself), so no held-out label leaks into its own evidence.
    vectors = pipeline.embeddings.encode(understood)
    in_bank = np.array([r["bank"] for r in rows])
    margin_column = FEATURES.index("labelled_margin")

    def features(query: np.ndarray, train: np.ndarray) -> np.ndarray:
        out = x[query].copy()
        for row, i in enumerate(query):
            bank = train & in_bank
            bank[i] = False
            out[row, margin_column] = LabelledNeighbours(vectors[bank], y[bank]).margin(vectors[i])
        return out

    veto_wrong = sum(r["answerable"] for r in vetoed)
    # The same questions through the older word-rarity rules, for comparison.
    service.answerer.coverage_model = None
    service.answerer.populations = PopulationCheck([])
    everything = rows + vetoed
    truth = np.array([r["answerable"] for r in everything])
    rules = np.array(
        [service.prepare(ChatRequest(r["text"])).response.status == "answered" for r in everything]
    )
    rules_figures = {
        "answerable_abstained": round(float((~rules[truth]).mean()), 3),
        "out_of_scope_answered": round(float(rules[~truth].mean()), 3),
        "accuracy": round(float((rules == truth).mean()), 3),
    }

    rng = random.Random(args.seed)
    order = list(range(len(rows)))
    rng.shuffle(order)
    fold = np.zeros(len(rows), dtype=int)
    for j, i in enumerate(order):
        fold[i] = j % args.folds

    def choose(train: np.ndarray) -> tuple[float, float]:
        scores: dict[tuple[float, float], float] = {}
        for c in REGULARISATION:
            p = np.zeros(len(rows))
            for g in range(args.folds):
                inner_test = train & (fold == g)
                inner_train = train & (fold != g)
                if inner_test.any():
                    params = fit(
                        features(np.flatnonzero(inner_train), inner_train), y[inner_train], c
                    )
                    p[inner_test] = predict(
                        params, features(np.flatnonzero(inner_test), inner_train)
                    )
            for t in THRESHOLDS:
                missed, wrong = errors(p[train], y[train], t)
                if args.max_abstained is None:
                    scores[(c, t)] = missed + wrong
                else:
                    scores[(c, t)] = wrong + (10.0 if missed > args.max_abstained else 0.0)
        return min(scores, key=lambda k: (scores[k], -k[1]))

    held_out = np.zeros(len(rows))
    per_fold = []
    thresholds = np.zeros(len(rows))
    for f in range(args.folds):
        train, test = fold != f, fold == f
        c, t = choose(train)
        per_fold.append({"regularisation": c, "threshold": t})
        params = fit(features(np.flatnonzero(train), train), y[train], c)
        held_out[test] = predict(params, features(np.flatnonzero(test), train))
        thresholds[test] = t
    covered = held_out >= thresholds
    answerable = int(y.sum()) + veto_wrong
    out_of_scope = int((~y).sum()) + len(vetoed) - veto_wrong
    cv = {
        "questions": len(rows) + len(vetoed),
        "answerable": answerable,
        "decided_before_the_model": len(vetoed),
        "answerable_abstained": round(float((~covered[y]).sum() + veto_wrong) / answerable, 3),
        "out_of_scope_answered": round(float(covered[~y].sum()) / out_of_scope, 3),
        "accuracy": round(
            float((covered == y).sum() + len(vetoed) - veto_wrong) / (len(rows) + len(vetoed)), 3
        ),
    }
    everyone = np.ones(len(rows), dtype=bool)
    c, t = choose(everyone)
    weights, bias, mean, scale = fit(features(np.arange(len(rows)), everyone), y, c)
    print(
        json.dumps(
            {
                "rules": rules_figures,
                "cross_validated": cv,
                "per_fold": per_fold,
                "final": {"regularisation": c, "threshold": t},
                "weights": dict(zip(FEATURES, np.round(weights, 3).tolist(), strict=True)),
            },
            indent=1,
        )
    )
    for i in np.flatnonzero(covered != y):
        kind = "abstained" if y[i] else "answered"
        print(f"  held out, wrongly {kind}: {rows[i]['text']}")

    if args.write:
        model = {
            "schema": "coverage_model/1",
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in weights],
            "bias": round(bias, 6),
            "mean": [round(float(m), 6) for m in mean],
            "scale": [round(float(s), 6) for s in scale],
            "threshold": t,
            "chosen_by": (
                f"{args.folds}-fold cross-validation (regularisation {c} and threshold chosen by"
                f" an inner cross-validation on the training folds) over {len(rows)} labelled"
                " questions: knowledge/questions.jsonl and the dev split's single-turn"
                " answerable and out-of-scope cases; "
                + (
                    "fewest errors of both kinds"
                    if args.max_abstained is None
                    else f"fewest out-of-scope answers with at most {args.max_abstained} of"
                    " answerable questions abstained"
                )
            ),
            "cross_validated": cv,
            "rules_on_the_same_questions": rules_figures,
        }
        CoverageModel.model_validate(model)
        out = ROOT / "knowledge" / "coverage_model.yaml"
        out.write_text(
            "# Written by scripts/calibrate_coverage.py --write; re-run it (do not edit) after\n"
            "# changing the corpus or the features in src/ivig_chat/answer/coverage.py.\n"
            + json.dumps(model, indent=1)
            + "\n"
        )
        print(f"wrote {out}")
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
