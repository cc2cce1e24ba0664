"""Request and response bodies of the HTTP contract (see README, API)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictStr


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: StrictStr
    conversation_id: StrictStr | None = None
    article_id: StrictStr | None = None
    audience: Literal["clinician", "patient"] = "clinician"


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    turn_id: StrictStr
    rating: Literal["up", "down"]
    comment: StrictStr | None = None


class Citation(BaseModel):
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


class ChatOut(BaseModel):
    conversation_id: str
    turn_id: str
    status: Literal["answered", "abstained", "urgent", "refused"]
    answer: str
    citations: list[Citation]
    disclaimer: str
    standalone_question: str
    suggested_questions: list[str]
    article: ArticleSummary


class DocumentOut(BaseModel):
    id: str
    kind: str
    title: str
    ref: int | None
    citation: str | None
    url: str | None
    text: str


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody
