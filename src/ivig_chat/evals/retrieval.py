"""Retrieval metrics against gold passages: recall@k (answer and passage) and MRR.

A gold passage is (doc_id, a verbatim substring of the answering sentence). A retrieved chunk
matches it when it is from that document and its text contains the substring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..retrieval import Hit, HybridRetriever


@dataclass
class RetrievalResult:
    case_id: str
    question: str
    found: list[bool]  # per gold passage: within the top k
    first_rank: int | None  # 1-based rank of the first matching chunk in the fused list
    top: list[str]

    @property
    def hit(self) -> bool:
        return any(self.found)


def _matches(hit: Hit, gold: dict[str, Any]) -> bool:
    return hit.chunk.doc_id == gold["doc_id"] and gold["contains"] in hit.chunk.text


def evaluate_case(
    retriever: HybridRetriever, case: dict[str, Any], k: int, default_article: str
) -> RetrievalResult:
    article = case.get("article_id") or default_article
    hits = retriever.search(case["question"], article, k=k)
    ranked = hits[:k]  # fused top-k; sources added through references are extra context
    found = [any(_matches(h, g) for h in ranked) for g in case["gold"]]
    first = next(
        (i + 1 for i, h in enumerate(ranked) if any(_matches(h, g) for g in case["gold"])), None
    )
    return RetrievalResult(
        case["id"], case["question"], found, first, [f"{h.chunk.doc_id}" for h in hits]
    )


def summarise(results: Sequence[RetrievalResult], k: int) -> dict[str, float]:
    n = max(len(results), 1)
    passages = sum(len(r.found) for r in results) or 1
    return {
        "cases": float(len(results)),
        f"recall@{k}": sum(r.hit for r in results) / n,
        f"passage_recall@{k}": sum(sum(r.found) for r in results) / passages,
        "mrr": sum(1.0 / r.first_rank for r in results if r.first_rank) / n,
    }
