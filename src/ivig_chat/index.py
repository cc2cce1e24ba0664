"""Build and refresh the Chroma collections (content-hash ids: idempotent and incremental).

Two collections per corpus: ``<name>`` holds section chunks (retrieval), ``<name>_sentences``
holds sentences (the extractive answerer's candidates). Ids hash the content, so an unchanged
chunk keeps its id and is never embedded twice; a changed one gets a new id; ids no longer in the
corpus are deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .chunking import Chunk, Sentence, chunk_corpus, split_sentences
from .config import Settings
from .corpus import Corpus
from .embeddings import LocalSentenceEmbeddings
from .errors import IndexNotReady

log = logging.getLogger(__name__)

BATCH = 64


class Progress(Protocol):
    """Told how many records a refresh will embed, then how many it has done."""

    def start(self, total: int) -> None: ...
    def advance(self, done: int) -> None: ...


def scope_key(article_id: str) -> str:
    """Metadata flag marking a record as part of an article's scope."""
    return f"in:{article_id}"


def make_chroma_client(settings: Settings) -> Any:
    """Embedded persistent Chroma by default; a Chroma server in http mode. Telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "http":
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
            client.heartbeat()
        except Exception as exc:  # connection refused, DNS, TLS: all mean "not reachable"
            raise IndexNotReady(
                f"Chroma server at {where} is not reachable ({type(exc).__name__}); start it "
                "or set IVIG_CHAT_CHROMA_MODE=embedded"
            ) from exc
        return client
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


@dataclass
class IngestReport:
    """What a refresh changed."""

    documents: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0
    removed: int = 0
    rebuilt: bool = False
    changed_documents: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return self.embedded == 0 and self.removed == 0


@dataclass(frozen=True)
class Record:
    """One row to store: an id, the text to embed, and flat metadata."""

    id: str
    text: str
    metadata: dict[str, str | int | float | bool]


def _scope_flags(articles: Sequence[str]) -> dict[str, str | int | float | bool]:
    return {scope_key(a): True for a in articles}


def chunk_records(chunks: Sequence[Chunk]) -> list[Record]:
    return [
        Record(
            id=c.id,
            text=c.embedding_text(),
            metadata={
                "doc_id": c.doc_id,
                "kind": c.kind,
                "title": c.title,
                "section": c.section or "",
                "refs": ",".join(str(n) for n in c.refs),
                "start": c.start,
                "end": c.end,
                **_scope_flags(c.articles),
            },
        )
        for c in chunks
    ]


def sentence_records(corpus: Corpus, sentences: Sequence[Sentence]) -> list[Record]:
    records = []
    for s in sentences:
        doc = corpus.documents[s.doc_id]
        articles = (doc.id,) if doc.kind == "article" else doc.articles
        records.append(
            Record(
                id=s.id,
                text=s.text,
                metadata={
                    "doc_id": s.doc_id,
                    "start": s.start,
                    "end": s.end,
                    **_scope_flags(articles),
                },
            )
        )
    return records


class VectorIndex:
    """The chunk and sentence collections behind langchain-chroma stores."""

    def __init__(self, client: Any, name: str, embeddings: LocalSentenceEmbeddings) -> None:
        from langchain_chroma import Chroma

        self.client = client
        self.name = name
        self.embeddings = embeddings
        self._meta = {"hnsw:space": "cosine", "embedding_model": str(embeddings.model_path)}
        self.chunks = Chroma(
            collection_name=name,
            embedding_function=embeddings,
            client=client,
            collection_metadata=self._meta,
        )
        self.sentences = Chroma(
            collection_name=f"{name}_sentences",
            embedding_function=embeddings,
            client=client,
            collection_metadata=self._meta,
        )
        # The same chunk collection through chromadb's public API, for what langchain-chroma
        # does not offer (metadata, count, a query by vector with distances and a filter).
        self._chunk_collection = client.get_collection(name)

    def model_matches(self) -> bool:
        """False when the collections were built with another embedding model."""
        stored = (self._chunk_collection.metadata or {}).get("embedding_model")
        return stored in (None, str(self.embeddings.model_path))

    def reset(self) -> None:
        """Drop both collections (used when the embedding model changes)."""
        for store in (self.chunks, self.sentences):
            store.delete_collection()
        self.__init__(self.client, self.name, self.embeddings)  # type: ignore[misc]

    def count(self) -> int:
        return int(self._chunk_collection.count())

    def query_chunks(self, vector: np.ndarray, k: int, article_id: str) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks in the article's scope."""
        result = self._chunk_collection.query(
            query_embeddings=np.asarray([vector], dtype=np.float32),
            n_results=k,
            where={scope_key(article_id): True},
            include=["distances"],
        )
        ids = result["ids"][0] if result["ids"] else []
        distances = (result.get("distances") or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=False)]

    def sentence_vectors(self) -> dict[str, np.ndarray]:
        """Every stored sentence vector by sentence id."""
        got = self.sentences.get(include=["embeddings"])
        return {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(got["ids"], got["embeddings"], strict=False)
        }


@dataclass
class _Plan:
    """What one collection needs: ids to delete and records to (re)embed."""

    store: Any
    stale: list[str]
    new: list[Record]
    removed: int  # ids that left the corpus (stale also holds rewritten ones)


def _plan(store: Any, records: Sequence[Record]) -> _Plan:
    got = store.get(include=["metadatas"])
    stored = dict(zip(got["ids"], got["metadatas"], strict=False))
    wanted = {r.id: r for r in records}
    # An unchanged text keeps its id, but its metadata can still change (offsets shifted by an
    # edit earlier in the document, refs, scope): rewrite such records. Chroma merges metadata on
    # update, so a dropped scope flag would survive an in-place update.
    current = {i for i, meta in stored.items() if i in wanted and meta == wanted[i].metadata}
    return _Plan(
        store=store,
        stale=sorted(set(stored) - current),
        new=[r for r in records if r.id not in current],
        removed=len(set(stored) - set(wanted)),
    )


def _apply(plan: _Plan, progress: Progress | None) -> None:
    if plan.stale:
        plan.store.delete(ids=plan.stale)
    for i in range(0, len(plan.new), BATCH):
        batch = plan.new[i : i + BATCH]
        plan.store.add_texts(
            texts=[r.text for r in batch],
            metadatas=[r.metadata for r in batch],
            ids=[r.id for r in batch],
        )
        if progress:
            progress.advance(len(batch))


def refresh_index(
    corpus: Corpus, index: VectorIndex, progress: Progress | None = None
) -> IngestReport:
    """Make the collections match the corpus, embedding only what is new or changed."""
    report = IngestReport(documents=len(corpus.documents))
    if not index.model_matches():
        log.warning("embedding model changed: rebuilding the index")
        index.reset()
        report.rebuilt = True
    chunks = chunk_corpus(corpus)
    sentences = [s for doc in corpus.documents.values() for s in split_sentences(doc)]
    report.chunks, report.sentences = len(chunks), len(sentences)
    plans = [
        _plan(index.chunks, chunk_records(chunks)),
        _plan(index.sentences, sentence_records(corpus, sentences)),
    ]
    if progress:
        progress.start(sum(len(p.new) for p in plans))
    for plan in plans:
        _apply(plan, progress)
    written = {r.id for r in plans[0].new}
    report.embedded = sum(len(p.new) for p in plans)
    report.removed = sum(p.removed for p in plans)
    report.changed_documents = sorted({c.doc_id for c in chunks if c.id in written})
    return report
