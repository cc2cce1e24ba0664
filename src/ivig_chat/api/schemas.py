"""Request and response bodies of the HTTP contract (see README, API)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr

from ..types import Audience, ChatResponse

__all__ = ["ChatIn", "ChatResponse", "DocumentOut", "ErrorBody", "ErrorOut", "FeedbackIn"]


def _encodable(value: str) -> str:
    """JSON may carry a lone surrogate (\\ud800); it is not text and cannot be stored or shown."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from None
    return value


Text = Annotated[StrictStr, AfterValidator(_encodable)]


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: Text
    conversation_id: Text | None = None
    article_id: Text | None = None
    audience: Audience = "clinician"


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    turn_id: Text
    rating: Literal["up", "down"]
    comment: Text | None = None


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
