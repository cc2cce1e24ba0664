"""The chat service: a turn as named stages (chat), its status decided by a pure function
(decision), and suggested next questions (suggestions)."""

from ..types import ChatRequest, ChatResponse
from .chat import ChatService, MessageTooLong, PreparedTurn, Timings, TurnState, article_summary
from .decision import Decision, covered_topics, decide

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "ChatService",
    "Decision",
    "MessageTooLong",
    "PreparedTurn",
    "Timings",
    "TurnState",
    "article_summary",
    "covered_topics",
    "decide",
]
