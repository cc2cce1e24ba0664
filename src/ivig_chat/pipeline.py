"""build_pipeline(settings): corpus, model, index and retriever, composed once per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .chunking import Chunk, chunk_corpus
from .config import Settings
from .corpus import Corpus, load_corpus
from .embeddings import LocalSentenceEmbeddings, make_embeddings
from .errors import IndexNotReady
from .index import IngestReport, Progress, VectorIndex, make_chroma_client, refresh_index
from .knowledge import load_synonyms
from .retrieval import HybridRetriever

log = logging.getLogger(__name__)


@dataclass
class Pipeline:
    """Everything retrieval needs, built once and shared."""

    settings: Settings
    corpus: Corpus
    embeddings: LocalSentenceEmbeddings
    index: VectorIndex
    chunks: list[Chunk]
    retriever: HybridRetriever


def build_pipeline(
    settings: Settings,
    *,
    refresh: bool = True,
    progress: Progress | None = None,
    embeddings: LocalSentenceEmbeddings | None = None,
) -> tuple[Pipeline, IngestReport | None]:
    """Load the corpus (validating it first), open the index and bring it up to date.

    With refresh=False a missing or empty index raises IndexNotReady instead of being built.
    """
    corpus = load_corpus(settings.corpus_dir)
    embeddings = embeddings or make_embeddings(settings)
    index = VectorIndex(make_chroma_client(settings), settings.collection, embeddings)
    report = None
    if refresh:
        report = refresh_index(corpus, index, progress)
    elif index.count() == 0:
        raise IndexNotReady("The index is empty: run `ivig-chat ingest` first.")
    chunks = chunk_corpus(corpus)
    retriever = HybridRetriever(
        corpus, chunks, index, embeddings, synonyms=load_synonyms(settings.knowledge_dir).terms
    )
    return Pipeline(settings, corpus, embeddings, index, chunks, retriever), report
