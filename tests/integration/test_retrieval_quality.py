"""Retrieval quality on the real corpus: recall@5 on the clinician question set stays >= 0.9."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivig_chat.evals.datasets import load_jsonl
from ivig_chat.evals.retrieval import evaluate_case, summarise
from ivig_chat.pipeline import build_pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DATASET = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "retrieval.jsonl"
RECALL_FLOOR = 0.9


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, embeddings):  # type: ignore[no-untyped-def]
    from ivig_chat.config import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("retrieval") / "data")
    built, _ = build_pipeline(settings, embeddings=embeddings)
    return built


def test_dataset_has_at_least_30_clinician_questions() -> None:
    cases = load_jsonl(DATASET)
    assert len(cases) >= 30
    assert all(case["gold"] for case in cases)


def test_recall_at_5_meets_the_floor(pipeline) -> None:  # type: ignore[no-untyped-def]
    cases = load_jsonl(DATASET)
    results = [evaluate_case(pipeline.retriever, c, 5, "ivig-ms") for c in cases]
    summary = summarise(results, 5)
    missed = [f"{r.case_id}: {r.question} -> {r.top}" for r in results if not r.hit]
    print(f"recall@5 {summary['recall@5']:.3f}  MRR {summary['mrr']:.3f}")
    assert summary["recall@5"] >= RECALL_FLOOR, "\n".join(missed)


def test_gold_passages_exist_in_the_corpus(pipeline) -> None:  # type: ignore[no-untyped-def]
    """A gold substring that is not in its document would make recall meaningless."""
    for case in load_jsonl(DATASET):
        for gold in case["gold"]:
            doc = pipeline.corpus.documents[gold["doc_id"]]
            assert gold["contains"] in doc.text, (case["id"], gold)
