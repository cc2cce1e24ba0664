"""Hybrid search scoped to one article: dense (Chroma) + lexical (BM25), fused by reciprocal rank.

When an article chunk among the results cites reference n, the best chunk of the source behind n
joins the candidates. Every hit keeps its cosine similarity to the query so callers can judge
whether the corpus covers a question at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .chunking import Chunk
from .corpus import Corpus, Scope
from .embeddings import LocalSentenceEmbeddings
from .index import VectorIndex
from .textutil import NO_SYNONYMS, Synonyms, content_tokens, query_tokens

log = logging.getLogger(__name__)

RRF_K = 60
_REF_MENTION = re.compile(r"\b(?:ref(?:erence)?s?)\.?\s*(?:#|no\.?|number)?\s*(\d{1,3})\b", re.I)


def mentioned_refs(query: str) -> list[int]:
    """Reference numbers a question names ("reference 2", "ref 3", "ref. #4")."""
    return [int(n) for n in _REF_MENTION.findall(query)]


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with the evidence behind its rank."""

    chunk: Chunk
    score: float  # fused reciprocal-rank score
    dense: float  # cosine similarity of query and chunk, -1..1
    lexical: float  # BM25 score, 0 when no query term matches
    via_ref: int | None = None  # set when added because an article hit cites this source

    def as_dict(self) -> dict[str, object]:
        c = self.chunk
        return {
            "chunk_id": c.id,
            "doc_id": c.doc_id,
            "kind": c.kind,
            "title": c.title,
            "section": c.section,
            "refs": list(c.refs),
            "start": c.start,
            "end": c.end,
            "score": round(self.score, 6),
            "dense": round(self.dense, 4),
            "lexical": round(self.lexical, 4),
            "via_ref": self.via_ref,
            "text": c.text,
        }


class _Lexical:
    """BM25 over one article's chunks."""

    def __init__(self, chunks: Sequence[Chunk], synonyms: Synonyms = NO_SYNONYMS) -> None:
        import bm25s

        self.synonyms = synonyms
        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build
        self.chunks = list(chunks)
        corpus_tokens = [content_tokens(c.embedding_text()) or ["_empty_"] for c in self.chunks]
        self.vocab = {t for tokens in corpus_tokens for t in tokens}
        self.model = bm25s.BM25()
        self.model.index(corpus_tokens, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        tokens = [t for t in query_tokens(query, self.synonyms) if t in self.vocab]
        if not tokens:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens), dtype=np.float32)


class HybridRetriever:
    """Dense + BM25 retrieval over the chunks of an article and its sources."""

    def __init__(
        self,
        corpus: Corpus,
        chunks: Sequence[Chunk],
        index: VectorIndex,
        embeddings: LocalSentenceEmbeddings,
        dense_k: int = 20,
        synonyms: Synonyms = NO_SYNONYMS,
    ) -> None:
        """synonyms: question words -> corpus words they also match (knowledge/synonyms.yaml)."""
        self.synonyms = synonyms
        self.corpus = corpus
        self.index = index
        self.embeddings = embeddings
        self.dense_k = dense_k
        self.chunks = {c.id: c for c in chunks}
        self._lexical: dict[str, _Lexical] = {}
        self._vectors: dict[str, np.ndarray] | None = None

    def _lexical_for(self, scope: Scope) -> _Lexical:
        if scope.id not in self._lexical:
            in_scope = scope.doc_ids
            self._lexical[scope.id] = _Lexical(
                [c for c in self.chunks.values() if c.doc_id in in_scope], self.synonyms
            )
        return self._lexical[scope.id]

    def _chunk_vectors(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            got = self.index.chunks.get(include=["embeddings"])
            self._vectors = {
                i: np.asarray(v, dtype=np.float32)
                for i, v in zip(got["ids"], got["embeddings"], strict=False)
            }
        return self._vectors

    def warm(self, scope: Scope) -> None:
        """Build what the first query would otherwise build."""
        self._lexical_for(scope)
        self._chunk_vectors()

    def search(
        self,
        query: str,
        scope: Scope | str,
        k: int = 5,
        vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """Top-k fused hits, plus sources cited by the article hits among them.

        scope: the turn's resolved scope, or an article id to resolve here (the CLI, evals);
        an unknown id raises ArticleNotFound."""
        if isinstance(scope, str):
            scope = self.corpus.scope_of(scope)
        if vector is None:
            vector = self.embeddings.encode([query])[0]
        dense = [
            (cid, sim)
            for cid, sim in self.index.query_chunks(vector, self.dense_k, scope.id)
            if cid in self.chunks
        ]
        lexical = self._lexical_for(scope)
        lex_scores = lexical.scores(query)
        lex_order = [i for i in np.argsort(-lex_scores) if lex_scores[i] > 0][: self.dense_k]
        fused: dict[str, float] = {}
        for rank, (cid, _) in enumerate(dense):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, i in enumerate(lex_order):
            cid = lexical.chunks[int(i)].id
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        dense_sim = dict(dense)
        lex_by_id = {c.id: float(lex_scores[i]) for i, c in enumerate(lexical.chunks)}
        vectors = self._chunk_vectors()

        def similarity(cid: str) -> float:
            if cid in dense_sim:
                return dense_sim[cid]
            v = vectors.get(cid)
            return float(np.dot(v, vector)) if v is not None else 0.0

        top = max(fused.values(), default=0.0)
        for n in mentioned_refs(query):
            # The user names the article's reference n: its source leads the results.
            source = scope.source_for_ref(n)
            own = [c for c in self.chunks.values() if source and c.doc_id == source.id]
            for rank, chunk in enumerate(sorted(own, key=lambda c: -similarity(c.id))[:2]):
                fused[chunk.id] = top + 1.0 / (RRF_K + rank + 1)
        ranked = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
        hits = [
            Hit(self.chunks[cid], fused[cid], similarity(cid), lex_by_id.get(cid, 0.0))
            for cid in ranked
        ]
        return hits + self._cited_sources(hits, scope, fused, similarity)

    def _cited_sources(self, hits: list[Hit], scope: Scope, fused: dict[str, float], similarity):  # type: ignore[no-untyped-def]
        """The best chunk of each source an article hit cites, when not already present."""
        present = {h.chunk.id for h in hits}
        extra: list[Hit] = []
        for hit in hits:
            if hit.chunk.kind != "article":
                continue
            for n in hit.chunk.refs:
                source = scope.source_for_ref(n)
                if source is None:
                    continue
                candidates = [c for c in self.chunks.values() if c.doc_id == source.id]
                if not candidates:
                    continue
                best = max(candidates, key=lambda c: similarity(c.id))
                if best.id in present:
                    continue
                present.add(best.id)
                extra.append(
                    Hit(best, fused.get(best.id, 0.0), similarity(best.id), 0.0, via_ref=n)
                )
        return extra
