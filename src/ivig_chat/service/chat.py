"""The chat service: one turn from message to stored, disclaimed, cited response.

A turn is a fixed sequence of named stages over one TurnState (see ChatService.prepare):

    open -> screen -> understand -> embed -> triage -> answer -> decide -> word -> respond

then commit stores it. Each stage reads what the earlier ones left in the state and adds its
own part; none reaches back into the request or looks the article up again.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..answer.base import Answerer, Draft
from ..answer.plain import gloss
from ..config import Settings
from ..conversation import ConversationStore, Turn, condense, new_id, now_iso, topic_of
from ..conversation.condense import study_acronyms
from ..corpus import Corpus, Document, Scope
from ..disclaimer import disclaimer_for, enforce_disclaimer
from ..errors import ConversationFull, InvalidRequest
from ..knowledge import Glossary, Guidance
from ..pipeline import Pipeline
from ..safety import (
    Manipulation,
    ManipulationDetector,
    RedFlag,
    Triage,
    detect_manipulation,
    question_without_instructions,
)
from ..safety.manipulation_meaning import ManipulationByMeaning
from ..types import AUDIENCES, ArticleSummary, ChatRequest, ChatResponse, Citation
from .decision import Decision, decide
from .suggestions import SuggestionPicker

log = logging.getLogger(__name__)


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
class TurnState:
    """Everything one turn knows, filled in stage by stage."""

    request: ChatRequest
    conversation_id: str
    scope: Scope  # the article and its documents, resolved once, in the first stage
    message: str  # the user's words, whitespace collapsed
    history: list[str] = field(default_factory=list)  # earlier standalone questions
    topics: list[str | None] = field(default_factory=list)  # the study each earlier turn was about
    asked: list[str] = field(default_factory=list)  # earlier questions, as asked and understood
    context: frozenset[str] = frozenset()  # documents the previous answer cited
    manipulation: Manipulation | None = None
    question: str = ""  # what is to be answered (instructions cut out)
    wants_answer: bool = False
    standalone: str = ""  # the question made self-contained; shown to the user
    embedded: dict[str, np.ndarray] = field(default_factory=dict)
    vector: np.ndarray | None = None  # the standalone question's embedding
    triage_texts: list[str] = field(default_factory=list)
    screen_texts: list[str] = field(default_factory=list)  # sentences judged for manipulation
    red_flag: RedFlag | None = None
    draft: Draft | None = None
    decision: Decision | None = None
    body: str = ""
    citations: list[Citation] = field(default_factory=list)
    disclaimer: str = ""
    timings: Timings = field(default_factory=Timings)

    @property
    def article(self) -> Document:
        return self.scope.article

    @property
    def article_id(self) -> str:
        return self.scope.id


@dataclass
class PreparedTurn:
    """A finished response that has not been stored yet."""

    conversation_id: str
    article_id: str
    response: ChatResponse
    turn: Turn
    timings: Timings = field(default_factory=Timings)
    draft: Draft | None = None
    owner: str | None = None  # who the conversation belongs to (None: not checked, CLI)


class MessageTooLong(InvalidRequest):
    code = "message_too_long"


class ChatService:
    """Answers one message of a conversation; the API, the CLI and the evals all call it."""

    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline,
        answerer: Answerer,
        store: ConversationStore,
        guidance: Guidance,
        triage: Triage | None = None,
        glossary: Glossary | None = None,
        manipulation: ManipulationDetector | None = None,
        manipulation_by_meaning: ManipulationByMeaning | None = None,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.corpus: Corpus = pipeline.corpus
        self.encode = pipeline.embeddings.encode
        self.answerer = answerer
        self.store = store
        self.guidance = guidance
        self.glossary: dict[str, str] = dict(glossary.terms) if glossary else {}
        self.triage = triage or Triage()
        self.manipulation = manipulation
        self.manipulation_by_meaning = manipulation_by_meaning
        self.suggestions = SuggestionPicker(self.encode)
        self._acronyms: dict[str, frozenset[str]] = {}
        self._scopes: dict[str, Scope] = {}

    def warm(self) -> None:
        """Do on start-up what the first request would otherwise pay for."""
        for article in self.corpus.articles():
            self.answerer.warm(self.scope_of(article.id))
            self.pipeline.retriever.warm(self.scope_of(article.id))
            self.suggestions.for_article(article)
            self.acronyms(article)
        self.triage.warm()
        if self.manipulation_by_meaning is not None:
            self.manipulation_by_meaning.warm()
        self.encode(["warm up"])

    def scope_of(self, article_id: str) -> Scope:
        """The article and its documents (ArticleNotFound -> 404), resolved once per article."""
        if article_id not in self._scopes:
            self._scopes[article_id] = self.corpus.scope_of(article_id)
        return self._scopes[article_id]

    def acronyms(self, article: Document) -> frozenset[str]:
        """The study acronyms the article's corpus uses ("the ESIMS trial")."""
        if article.id not in self._acronyms:
            self._acronyms[article.id] = study_acronyms(
                [d.text for d in self.corpus.scope(article.id)], subject_names(article)
            )
        return self._acronyms[article.id]

    def validate(self, request: ChatRequest) -> None:
        if not has_text(request.message):
            raise InvalidRequest(
                "message must not be empty (or only spaces and invisible characters)"
            )
        if len(request.message) > self.settings.max_message_chars:
            raise MessageTooLong(
                f"message is {len(request.message)} characters; the limit is "
                f"{self.settings.max_message_chars}"
            )
        if request.audience not in AUDIENCES:
            raise InvalidRequest("audience must be 'clinician' or 'patient'")

    def prepare(self, request: ChatRequest, *, owner: str | None = None) -> PreparedTurn:
        """Everything for one turn except storing it: the stages in order.

        With an owner, a conversation_id of another owner is not found (404), as if missing.
        """
        started = time.perf_counter()
        state = self._open(request, owner)
        self._screen(state)
        self._understand(state)
        self._embed(state)
        self._screen_by_meaning(state)
        self._triage(state)
        self._answer(state)
        self._decide(state)
        self._word(state)
        prepared = self._respond(state)
        prepared.timings.total_ms = (time.perf_counter() - started) * 1000
        prepared.owner = owner
        log.info(
            "turn prepared",
            extra={
                "turn_id": prepared.turn.turn_id,
                "status": prepared.response.status,
                "ms": round(prepared.timings.total_ms, 1),
            },
        )
        return prepared

    # -- stages ------------------------------------------------------------------------------

    def _open(self, request: ChatRequest, owner: str | None = None) -> TurnState:
        """Validate; load the conversation (the caller's own) and resolve the article once."""
        self.validate(request)
        message = " ".join(request.message.split())
        if not request.conversation_id:
            scope = self.scope_of(request.article_id or self.settings.default_article)
            return TurnState(request, new_id("conv"), scope, message)
        # ConversationNotFound -> 404, also for another owner's conversation
        conversation = self.store.get(request.conversation_id, owner=owner)
        if len(conversation.turns) >= self.settings.max_turns_per_conversation:
            # Checked before any work; two racing requests may still both land (one over).
            raise ConversationFull(
                f"This conversation has reached its limit of "
                f"{self.settings.max_turns_per_conversation} questions; start a new conversation."
            )
        if request.article_id and request.article_id != conversation.article_id:
            raise InvalidRequest(
                f"conversation {request.conversation_id} is about article {conversation.article_id}"
            )
        scope = self.scope_of(conversation.article_id)  # ArticleNotFound -> 404
        article = scope.article
        history = [t.standalone_question for t in conversation.turns]
        acronyms = self.acronyms(article)
        topics = [
            topic_of(
                t.standalone_question, t.citations[0]["quote"] if t.citations else None, acronyms
            )
            for t in conversation.turns
        ]
        context = (
            frozenset(c["doc_id"] for c in conversation.turns[-1].citations)
            if conversation.turns
            else frozenset()
        )
        return TurnState(
            request,
            request.conversation_id,
            scope,
            message,
            history=history,
            topics=topics,
            asked=[t.question for t in conversation.turns] + history,
            context=context,
        )

    def _screen(self, state: TurnState) -> None:
        """Manipulation check: what, if anything, is left to answer."""
        state.manipulation = detect_manipulation(state.message, self.manipulation)
        state.question = state.message
        if state.manipulation and state.manipulation.category in (
            "disclaimer_removal",
            "instruction_override",
        ):
            # Answer what else was asked, if it is a question; never the instruction itself.
            state.question = question_without_instructions(state.message, self.manipulation)
        # Nothing is answered for a prompt-extraction attempt, nor for an instruction with no
        # question left once the instruction is cut out.
        state.wants_answer = bool(state.question) and not (
            state.manipulation and state.manipulation.category == "prompt_extraction"
        )

    def _understand(self, state: TurnState) -> None:
        """A follow-up becomes a standalone question from the conversation so far."""
        t0 = time.perf_counter()
        state.standalone = (
            condense(
                state.question,
                state.history,
                state.topics,
                subject=subject_names(state.article),
                acronyms=self.acronyms(state.article),
            )
            if state.question
            else state.message
        )
        state.timings.condense_ms = (time.perf_counter() - t0) * 1000

    def _embed(self, state: TurnState) -> None:
        """One batched model call: the standalone question, the message's clauses for triage
        and whatever the answerer will weigh."""
        if not _has_substance(state.standalone):
            return
        t0 = time.perf_counter()
        state.triage_texts = self.triage.texts(state.message)
        if self.manipulation_by_meaning is not None and state.manipulation is None:
            state.screen_texts = self.manipulation_by_meaning.texts(state.message)
        answer_texts = (
            self.answerer.texts_to_embed(
                state.standalone, state.scope, in_conversation=bool(state.history)
            )
            if state.wants_answer
            else []
        )
        # A follow-up's own words say what kind of answer it wants ("did that one work?").
        own_words = (
            [state.question] if state.wants_answer and state.question != state.standalone else []
        )
        batch = list(
            dict.fromkeys(
                [
                    state.standalone,
                    *state.triage_texts,
                    *state.screen_texts,
                    *answer_texts,
                    *own_words,
                ]
            )
        )
        state.embedded = dict(zip(batch, self.encode(batch), strict=True))
        state.vector = state.embedded[state.standalone]
        state.timings.embed_ms = (time.perf_counter() - t0) * 1000

    def _screen_by_meaning(self, state: TurnState) -> None:
        """Manipulation the rules missed, judged by meaning on the embedded sentences: a
        prompt-extraction attempt gets nothing answered; other attempts are refused unless a
        real question is answered (the answerer never follows instructions)."""
        if self.manipulation_by_meaning is None or not state.screen_texts:
            return
        vectors = np.stack([state.embedded[t] for t in state.screen_texts])
        found = self.manipulation_by_meaning.assess(state.message, vectors)
        if found is None:
            return
        state.manipulation = found
        if found.category == "prompt_extraction":
            state.wants_answer = False

    def _triage(self, state: TurnState) -> None:
        """Red flags: the rules first, then the semantic layer on the embedded clauses."""
        vectors = (
            np.stack([state.embedded[t] for t in state.triage_texts])
            if state.triage_texts
            else None
        )
        state.red_flag = self.triage.assess(state.message, vectors)

    def _answer(self, state: TurnState) -> None:
        """The answerer's draft (coverage decided inside it), when there is a question."""
        vector = state.vector
        if not state.wants_answer or vector is None:
            return
        t0 = time.perf_counter()
        follow_up = state.standalone != state.question
        state.draft = self.answerer.answer(
            state.standalone,
            state.scope,
            vector,
            focus=state.question if follow_up else None,
            context=state.context if follow_up else frozenset(),
            in_conversation=bool(state.history),
            embedded=state.embedded,
        )
        state.timings.answer_ms = (time.perf_counter() - t0) * 1000
        state.timings.retrieve_ms = state.draft.retrieve_ms
        if state.draft.understood and state.draft.understood != state.standalone:
            state.standalone = state.draft.understood  # what was understood is what is shown

    def _decide(self, state: TurnState) -> None:
        state.decision = decide(
            red_flag=state.red_flag,
            manipulation=state.manipulation,
            draft=state.draft,
            article=state.article,
            audience=state.request.audience,
            guidance=self.guidance,
            refusals=self.manipulation,
        )
        if state.decision.status == "refused":
            state.standalone = (
                state.message
            )  # the instruction was not followed; show what was asked

    def _word(self, state: TurnState) -> None:
        """Wording for the audience, citations and the disclaimer the server enforces."""
        assert state.decision is not None
        body = state.decision.body
        if state.request.audience == "patient":
            body = gloss(body, self.glossary)
        if state.decision.cites and state.draft is not None:
            state.citations = [c.public() for c in state.draft.citations]
        state.disclaimer = disclaimer_for(state.article, state.request.audience)
        state.body = enforce_disclaimer(body, state.disclaimer)

    def _respond(self, state: TurnState) -> PreparedTurn:
        """Suggested next questions, the response and the turn to store."""
        assert state.decision is not None
        status = state.decision.status
        suggested = self.suggestions.pick(
            state.article,
            state.vector if status == "answered" else None,
            state.asked + [state.message, state.standalone],
            current=(state.message, state.standalone),
        )
        response = ChatResponse(
            conversation_id=state.conversation_id,
            turn_id=new_id("turn"),
            status=status,
            answer=state.body,
            citations=state.citations,
            disclaimer=state.disclaimer,
            standalone_question=state.standalone,
            suggested_questions=suggested,
            article=article_summary(state.article),
        )
        turn = Turn(
            turn_id=response.turn_id,
            question=state.message,
            standalone_question=state.standalone,
            status=status,
            answer=response.answer,
            citations=[c.model_dump() for c in response.citations],
            disclaimer=response.disclaimer,
            suggested_questions=suggested,
            audience=state.request.audience,
            created_at=now_iso(),
            versions={"answerer": self.answerer.version},
        )
        return PreparedTurn(
            state.conversation_id, state.article_id, response, turn, state.timings, state.draft
        )

    # -- storing and streaming ---------------------------------------------------------------

    def commit(self, prepared: PreparedTurn) -> None:
        t0 = time.perf_counter()
        self.store.save_turn(
            prepared.conversation_id, prepared.article_id, prepared.turn, owner=prepared.owner
        )
        prepared.timings.store_ms = (time.perf_counter() - t0) * 1000

    def chat(self, request: ChatRequest, *, owner: str | None = None) -> ChatResponse:
        prepared = self.prepare(request, owner=owner)
        self.commit(prepared)
        return prepared.response

    def events(self, prepared: PreparedTurn) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event, data) pairs of a prepared turn: meta, delta..., citations, done.

        The caller stores the turn (commit) before sending 'done', so a client that leaves
        mid-stream leaves nothing half-written.
        """
        response = prepared.response.as_dict()
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


def article_summary(article: Document) -> ArticleSummary:
    return ArticleSummary(
        id=article.id,
        title=article.title,
        last_updated=article.last_updated,
        review_status=article.review_status,
    )


def has_text(message: str) -> bool:
    """Whether the message holds anything visible: whitespace and format characters (zero-width
    spaces and joiners, the byte-order mark, direction marks) do not count."""
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in message)


def subject_names(article: Document) -> list[str]:
    """How the article names its subject (front matter `subject`), e.g. ["IVIG", ...]."""
    return [str(s) for s in article.meta.get("subject") or []]


def _has_substance(text: str) -> bool:
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= 1


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
