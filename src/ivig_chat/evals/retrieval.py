"""Retrieval metrics against gold passages: recall@k (answer and passage) and MRR.

A gold passage is (doc_id, a verbatim substring of the answering sentence). A retrieved chunk
matches it when it is from that document and its text contains the substring.

* recall@k: share of questions with at least one gold passage in the top k;
* passage_recall@k: share of all gold passages found in the top k of their question;
* mrr: mean over questions of 1/rank of the first matching chunk within the top k (0 if none).

``mode`` compares the retriever's pieces on the same questions: ``hybrid`` is the product's
fused ranking (HybridRetriever.search: dense + BM25 by reciprocal rank, plus the boost for a
named reference); ``dense`` is the Chroma nearest neighbours alone and ``bm25`` the lexical
ranking alone, both read from the same pipeline without changing the retriever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..chunking import Chunk
from ..retrieval import HybridRetriever

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")


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


def _matches(chunk: Chunk, gold: dict[str, Any]) -> bool:
    return chunk.doc_id == gold["doc_id"] and gold["contains"] in chunk.text


def ranked_chunks(
    retriever: HybridRetriever,
    question: str,
    article_id: str,
    k: int,
    mode: Mode = "hybrid",
    vector: np.ndarray | None = None,
) -> tuple[list[Chunk], list[Chunk]]:
    """(top k chunks in rank order, every chunk returned) for one question and mode."""
    if mode == "hybrid":
        hits = retriever.search(question, article_id, k=k, vector=vector)
        # Fused top-k; sources added through references are extra context, not ranked.
        return [h.chunk for h in hits[:k]], [h.chunk for h in hits]
    retriever.corpus.article(article_id)  # raises ArticleNotFound
    if mode == "dense":
        if vector is None:
            vector = retriever.embeddings.encode([question])[0]
        ids = [cid for cid, _ in retriever.index.query_chunks(vector, k, article_id)]
        chunks = [retriever.chunks[cid] for cid in ids if cid in retriever.chunks][:k]
        return chunks, chunks
    if mode == "bm25":
        lexical = retriever._lexical_for(retriever.corpus.scope_of(article_id))
        scores = lexical.scores(question)
        order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[int(i)] > 0][:k]
        chunks = [lexical.chunks[i] for i in order]
        return chunks, chunks
    raise ValueError(f"unknown retrieval mode {mode!r}")


def evaluate_case(
    retriever: HybridRetriever,
    case: dict[str, Any],
    k: int,
    default_article: str,
    mode: Mode = "hybrid",
    vector: np.ndarray | None = None,
) -> RetrievalResult:
    article = case.get("article_id") or default_article
    ranked, returned = ranked_chunks(retriever, case["question"], article, k, mode, vector)
    found = [any(_matches(c, g) for c in ranked) for g in case["gold"]]
    first = next(
        (i + 1 for i, c in enumerate(ranked) if any(_matches(c, g) for g in case["gold"])), None
    )
    return RetrievalResult(case["id"], case["question"], found, first, [c.doc_id for c in returned])


def summarise(results: Sequence[RetrievalResult], k: int) -> dict[str, float]:
    n = max(len(results), 1)
    passages = sum(len(r.found) for r in results) or 1
    return {
        "cases": float(len(results)),
        f"recall@{k}": sum(r.hit for r in results) / n,
        f"passage_recall@{k}": sum(sum(r.found) for r in results) / passages,
        "mrr": sum(1.0 / r.first_rank for r in results if r.first_rank) / n,
    }
