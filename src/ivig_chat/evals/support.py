"""Calibrating the support scorer on hand-labelled (sentence, quote) pairs.

The scorer itself is runtime code in :mod:`ivig_chat.grounding`; this module measures its
agreement with the labels in evals/datasets/support_labels.jsonl and the threshold those labels
would choose (with its leave-one-out agreement), for `ivig-chat eval --suite support`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..grounding import SupportScorer, strip_glosses


def best_threshold(
    scores: Sequence[float], gold: Sequence[int], idx: Sequence[int]
) -> tuple[float, float]:
    """The threshold with the best agreement on pairs idx, and that agreement.

    Every threshold between two neighbouring scores gives the same verdicts, so candidates are
    the gaps between distinct scores; ties go to the widest gap, and the threshold is its
    midpoint (the largest margin on both sides).
    """
    values = sorted({round(scores[i], 6) for i in idx} | {0.0, 1.0})
    best = (-1.0, -1.0, 0.5)
    for lo, hi in zip(values, values[1:], strict=False):
        t = (lo + hi) / 2
        accuracy = sum((scores[i] >= t) == bool(gold[i]) for i in idx) / max(len(idx), 1)
        if (accuracy, hi - lo) > best[:2]:
            best = (accuracy, hi - lo, t)
    return round(best[2], 3), best[0]


def calibrate(scorer: SupportScorer, labels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Agreement of the scorer with hand labels at its threshold, the best threshold on the
    labels and the leave-one-out agreement of choosing it that way."""
    scorer.prefetch(
        [strip_glosses(str(r["sentence"]), scorer.glossary) for r in labels]
        + [str(r["quote"]) for r in labels]
    )
    verdicts = [scorer.score(str(r["sentence"]), str(r["quote"])) for r in labels]
    gold = [int(r["label"]) for r in labels]
    scores = [v.score for v in verdicts]
    everyone = list(range(len(labels)))
    best, best_accuracy = best_threshold(scores, gold, everyone)
    # Leave-one-out: choose the threshold without pair i, then judge pair i with it.
    loo_hits = 0
    for i in everyone:
        t_i, _ = best_threshold(scores, gold, [j for j in everyone if j != i])
        loo_hits += (scores[i] >= t_i) == bool(gold[i])
    predicted = [s >= scorer.threshold for s in scores]
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    fp = sum(p and not g for p, g in zip(predicted, gold, strict=True))
    fn = sum((not p) and g for p, g in zip(predicted, gold, strict=True))
    kinds: dict[str, list[bool]] = {}
    rows = []
    for r, v, p, g in zip(labels, verdicts, predicted, gold, strict=True):
        kinds.setdefault(str(r.get("kind", "")), []).append(p == bool(g))
        rows.append(
            {
                "id": r["id"],
                "kind": r.get("kind", ""),
                "label": g,
                "predicted": int(p),
                "agrees": p == bool(g),
                "score": round(v.score, 4),
                "reason": v.reason,
            }
        )
    n = max(len(labels), 1)
    return {
        "pairs": len(labels),
        "threshold": scorer.threshold,
        "agreement": sum(p == bool(g) for p, g in zip(predicted, gold, strict=True)) / n,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "best_threshold_on_labels": best,
        "agreement_at_best_threshold": best_accuracy,
        "loo_agreement": loo_hits / n,
        "by_kind": {
            k: {"pairs": len(v), "accuracy": sum(v) / len(v)} for k, v in sorted(kinds.items())
        },
        "rows": rows,
    }


# --- faithfulness: the best evidence anywhere in the article's scope ------------------------
