"""Domain errors; only the edges (API handlers, CLI) translate them.

IvigChatError
 ├── CorpusError          bad corpus input: names the file and the problem
 ├── NotFoundError        an unknown article, document or conversation
 │    ├── ArticleNotFound
 │    ├── DocumentNotFound
 │    ├── ConversationNotFound
 │    └── TurnNotFound
 ├── IndexNotReady        the index is missing or empty: run `ivig-chat ingest`
 ├── InvalidRequest       well-formed JSON that breaks a documented rule
 └── LimitReached         a cap on stored data (turns per conversation, feedback per turn)
      ├── ConversationFull
      └── FeedbackLimit
"""

from __future__ import annotations


class IvigChatError(Exception):
    """Base of every error this package raises on purpose."""

    code = "internal_error"


class CorpusError(IvigChatError):
    code = "corpus_error"

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class NotFoundError(IvigChatError):
    code = "not_found"


class ArticleNotFound(NotFoundError):
    code = "article_not_found"


class DocumentNotFound(NotFoundError):
    code = "document_not_found"


class ConversationNotFound(NotFoundError):
    code = "conversation_not_found"


class TurnNotFound(NotFoundError):
    code = "turn_not_found"


class IndexNotReady(IvigChatError):
    code = "index_not_ready"


class InvalidRequest(IvigChatError):
    code = "invalid_request"


class LimitReached(IvigChatError):
    """A cap on what one conversation may store: waiting does not help, so 409, not 429."""

    code = "limit_reached"


class ConversationFull(LimitReached):
    code = "conversation_full"


class FeedbackLimit(LimitReached):
    code = "feedback_limit"
