"""Choose the answer-facet parameters (weight, floor, temperature) on labelled eval splits.

    python scripts/tune_facets.py                     # grid, two-fold across splits
    python scripts/tune_facets.py --splits dev blind2 # other splits

Key-fact recall and status accuracy of every case of the chosen splits, per grid point. The
splits are divided into two halves (alternate cases of each split); a point is chosen on each
half and scored on the other, so the figures printed for the choice are held out. The blind
splits written after the last tuning (their first run not reported yet) must not be listed
here. Prints a table; writes nothing: put the chosen values in FacetSettings by hand, with the
figures in evals/README.md.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ivig_chat.answer.facets import FacetSettings  # noqa: E402
from ivig_chat.compose import build_service, checkout_settings, make_store  # noqa: E402
from ivig_chat.evals.chat import run_case, timed_ask  # noqa: E402
from ivig_chat.evals.datasets import load_jsonl  # noqa: E402
from ivig_chat.pipeline import build_pipeline  # noqa: E402

WEIGHTS = [0.0, 0.06, 0.12, 0.18, 0.25]
FLOORS = [0.4, 0.5]
TEMPERATURES = [0.03, 0.08]


def case_score(case: dict, response: dict) -> tuple[float | None, float]:
    """(fact recall or None, status correct)."""
    expect = case.get("expect", {})
    status_ok = float(response["status"] == expect.get("status"))
    facts = expect.get("facts") or []
    if not facts or response["status"] == "abstained":
        return None, status_ok
    low = response["answer"].lower()
    found = sum(any(a.lower() in low for a in alts) for alts in facts)
    return found / len(facts), status_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--splits", nargs="+", default=["dev", "holdout", "holdout_blind", "blind2", "blind3"]
    )
    parser.add_argument("--weights", nargs="+", type=float, default=WEIGHTS)
    parser.add_argument("--floors", nargs="+", type=float, default=FLOORS)
    parser.add_argument("--temperatures", nargs="+", type=float, default=TEMPERATURES)
    args = parser.parse_args()
    settings = checkout_settings(ROOT)
    pipeline, _ = build_pipeline(settings)
    store = make_store(Path(tempfile.mkdtemp()) / "tune.sqlite3")
    service = build_service(settings, pipeline, store)
    facets = service.answerer.facets  # type: ignore[attr-defined]
    cases = []
    for split in args.splits:
        rows = load_jsonl(ROOT / "evals" / "datasets" / f"{split}.jsonl")
        cases += [(i % 2, split, c) for i, c in enumerate(rows)]
    ask = timed_ask(service)
    results = {}
    grid = list(itertools.product(args.weights, args.floors, args.temperatures))
    baseline = (0.0, args.floors[0], args.temperatures[0])
    grid = [baseline] + [g for g in grid if g[0] > 0.0]
    for weight, floor, temperature in grid:
        facets.settings = FacetSettings(weight=weight, floor=floor, temperature=temperature)
        per_half: dict[int, list[tuple[float | None, float]]] = {0: [], 1: []}
        for half, _split, case in cases:
            per_half[half].append(case_score(case, run_case(case, ask).last))
        results[(weight, floor, temperature)] = per_half
        print(f"w={weight:.2f} floor={floor} T={temperature}: " + summary(per_half), flush=True)

    def objective(key: tuple, half: int) -> float:
        scores = results[key][half]
        facts = [f for f, _ in scores if f is not None]
        status = [s for _, s in scores]
        return sum(facts) / len(facts) + sum(status) / len(status)

    print("\ntwo-fold choice (chosen on one half, scored on the other):")
    for half in (0, 1):
        chosen = max(results, key=lambda k: objective(k, half))
        print(f"  chosen on half {half}: {chosen} -> held-out half {1 - half}: "
              + summary({0: results[chosen][1 - half]}))
        print(f"  no facets on held-out half {1 - half}: "
              + summary({0: results[baseline][1 - half]}))
    overall = max(results, key=lambda k: objective(k, 0) + objective(k, 1))
    print(f"chosen on all: {overall}")
    return 0


def summary(per_half: dict[int, list[tuple[float | None, float]]]) -> str:
    scores = [s for half in per_half.values() for s in half]
    facts = [f for f, _ in scores if f is not None]
    status = [s for _, s in scores]
    return (
        f"fact recall {sum(facts) / len(facts):.3f} ({len(facts)} cases), "
        f"status {sum(status) / len(status):.3f} ({len(status)})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
