"""Stored conversations: the turn records, the store protocol and its SQLite backend."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConversationNotFound, FeedbackLimit, InvalidRequest, TurnNotFound


@dataclass
class Turn:
    """One question and the answer the server gave, as stored."""

    turn_id: str
    question: str
    standalone_question: str
    status: str
    answer: str
    citations: list[dict[str, Any]]
    disclaimer: str
    suggested_questions: list[str]
    audience: str
    created_at: str
    versions: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "turn_id": self.turn_id,
            "question": self.question,
            "standalone_question": self.standalone_question,
            "status": self.status,
            "answer": self.answer,
            "citations": self.citations,
            "disclaimer": self.disclaimer,
            "suggested_questions": self.suggested_questions,
            "audience": self.audience,
            "created_at": self.created_at,
        }


@dataclass
class Conversation:
    id: str
    article_id: str
    audience: str
    turns: list[Turn]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "article_id": self.article_id,
            "audience": self.audience,
            "turns": [t.as_dict() for t in self.turns],
        }


class ConversationStore(Protocol):
    """What the chat service needs from a conversation database.

    `owner` is who created a conversation ("anonymous" or "key:<id>"). A method given an owner
    treats another owner's conversation, and its turns, as missing: a caller learns nothing
    about conversations that are not theirs. Without an owner (the CLI, evals) nothing is
    checked; conversations stored without one count as anonymous.
    """

    def get(self, conversation_id: str, *, owner: str | None = None) -> Conversation: ...
    def save_turn(
        self, conversation_id: str, article_id: str, turn: Turn, *, owner: str | None = None
    ) -> None: ...
    def add_feedback(
        self,
        turn_id: str,
        rating: str,
        comment: str | None,
        *,
        max_per_turn: int | None = None,
        owner: str | None = None,
    ) -> dict[str, Any]: ...
    def feedback_rows(self) -> list[dict[str, Any]]: ...
    def delete(self, conversation_id: str, *, owner: str | None = None) -> None: ...
    def purge(self, created_before: str) -> int: ...
    def close(self) -> None: ...


ANONYMOUS = "anonymous"


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    audience TEXT NOT NULL,
    created_at TEXT NOT NULL,
    owner TEXT
);
CREATE TABLE IF NOT EXISTS turns (
    turn_id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    turn_id TEXT NOT NULL REFERENCES turns(turn_id),
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT,
    created_at TEXT NOT NULL
);
"""


def open_database(path: Path) -> sqlite3.Connection:
    """One SQLite file in WAL mode, shareable across threads (callers serialise with a lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    return db


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.Lock) -> Iterator[sqlite3.Connection]:
    """One write transaction (BEGIN IMMEDIATE), serialised by the caller's lock; rolled back
    on any error."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


class SQLiteConversationStore:
    """Conversations in one SQLite file (WAL), safe to share across threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = open_database(self.path)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        # Deleted conversations are overwritten with zeros, not left in free pages of the file.
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(conversations)")}
        if "owner" not in columns:  # a database from before API keys: its rows are anonymous
            self._db.execute("ALTER TABLE conversations ADD COLUMN owner TEXT")

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db, self._lock)

    def get(self, conversation_id: str, *, owner: str | None = None) -> Conversation:
        with self._lock:
            row = self._db.execute(
                "SELECT id, article_id, audience, owner FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
            if row is None or not _owned(row[3], owner):
                raise ConversationNotFound(f"No conversation with id {conversation_id!r}.")
            payloads = self._db.execute(
                "SELECT payload FROM turns WHERE conversation_id = ? ORDER BY seq",
                (conversation_id,),
            ).fetchall()
        turns = [Turn(**json.loads(p[0])) for p in payloads]
        return Conversation(id=row[0], article_id=row[1], audience=row[2], turns=turns)

    def save_turn(
        self, conversation_id: str, article_id: str, turn: Turn, *, owner: str | None = None
    ) -> None:
        """Store a turn, creating its conversation (owned by `owner`) on first use, in one
        transaction. The owner never changes once the conversation exists."""
        payload = json.dumps(turn.__dict__, ensure_ascii=False)
        with self._tx() as db:
            db.execute(
                "INSERT INTO conversations (id, article_id, audience, created_at, owner) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET audience = excluded.audience",
                (conversation_id, article_id, turn.audience, turn.created_at, owner),
            )
            (seq,) = db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
            db.execute(
                "INSERT INTO turns (turn_id, conversation_id, seq, payload, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (turn.turn_id, conversation_id, seq, payload, turn.created_at),
            )

    def add_feedback(
        self,
        turn_id: str,
        rating: str,
        comment: str | None,
        *,
        max_per_turn: int | None = None,
        owner: str | None = None,
    ) -> dict[str, Any]:
        """Store one rating of a turn; FeedbackLimit once the turn holds max_per_turn."""
        if rating not in ("up", "down"):
            raise InvalidRequest("rating must be 'up' or 'down'")
        row = {
            "id": new_id("fb"),
            "turn_id": turn_id,
            "rating": rating,
            "comment": comment,
            "created_at": now_iso(),
        }
        with self._tx() as db:
            found = db.execute(
                "SELECT c.owner FROM turns t JOIN conversations c ON c.id = t.conversation_id "
                "WHERE t.turn_id = ?",
                (turn_id,),
            ).fetchone()
            if found is None or not _owned(found[0], owner):
                raise TurnNotFound(f"No turn with id {turn_id!r}.")
            if max_per_turn is not None:
                (count,) = db.execute(
                    "SELECT COUNT(*) FROM feedback WHERE turn_id = ?", (turn_id,)
                ).fetchone()
                if count >= max_per_turn:
                    raise FeedbackLimit(
                        f"This answer already has {count} ratings, the most it may hold."
                    )
            db.execute(
                "INSERT INTO feedback (id, turn_id, rating, comment, created_at) "
                "VALUES (:id, :turn_id, :rating, :comment, :created_at)",
                row,
            )
        return row

    def feedback_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT f.id, f.turn_id, t.conversation_id, f.rating, f.comment, f.created_at, "
                "t.payload FROM feedback f JOIN turns t ON t.turn_id = f.turn_id "
                "ORDER BY f.created_at"
            ).fetchall()
        out = []
        for fid, turn_id, conv, rating, comment, created, payload in rows:
            turn = json.loads(payload)
            out.append(
                {
                    "feedback_id": fid,
                    "created_at": created,
                    "conversation_id": conv,
                    "turn_id": turn_id,
                    "rating": rating,
                    "comment": comment or "",
                    "status": turn.get("status", ""),
                    "standalone_question": turn.get("standalone_question", ""),
                }
            )
        return out

    def delete(self, conversation_id: str, *, owner: str | None = None) -> None:
        """Delete a conversation with its turns and their feedback (the owner's only)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT owner FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None or not _owned(row[0], owner):
                raise ConversationNotFound(f"No conversation with id {conversation_id!r}.")
            _delete_conversations(db, "id = ?", (conversation_id,))
        self._checkpoint()

    def purge(self, created_before: str) -> int:
        """Delete every conversation started before this ISO time (with its turns and their
        feedback); returns how many. A conversation's turns are all newer than its start, so
        afterwards nothing stored is older than the cut-off."""
        with self._tx() as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM conversations WHERE created_at < ?", (created_before,)
            ).fetchone()
            _delete_conversations(db, "created_at < ?", (created_before,))
        self._checkpoint()
        return int(count)

    def _checkpoint(self) -> None:
        """Copy the write-ahead log into the file and empty it: deleted text leaves the WAL."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _delete_conversations(db: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> None:
    """Delete the conversations matching `where`, children first (foreign keys)."""
    chosen = f"SELECT id FROM conversations WHERE {where}"
    db.execute(
        "DELETE FROM feedback WHERE turn_id IN "
        f"(SELECT turn_id FROM turns WHERE conversation_id IN ({chosen}))",
        args,
    )
    db.execute(f"DELETE FROM turns WHERE conversation_id IN ({chosen})", args)
    db.execute(f"DELETE FROM conversations WHERE {where}", args)


def _owned(stored: str | None, caller: str | None) -> bool:
    """Whether a caller may see a conversation stored with this owner (None: no check)."""
    return caller is None or (stored or ANONYMOUS) == caller


# --- follow-up condensing -------------------------------------------------------------------
