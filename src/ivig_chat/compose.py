"""The one place that turns Settings into the running pieces: process set-up, pipeline, stores,
answerer, safety checks and the chat service. The API, the CLI, the evals and the scripts all
build through here, so a new backend is added in one place.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings
from .errors import IvigChatError

if TYPE_CHECKING:
    from .answer.base import Answerer
    from .conversation import ConversationStore
    from .index import IngestReport, Progress
    from .keys import KeyStore
    from .knowledge import CoverageModel, Knowledge
    from .pipeline import Pipeline
    from .safety import Triage
    from .safety.manipulation_meaning import ManipulationByMeaning
    from .service import ChatService

QUIET_LOGGERS = ("bm25s", "chromadb", "httpx", "sentence_transformers")


def configure_process(verbose: bool = False) -> None:
    """Process-wide set-up, once: offline hub clients, quiet third-party loggers."""
    from .embeddings import enforce_offline

    enforce_offline()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _sqlite_path(url: str | Path) -> Path:
    """The SQLite file a database URL names: ``sqlite:///path`` or a plain file path."""
    text = str(url)
    if text.startswith("sqlite:///"):
        return Path(text.removeprefix("sqlite:///"))
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise IvigChatError(
            f"IVIG_CHAT_DATABASE_URL: no conversation store for {scheme!r}; "
            "use a SQLite file path or sqlite:///path"
        )
    return Path(text)


def checkout_settings(root: Path) -> Settings:
    """Settings for the calibration scripts: the checkout's corpus, knowledge and index folder,
    all cores (they fit models; the serving default keeps a core free)."""
    return Settings(
        data_dir=root / ".ivig-chat",
        corpus_dir=root / "corpus",
        knowledge_dir=root / "knowledge",
        torch_threads=0,
    )


def make_store(url: str | Path) -> ConversationStore:
    """A conversation store from a URL: ``sqlite:///path`` or a plain file path (SQLite)."""
    from .conversation import SQLiteConversationStore

    return SQLiteConversationStore(_sqlite_path(url))


def make_key_store(url: str | Path) -> KeyStore:
    """The API keys, in the same database as the conversations (their own table)."""
    from .keys import SQLiteKeyStore

    return SQLiteKeyStore(_sqlite_path(url))


def make_pipeline(
    settings: Settings, *, refresh: bool = True, progress: Progress | None = None
) -> tuple[Pipeline, IngestReport | None]:
    """Corpus, model, index and retriever (the index built or refreshed unless refresh=False)."""
    from .pipeline import build_pipeline

    return build_pipeline(settings, refresh=refresh, progress=progress)


def make_answerer(
    settings: Settings,
    pipeline: Pipeline,
    knowledge: Knowledge,
    *,
    coverage_model: CoverageModel | None = None,
) -> Answerer:
    """The answerer Settings.answerer names, over the pipeline's corpus and sentence vectors."""
    from .answer.coverage import in_neighbour_bank
    from .answer.extractive import ExtractiveAnswerer
    from .answer.facets import Facets
    from .answer.populations import PopulationCheck
    from .chunking import split_sentences
    from .safety import ManipulationDetector
    from .vector_cache import VectorCache

    match settings.answerer:
        case "extractive":
            sentences = [s for d in pipeline.corpus.documents.values() for s in split_sentences(d)]
            cache = VectorCache(settings.vector_cache_path)
            labelled = [
                (q.text, q.label == "answerable")
                for q in knowledge.questions
                if in_neighbour_bank(q.label, q.kind)
            ]
            return ExtractiveAnswerer(
                pipeline.corpus,
                sentences,
                pipeline.index.sentence_vectors(),
                pipeline.retriever,
                coverage_model=coverage_model or knowledge.coverage_model,
                encode=pipeline.embeddings.encode,
                cache=cache,
                model_name=pipeline.embeddings.name,
                populations=PopulationCheck(knowledge.populations.populations),
                labelled=labelled,
                synonyms=knowledge.synonyms.terms,
                manipulation=ManipulationDetector(knowledge.manipulation_rules),
                facets=Facets(
                    knowledge.answer_facets,
                    pipeline.embeddings.encode,
                    cache,
                    pipeline.embeddings.name,
                ),
            )
    raise IvigChatError(f"IVIG_CHAT_ANSWERER={settings.answerer!r}: choose 'extractive'")


def make_triage(settings: Settings, pipeline: Pipeline, knowledge: Knowledge) -> Triage:
    """Red-flag rules plus the semantic layer, from the reviewed knowledge folder."""
    from .safety import RedFlagDetector, Triage
    from .safety.semantic import SemanticTriage
    from .vector_cache import VectorCache

    semantic = SemanticTriage(
        knowledge.red_flags,
        knowledge.triage_examples,
        knowledge.triage_thresholds,
        pipeline.embeddings.encode,
        model_name=pipeline.embeddings.name,
        cache=VectorCache(settings.vector_cache_path),
        questions=[q.text for q in knowledge.questions],
    )
    return Triage(semantic, RedFlagDetector(knowledge.red_flag_rules))


def build_service(
    settings: Settings,
    pipeline: Pipeline,
    store: ConversationStore | None = None,
    *,
    coverage_model: CoverageModel | None = None,
) -> ChatService:
    """The chat service over a built pipeline: knowledge validated here (a bad file raises
    KnowledgeError naming it), answerer and triage from it, conversations in `store` (default:
    the configured database). coverage_model overrides knowledge/'s (calibration passes its own).
    """
    from .knowledge import load_knowledge
    from .safety import ManipulationDetector
    from .service import ChatService

    knowledge = load_knowledge(settings.knowledge_dir)
    answerer = make_answerer(settings, pipeline, knowledge, coverage_model=coverage_model)
    triage = make_triage(settings, pipeline, knowledge)
    if store is None:
        store = make_store(settings.conversations_url)
    return ChatService(
        settings,
        pipeline,
        answerer,
        store,
        knowledge.guidance,
        triage,
        knowledge.glossary,
        ManipulationDetector(knowledge.manipulation_rules),
        make_manipulation_by_meaning(settings, pipeline, knowledge),
    )


def make_manipulation_by_meaning(
    settings: Settings, pipeline: Pipeline, knowledge: Knowledge
) -> ManipulationByMeaning:
    """The semantic manipulation layer, from the reviewed examples and calibrated threshold."""
    from .safety.manipulation_meaning import ManipulationByMeaning
    from .vector_cache import VectorCache

    return ManipulationByMeaning(
        knowledge.manipulation_examples,
        knowledge.manipulation_thresholds,
        pipeline.embeddings.encode,
        model_name=pipeline.embeddings.name,
        cache=VectorCache(settings.vector_cache_path),
        questions=[q.text for q in knowledge.questions],
    )


def build_ready_service(settings: Settings) -> ChatService:
    """The embedded default as `serve` runs it: index built if missing, warmed up."""
    from .embeddings import enforce_offline

    enforce_offline()
    pipeline, _ = make_pipeline(settings, refresh=True)
    service = build_service(settings, pipeline)
    service.warm()
    return service
