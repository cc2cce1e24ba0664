"""Conversations: stored turns (store) and follow-up understanding (condense)."""

from .condense import condense, is_follow_up, study_acronyms, topic_of, unwrap
from .store import (
    ANONYMOUS,
    Conversation,
    ConversationStore,
    SQLiteConversationStore,
    Turn,
    new_id,
    now_iso,
)

__all__ = [
    "ANONYMOUS",
    "Conversation",
    "ConversationStore",
    "SQLiteConversationStore",
    "Turn",
    "condense",
    "is_follow_up",
    "new_id",
    "now_iso",
    "study_acronyms",
    "topic_of",
    "unwrap",
]
