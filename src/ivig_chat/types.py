"""The shapes of a turn shared by the service, the API, the CLI and the evals (one definition).

Importing this module loads pydantic only: no model, torch or Chroma.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel

Audience = Literal["clinician", "patient"]
Status = Literal["answered", "abstained", "urgent", "refused"]

AUDIENCES: tuple[str, ...] = get_args(Audience)
STATUSES: tuple[str, ...] = get_args(Status)


@dataclass(frozen=True)
class ChatRequest:
    """One message of a conversation, as the service receives it."""

    message: str
    conversation_id: str | None = None
    article_id: str | None = None
    audience: Audience = "clinician"


class Citation(BaseModel):
    """A numbered citation: a verbatim quote of the cited document."""

    n: int
    doc_id: str
    ref: int | None
    title: str
    section: str | None
    quote: str
    url: str | None


class ArticleSummary(BaseModel):
    id: str
    title: str
    last_updated: str | None
    review_status: str | None


class ChatResponse(BaseModel):
    """What one turn returns: the body of /v1/chat and of the stream's 'done' event."""

    conversation_id: str
    turn_id: str
    status: Status
    answer: str
    citations: list[Citation]
    disclaimer: str
    standalone_question: str
    suggested_questions: list[str]
    article: ArticleSummary

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
