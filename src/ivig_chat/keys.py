"""API keys for integrators: created by `ivig-chat keys`, checked on every /v1/ request.

A key is 256 random bits shown once at creation; the database keeps only its SHA-256 hash.
A fast unsalted hash is enough here, unlike for passwords: nobody can guess or enumerate a
256-bit random token, so a slow, salted hash (bcrypt, argon2) would buy nothing and would cost
every request the time it is designed to waste. The hash lets the server find a key by an
indexed lookup, and a stolen copy of the database holds nothing that can be sent as a key.
Keys live in the conversations' database (same SQLite file, own table).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from .conversation.store import new_id, now_iso, open_database, transaction
from .errors import InvalidRequest, NotFoundError

TOKEN_PREFIX = "ivk_"
MAX_TOKEN_CHARS = 100  # a longer bearer token is refused without a lookup
MAX_NAME_CHARS = 64


class KeyNotFound(NotFoundError):
    code = "key_not_found"


@dataclass(frozen=True)
class ApiKey:
    """A key as stored: never the token itself."""

    id: str
    name: str
    prefix: str  # the token's first characters, to recognise it in `keys list`
    rate: str | None  # None: IVIG_CHAT_KEY_RATE
    created_at: str
    revoked_at: str | None = None

    @property
    def owner(self) -> str:
        """What conversations created with this key are stored as belonging to."""
        return f"key:{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class KeyStore(Protocol):
    """What the API and the CLI need from wherever keys are kept."""

    def create(self, name: str, rate: str | None = None) -> tuple[ApiKey, str]: ...
    def list(self) -> list[ApiKey]: ...
    def revoke(self, id_or_name: str) -> ApiKey: ...
    def authenticate(self, token: str) -> ApiKey | None: ...
    def close(self) -> None: ...


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    rate TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_active_name ON api_keys(name)
    WHERE revoked_at IS NULL;
"""
_COLUMNS = "id, name, prefix, rate, created_at, revoked_at"


class SQLiteKeyStore:
    """Keys in the conversations' SQLite file (WAL), safe to share across threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = open_database(self.path)
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db, self._lock)

    def create(self, name: str, rate: str | None = None) -> tuple[ApiKey, str]:
        """A new key named `name` (unique among active keys); returns it and its token."""
        from .config import check_rate

        name = name.strip()
        if not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
            raise InvalidRequest(f"a key name is 1-{MAX_NAME_CHARS} printable characters")
        if rate is not None:
            try:
                check_rate(rate)
            except ValueError as exc:
                raise InvalidRequest(str(exc)) from None
        token = new_token()
        key = ApiKey(new_id("key")[:16], name, token[:12], rate, now_iso())
        with self._tx() as db:
            try:
                db.execute(
                    f"INSERT INTO api_keys ({_COLUMNS}, token_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (*_row(key), token_hash(token)),
                )
            except sqlite3.IntegrityError:
                raise InvalidRequest(
                    f"an active key is already named {name!r}; revoke it or pick another name"
                ) from None
        return key, token

    def list(self) -> list[ApiKey]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at"
            ).fetchall()
        return [ApiKey(*row) for row in rows]

    def revoke(self, id_or_name: str) -> ApiKey:
        """Revoke the key with this id, or the active key with this name; at once."""
        with self._tx() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM api_keys WHERE id = ? "
                "OR (name = ? AND revoked_at IS NULL) ORDER BY id = ? DESC LIMIT 1",
                (id_or_name, id_or_name, id_or_name),
            ).fetchone()
            if row is None:
                raise KeyNotFound(f"No key with id or active name {id_or_name!r}; see keys list.")
            key = ApiKey(*row)
            if key.revoked_at is None:
                key = replace(key, revoked_at=now_iso())
                db.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE id = ?", (key.revoked_at, key.id)
                )
        return key

    def authenticate(self, token: str) -> ApiKey | None:
        """The active key this token is, or None (unknown, revoked or malformed)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_CHARS:
            return None
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM api_keys WHERE token_sha256 = ? AND revoked_at IS NULL",
                (token_hash(token),),
            ).fetchone()
        return ApiKey(*row) if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _row(key: ApiKey) -> tuple[Any, ...]:
    return (key.id, key.name, key.prefix, key.rate, key.created_at, key.revoked_at)
