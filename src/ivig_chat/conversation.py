"""Conversation history: a small store interface (SQLite by default) and follow-up condensing.

Condensing is deterministic and conservative: a self-contained question is kept as it is; a
follow-up ("and in progressive MS?", "how many patients were in it?") is rewritten from the
previous standalone question, replacing the pronoun or the changed population where it can.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from .errors import ConversationNotFound, InvalidRequest, TurnNotFound
from .textutil import STOPWORDS, normalise, words


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
    """What the chat service needs from a conversation database."""

    def get(self, conversation_id: str) -> Conversation: ...
    def save_turn(self, conversation_id: str, article_id: str, turn: Turn) -> None: ...
    def add_feedback(self, turn_id: str, rating: str, comment: str | None) -> dict[str, Any]: ...
    def feedback_rows(self) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    audience TEXT NOT NULL,
    created_at TEXT NOT NULL
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


class SQLiteConversationStore:
    """Conversations in one SQLite file (WAL), safe to share across threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get(self, conversation_id: str) -> Conversation:
        with self._lock:
            row = self._db.execute(
                "SELECT id, article_id, audience FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
            if row is None:
                raise ConversationNotFound(f"No conversation with id {conversation_id!r}.")
            payloads = self._db.execute(
                "SELECT payload FROM turns WHERE conversation_id = ? ORDER BY seq",
                (conversation_id,),
            ).fetchall()
        turns = [Turn(**json.loads(p[0])) for p in payloads]
        return Conversation(id=row[0], article_id=row[1], audience=row[2], turns=turns)

    def save_turn(self, conversation_id: str, article_id: str, turn: Turn) -> None:
        """Store a turn, creating its conversation on first use, in one transaction."""
        payload = json.dumps(turn.__dict__, ensure_ascii=False)
        with self._tx() as db:
            db.execute(
                "INSERT INTO conversations (id, article_id, audience, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET audience = excluded.audience",
                (conversation_id, article_id, turn.audience, turn.created_at),
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

    def add_feedback(self, turn_id: str, rating: str, comment: str | None) -> dict[str, Any]:
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
            if db.execute("SELECT 1 FROM turns WHERE turn_id = ?", (turn_id,)).fetchone() is None:
                raise TurnNotFound(f"No turn with id {turn_id!r}.")
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

    def close(self) -> None:
        with self._lock:
            self._db.close()


# --- follow-up condensing -------------------------------------------------------------------

_CONTINUATION = re.compile(
    r"^(?:and|but|also|so|then|what about|how about|same for|same in|and what about|"
    r"what if|ok(?:ay)?,? and|and for|and in)\b",
)
_ANAPHORA = re.compile(
    r"\b(?:it|its|it's|that|this|these|those|they|them|their|there|the same|the study|"
    r"the trial|the review|the paper|the meta-analysis|that study|that trial|this study|"
    r"this trial|he|she|the drug|the treatment|the dose|that dose|the results?|"
    r"(?:the|that|this) (?:\w+ ){1,2}(?:trial|study|review|paper))\b"
)
# Populations and settings a follow-up may swap ("and in progressive MS?"), most specific first.
_SETTINGS = [
    r"relapsing[- ]remitting(?: ms| multiple sclerosis)?|rrms",
    r"secondary progressive(?: ms| multiple sclerosis)?|spms",
    r"primary progressive(?: ms| multiple sclerosis)?|ppms",
    r"progressive(?: ms| multiple sclerosis)?",
    r"(?:acute )?relapses?|flare[- ]?ups?|attacks?",
    r"pregnan(?:cy|t)|breast[- ]?feeding|post[- ]?partum|postpartum",
    r"clinically isolated syndrome|cis",
    r"optic neuritis",
    r"children|kids|paediatric|pediatric",
]
_SETTING_PATTERNS = [re.compile(r"\b(?:" + p + r")\b") for p in _SETTINGS]
_RELAPSE = 4  # index of the relapse pattern: an outcome as often as a setting


def _settings_in(text: str) -> list[tuple[int, int, int]]:
    """(pattern index, start, end) of each population or setting named in text."""
    low = normalise(text)
    found: list[tuple[int, int, int]] = []
    for i, pattern in enumerate(_SETTING_PATTERNS):
        for m in pattern.finditer(low):
            if not any(s <= m.start() < e for _, s, e in found):
                found.append((i, m.start(), m.end()))
    return found


def _swap_setting(base: str, follow_up: str) -> str | None:
    """Put the follow-up's population in place of the previous question's, if both name one."""
    new = _settings_in(follow_up)
    old = _settings_in(base)
    if not new or not old or len(_content_words(follow_up)) > 4:
        return None
    populations = [o for o in old if o[0] != _RELAPSE] or old
    _, start, end = populations[0]
    replacement = re.sub(r"^(?:in|for|during|with|on)\s+", "", follow_up, flags=re.IGNORECASE)
    return f"{base[:start]}{replacement}{base[end:]}?"


# Named studies: "the AIMS trial", "Fazekas 1997", "the Cochrane review", "the meta-analysis".
_STUDY = re.compile(
    r"\b(?:(?:the )?[A-Z]{3,}[A-Za-z]* (?:trial|study)|[A-Z][a-zA-Z\u00c0-\u017f'-]+(?: (?:and|&) "
    r"[A-Z][a-zA-Z'-]+)? (?:19|20)\d\d|(?:the )?Cochrane review|(?:the )?meta-analysis|"
    r"(?:the )?(?:AIMS|ESIMS|PRIVIG)\b)"
)


def _content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and not w.isdigit()]


def is_follow_up(message: str, has_history: bool) -> bool:
    """Whether the message leans on the conversation to be understood."""
    if not has_history:
        return False
    text = normalise(message).strip()
    if _CONTINUATION.match(text):
        return True
    if _ANAPHORA.search(text) and not _STUDY.search(message):
        return True
    return len(_content_words(text)) <= 2 and "ivig" not in text


def _subject(history: Sequence[str]) -> str | None:
    """The study or topic the previous questions were about, if one is named."""
    for question in reversed(history):
        match = _STUDY.search(question)
        if match:
            return match.group(0)
    return None


_WRAPPED = re.compile(r"^.*? \(follow-up to: (.+)\)$")


def unwrap(standalone: str) -> str:
    """The question a "... (follow-up to: Q)" standalone question leans on, else itself."""
    match = _WRAPPED.match(standalone)
    return unwrap(match.group(1)) if match else standalone


def condense(message: str, history: Sequence[str]) -> str:
    """A standalone question for retrieval; self-contained questions come back unchanged.

    history: earlier standalone questions of the conversation, oldest first.
    """
    message = " ".join(message.split())
    if not is_follow_up(message, bool(history)):
        return message
    previous = unwrap(history[-1])
    subject = _subject(history)
    text = message.rstrip("?.! ")
    stripped = re.sub(
        r"^(?:and|but|also|so|then|what about|how about|same for|same in|and what about|"
        r"ok(?:ay)?,? and|and for|and in)\b[ ,]*",
        "",
        text,
        flags=re.IGNORECASE,
    ).strip()
    base = previous.rstrip("?.! ")
    swapped = _swap_setting(base, stripped)
    if swapped:
        return swapped
    new_study, old_study = _STUDY.search(stripped), _STUDY.search(base)
    if new_study and old_study and len(_content_words(stripped)) <= 4:
        return f"{base[: old_study.start()]}{new_study.group(0)}{base[old_study.end() :]}?"
    if subject and _ANAPHORA.search(normalise(text)):
        rewritten = re.sub(
            r"\b(?:it|that study|that trial|this study|this trial|the study|the trial|them|they)\b",
            subject,
            text,
            count=1,
            flags=re.IGNORECASE,
        )
        if rewritten != text:
            return rewritten + "?"
    # Otherwise keep the user's words and carry the previous question as context.
    return f"{stripped or text}? (follow-up to: {previous.rstrip('?.! ')}?)"
