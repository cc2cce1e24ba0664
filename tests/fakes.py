"""Fakes for unit tests that need isolation: a scripted chat service behind the real app.

FakeChatService answers from a queue of scripted replies (or raises a scripted domain error),
so the HTTP layer (validation, error mapping, streaming order) is tested in-process without the
model, Chroma or a subprocess. The integration tests cover the same routes on the real service.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ivig_chat.conversation import Turn, new_id, now_iso
from ivig_chat.errors import ConversationNotFound, IvigChatError
from ivig_chat.service import MessageTooLong, PreparedTurn, Timings
from ivig_chat.types import AUDIENCES, ArticleSummary, ChatRequest, ChatResponse

ARTICLE = ArticleSummary(
    id="fake-article", title="A fake article", last_updated=None, review_status=None
)


def scripted(answer: str = "A scripted answer.", status: str = "answered") -> ChatResponse:
    return ChatResponse(
        conversation_id=new_id("conv"),
        turn_id=new_id("turn"),
        status=status,  # type: ignore[arg-type]
        answer=answer,
        citations=[],
        disclaimer="Not medical advice.",
        standalone_question="scripted",
        suggested_questions=[],
        article=ARTICLE,
    )


class _FakeStore:
    def __init__(self) -> None:
        self.saved: list[tuple[str, str, Turn]] = []
        self.owners: list[str | None] = []

    def get(self, conversation_id: str, *, owner: str | None = None) -> Any:
        raise ConversationNotFound(f"No conversation {conversation_id!r}.")

    def save_turn(
        self, conversation_id: str, article_id: str, turn: Turn, *, owner: str | None = None
    ) -> None:
        self.saved.append((conversation_id, article_id, turn))
        self.owners.append(owner)

    def close(self) -> None:
        pass


@dataclass
class FakeChatService:
    """Replies from `replies` in order; an exception in the queue is raised instead."""

    replies: deque[ChatResponse | IvigChatError] = field(default_factory=deque)
    max_message_chars: int = 50
    requests: list[ChatRequest] = field(default_factory=list)
    store: _FakeStore = field(default_factory=_FakeStore)

    def prepare(self, request: ChatRequest, *, owner: str | None = None) -> PreparedTurn:
        if len(request.message) > self.max_message_chars:
            raise MessageTooLong(f"message is {len(request.message)} characters")
        if request.audience not in AUDIENCES:
            raise IvigChatError("the API let an unknown audience through")
        self.requests.append(request)
        reply = self.replies.popleft() if self.replies else scripted()
        if isinstance(reply, IvigChatError):
            raise reply
        turn = Turn(
            turn_id=reply.turn_id,
            question=request.message,
            standalone_question=reply.standalone_question,
            status=reply.status,
            answer=reply.answer,
            citations=[],
            disclaimer=reply.disclaimer,
            suggested_questions=[],
            audience=request.audience,
            created_at=now_iso(),
        )
        return PreparedTurn(reply.conversation_id, ARTICLE.id, reply, turn, Timings(), owner=owner)

    def commit(self, prepared: PreparedTurn) -> None:
        self.store.save_turn(
            prepared.conversation_id, prepared.article_id, prepared.turn, owner=prepared.owner
        )

    def chat(self, request: ChatRequest, *, owner: str | None = None) -> ChatResponse:
        prepared = self.prepare(request, owner=owner)
        self.commit(prepared)
        return prepared.response

    def events(self, prepared: PreparedTurn) -> Iterator[tuple[str, dict[str, Any]]]:
        response = prepared.response.as_dict()
        yield "meta", {"conversation_id": response["conversation_id"]}
        yield "delta", {"text": response["answer"]}
        yield "citations", {"citations": []}
        yield "done", response
