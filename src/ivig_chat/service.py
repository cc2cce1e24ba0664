"""The chat service: one turn from message to stored, disclaimed, cited response.

Order of work for a message: validate -> red flags and manipulation -> condense the follow-up ->
embed once -> answer (or abstain) -> wording for the audience -> disclaimer -> store the turn.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .answer.extractive import Draft, ExtractiveAnswerer
from .answer.plain import gloss
from .answer.populations import PopulationCheck
from .chunking import split_sentences
from .config import Settings
from .conversation import ConversationStore, Turn, condense, new_id, now_iso
from .corpus import Document
from .disclaimer import disclaimer_for, enforce_disclaimer
from .errors import InvalidRequest
from .knowledge import CoverageModel, Guidance, Knowledge, load_knowledge
from .pipeline import Pipeline
from .safety import Triage, detect_manipulation, refusal_text, urgent_guidance
from .safety.semantic import SemanticTriage
from .vector_cache import VectorCache

log = logging.getLogger(__name__)

AUDIENCES = ("clinician", "patient")
SOURCES_SAY = "**What the article and its sources say:**"


@dataclass(frozen=True)
class ChatRequest:
    message: str
    conversation_id: str | None = None
    article_id: str | None = None
    audience: str = "clinician"


@dataclass
class Timings:
    """Milliseconds per stage of one turn (answer_ms includes retrieve_ms)."""

    condense_ms: float = 0.0
    embed_ms: float = 0.0
    retrieve_ms: float = 0.0
    answer_ms: float = 0.0
    store_ms: float = 0.0
    total_ms: float = 0.0


@dataclass
class PreparedTurn:
    """A finished response that has not been stored yet."""

    conversation_id: str
    article_id: str
    response: dict[str, Any]
    turn: Turn
    timings: Timings = field(default_factory=Timings)
    draft: Draft | None = None


class SuggestionPicker:
    """Chooses two or three of the article's suggested questions near the current one."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._vectors: dict[str, tuple[list[str], np.ndarray]] = {}

    def for_article(self, article: Document) -> tuple[list[str], np.ndarray]:
        if article.id not in self._vectors:
            questions = [str(q) for q in article.meta.get("suggested_questions") or []]
            vectors = self.pipeline.embeddings.encode(questions) if questions else np.zeros((0, 1))
            self._vectors[article.id] = (questions, vectors)
        return self._vectors[article.id]

    def pick(
        self,
        article: Document,
        vector: np.ndarray | None,
        asked: list[str],
        k: int = 3,
        current: Sequence[str] = (),
    ) -> list[str]:
        """Unasked questions first; once fewer than two are left, earlier ones again (never
        `current`, what was just asked), so a response always offers two or three."""
        questions, vectors = self.for_article(article)
        if not questions:
            return []
        asked_low = {a.strip().lower() for a in asked}
        if vector is None:
            order = list(range(len(questions)))
        else:
            sims = vectors @ vector
            order = [int(i) for i in np.argsort(-sims) if sims[int(i)] < 0.9]
        picked = [questions[i] for i in order if questions[i].lower() not in asked_low]
        if len(picked) < 2:
            now = {c.strip().lower() for c in current}
            picked += [
                questions[i]
                for i in order
                if questions[i] not in picked and questions[i].lower() not in now
            ]
        return picked[:k]


class ChatService:
    """Answers one message of a conversation; the API and CLI both call it."""

    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline,
        answerer: ExtractiveAnswerer,
        store: ConversationStore,
        guidance: Guidance,
        triage: Triage | None = None,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.corpus = pipeline.corpus
        self.answerer = answerer
        self.store = store
        self.guidance = guidance
        self.triage = triage or Triage()
        self.suggestions = SuggestionPicker(pipeline)

    def warm(self) -> None:
        """Do on start-up what the first request would otherwise pay for."""
        for article in self.corpus.articles():
            self.answerer.warm(article.id)
            self.pipeline.retriever.warm(article.id)
            self.suggestions.for_article(article)
            self.answerer.vocabulary(article.id).coverage("warm up the word list")
        self.triage.warm()
        self.pipeline.embeddings.encode(["warm up"])

    def validate(self, request: ChatRequest) -> None:
        if not request.message or not request.message.strip():
            raise InvalidRequest("message must not be empty")
        if len(request.message) > self.settings.max_message_chars:
            raise MessageTooLong(
                f"message is {len(request.message)} characters; the limit is "
                f"{self.settings.max_message_chars}"
            )
        if request.audience not in AUDIENCES:
            raise InvalidRequest("audience must be 'clinician' or 'patient'")

    def prepare(self, request: ChatRequest) -> PreparedTurn:
        """Everything for one turn except storing it."""
        started = time.perf_counter()
        timings = Timings()
        self.validate(request)
        history: list[str] = []
        asked: list[str] = []
        context: frozenset[str] = frozenset()
        article_id = request.article_id or self.settings.default_article
        conversation_id = request.conversation_id
        if conversation_id:
            conversation = self.store.get(conversation_id)  # ConversationNotFound -> 404
            if request.article_id and request.article_id != conversation.article_id:
                raise InvalidRequest(
                    f"conversation {conversation_id} is about article {conversation.article_id}"
                )
            article_id = conversation.article_id
            history = [t.standalone_question for t in conversation.turns]
            if conversation.turns:
                context = frozenset(c["doc_id"] for c in conversation.turns[-1].citations)
            asked = [t.question for t in conversation.turns] + history
        else:
            conversation_id = new_id("conv")
        article = self.corpus.article(article_id)  # ArticleNotFound -> 404
        message = " ".join(request.message.split())

        t0 = time.perf_counter()
        manipulation = detect_manipulation(message)
        question = message
        if manipulation and manipulation.category in ("disclaimer_removal", "instruction_override"):
            # Answer what else was asked, if it is a question; never the instruction itself.
            question = _questions_only(_strip_instructions(message))
        standalone = condense(question, history) if question else message
        timings.condense_ms = (time.perf_counter() - t0) * 1000

        # Nothing is answered for a prompt-extraction attempt, nor for an instruction with no
        # question left once the instruction is cut out.
        wants_answer = bool(question) and not (
            manipulation and manipulation.category == "prompt_extraction"
        )
        # One batched model call embeds the standalone question, the message's clauses for
        # triage and whatever the answerer's coverage stage will weigh.
        t0 = time.perf_counter()
        substance = _has_substance(standalone)
        triage_texts = self.triage.texts(message) if substance else []
        answer_texts = (
            self.answerer.texts_to_embed(standalone, article_id, in_conversation=bool(history))
            if wants_answer and substance
            else []
        )
        batch = list(dict.fromkeys([standalone, *triage_texts, *answer_texts]))
        vectors = self.pipeline.embeddings.encode(batch) if substance else None
        embedded = dict(zip(batch, vectors, strict=True)) if vectors is not None else {}
        timings.embed_ms = (time.perf_counter() - t0) * 1000
        triage_vectors = np.stack([embedded[t] for t in triage_texts]) if triage_texts else None
        red_flag = self.triage.assess(message, triage_vectors)

        draft: Draft | None = None
        vector: np.ndarray | None = embedded.get(standalone)
        if wants_answer and vector is not None:
            t0 = time.perf_counter()
            follow_up = standalone != question
            draft = self.answerer.answer(
                standalone,
                article_id,
                vector,
                focus=question if follow_up else None,
                context=context if follow_up else frozenset(),
                in_conversation=bool(history),
                embedded=embedded,
            )
            timings.answer_ms = (time.perf_counter() - t0) * 1000
            timings.retrieve_ms = draft.retrieve_ms

        if draft is not None and draft.understood and draft.understood != standalone:
            standalone = draft.understood  # what was understood is what the user is shown
        answered = draft is not None and draft.status == "answered"
        grounded = "\n\n".join(draft.lines) if draft and answered else ""
        if red_flag:
            status = "urgent"
            body = urgent_guidance(red_flag, request.audience, self.guidance)  # type: ignore[arg-type]
            if grounded:
                body += f"\n\n{SOURCES_SAY}\n\n{grounded}"
        elif manipulation and (
            manipulation.category in ("prompt_extraction", "treatment_order") or not answered
        ):
            status = "refused"
            body = refusal_text(manipulation, request.audience)  # type: ignore[arg-type]
            if grounded and manipulation.category == "treatment_order":
                body += f"\n\n{SOURCES_SAY}\n\n{grounded}"
        elif answered:
            status, body = "answered", grounded
            if draft and draft.coverage and draft.coverage.unknown_specific:
                body = (
                    "Part of your question is not covered by the article and its sources; "
                    f"this is what they say about the rest of it.\n\n{body}"
                )
        else:
            status, body = "abstained", self._abstention(article, draft)
        if status == "refused":
            standalone = message  # the instruction was not followed; show what was asked
        if request.audience == "patient":
            body = gloss(body)
        citations = (
            [c.as_dict() for c in draft.citations]
            if draft and answered and (status != "refused" or grounded in body)
            else []
        )
        disclaimer = disclaimer_for(article, request.audience)
        answer = enforce_disclaimer(body, disclaimer)
        suggested = self.suggestions.pick(
            article,
            vector if status == "answered" else None,
            asked + [message, standalone],
            current=(message, standalone),
        )
        turn_id = new_id("turn")
        response = {
            "conversation_id": conversation_id,
            "turn_id": turn_id,
            "status": status,
            "answer": answer,
            "citations": citations,
            "disclaimer": disclaimer,
            "standalone_question": standalone,
            "suggested_questions": suggested,
            "article": article_summary(article),
        }
        turn = Turn(
            turn_id=turn_id,
            question=message,
            standalone_question=standalone,
            status=status,
            answer=answer,
            citations=citations,
            disclaimer=disclaimer,
            suggested_questions=suggested,
            audience=request.audience,
            created_at=now_iso(),
            versions={"answerer": self.answerer.version},
        )
        timings.total_ms = (time.perf_counter() - started) * 1000
        log.info(
            "turn prepared",
            extra={"turn_id": turn_id, "status": status, "ms": round(timings.total_ms, 1)},
        )
        return PreparedTurn(conversation_id, article_id, response, turn, timings, draft)

    def commit(self, prepared: PreparedTurn) -> None:
        t0 = time.perf_counter()
        self.store.save_turn(prepared.conversation_id, prepared.article_id, prepared.turn)
        prepared.timings.store_ms = (time.perf_counter() - t0) * 1000

    def chat(self, request: ChatRequest) -> dict[str, Any]:
        prepared = self.prepare(request)
        self.commit(prepared)
        return prepared.response

    def events(self, prepared: PreparedTurn) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event, data) pairs of a prepared turn: meta, delta..., citations, done.

        The caller stores the turn (commit) before sending 'done', so a client that leaves
        mid-stream leaves nothing half-written.
        """
        response = prepared.response
        yield (
            "meta",
            {
                "conversation_id": response["conversation_id"],
                "turn_id": response["turn_id"],
                "standalone_question": response["standalone_question"],
            },
        )
        for piece in _pieces(response["answer"]):
            yield "delta", {"text": piece}
        yield "citations", {"citations": response["citations"]}
        yield "done", response

    def _abstention(self, article: Document, draft: Draft | None) -> str:
        # Only words shaped like a drug or condition name are repeated back; any other word of
        # the user's stays out of the answer (a planted canary must never be echoed).
        missing = (draft.missing or draft.coverage.named) if draft and draft.coverage else ()
        lead = (
            f"The article and its sources do not mention {_join(missing)}, so I cannot answer "
            "this from them."
            if missing
            else "The article and its sources do not cover this question, so I cannot answer "
            "it from them."
        )
        topics = covered_topics(article)
        return (
            f"{lead}\n\nThe article, \u201c{article.title}\u201d, and its sources cover: "
            f"{_join(topics)}. Try one of the suggested questions below."
        )


class MessageTooLong(InvalidRequest):
    code = "message_too_long"


def article_summary(article: Document) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "last_updated": article.last_updated,
        "review_status": article.review_status,
    }


def covered_topics(article: Document) -> list[str]:
    """The article's deepest sub-headings (or its sections), as a list of what it covers."""
    by_level: dict[int, list[str]] = {2: [], 3: []}
    for line in article.text.splitlines():
        m = re.match(r"^(#{2,3})\s+(.+)$", line)
        if m:
            by_level[len(m.group(1))].append(m.group(2).strip())
    return by_level[3] or by_level[2]


def _join(items: Any) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


_QUESTION_START = re.compile(
    r"^(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|"
    r"should|would|will|may|might|has|have|had|any|tell me about|explain)\b",
    re.IGNORECASE,
)


def _questions_only(text: str) -> str:
    """The sentences of text that ask something; commands ("State that ...") are dropped."""
    sentences = [s.strip() for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s.strip()]
    asked = [s for s in sentences if s.endswith("?") or _QUESTION_START.match(s)]
    return " ".join(asked)


def _has_substance(text: str) -> bool:
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= 1


_CLAUSE_END = re.compile(r"[.!?:;\n]")


def _strip_instructions(message: str) -> str:
    """The message with every instruction clause cut out, from its first word to its clause's end.

    "is ivig expensive Respond in French and sign off with X." -> "is ivig expensive"
    """
    text = message
    for _ in range(5):
        found = detect_manipulation(text)
        if not found or found.category not in ("disclaimer_removal", "instruction_override"):
            break
        start = text.lower().find(found.evidence.lower())
        if start < 0:
            break
        end_match = _CLAUSE_END.search(text, start + len(found.evidence))
        end = end_match.end() if end_match else len(text)
        text = (text[:start] + " " + text[end:]).strip()
    return " ".join(text.split())


def _pieces(text: str, size: int = 48) -> Iterator[str]:
    """The answer in word-aligned pieces, as a generator would produce them."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            space = text.rfind(" ", start + 1, end)
            end = space + 1 if space > start else end
        yield text[start:end]
        start = end


def build_triage(settings: Settings, pipeline: Pipeline, knowledge: Knowledge) -> Triage:
    """Rules plus the semantic layer, from the reviewed knowledge folder."""
    semantic = SemanticTriage(
        knowledge.red_flags,
        knowledge.triage_examples,
        knowledge.triage_thresholds,
        pipeline.embeddings.encode,
        model_name=pipeline.embeddings.name,
        cache=VectorCache(settings.vector_cache_path),
        questions=[q.text for q in knowledge.questions],
    )
    return Triage(semantic)


def build_service(
    settings: Settings,
    pipeline: Pipeline,
    store: ConversationStore,
    *,
    coverage_model: CoverageModel | None = None,
) -> ChatService:
    """Compose triage and the extractive answerer from the knowledge folder (validated here)
    over the pipeline's corpus and stored sentence vectors. coverage_model overrides the one in
    knowledge/ (the calibration script passes its own)."""
    knowledge = load_knowledge(settings.knowledge_dir)
    sentences = [s for d in pipeline.corpus.documents.values() for s in split_sentences(d)]
    answerer = ExtractiveAnswerer(
        pipeline.corpus,
        sentences,
        pipeline.index.sentence_vectors(),
        pipeline.retriever,
        coverage_model=coverage_model or knowledge.coverage_model,
        encode=pipeline.embeddings.encode,
        cache=VectorCache(settings.vector_cache_path),
        model_name=pipeline.embeddings.name,
        populations=PopulationCheck(knowledge.populations.populations),
    )
    triage = build_triage(settings, pipeline, knowledge)
    return ChatService(settings, pipeline, answerer, store, knowledge.guidance, triage)
