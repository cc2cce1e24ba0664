"""Shared fixtures: the real packaged model (loaded once), settings in temp dirs, tiny corpora."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import CORPUS, LiveServer, write_tiny_corpus
from ivig_chat.config import Settings
from ivig_chat.embeddings import LocalSentenceEmbeddings, enforce_offline, packaged_model_path


@pytest.fixture(scope="session")
def embeddings() -> LocalSentenceEmbeddings:
    """The real packaged all-MiniLM-L6-v2, loaded once per test session."""
    enforce_offline()
    model = LocalSentenceEmbeddings(packaged_model_path())
    model.encode(["warm up"])
    return model


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings whose data dir is a fresh temp folder; keyword overrides pass through."""

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "corpus_dir": CORPUS,
            "collection": "test_" + tmp_path.name[-20:].replace("-", "_").strip("_") or "test",
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return build


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return write_tiny_corpus(tmp_path)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One real server for the session, on the real corpus, with its own data dir.

    Rate limits are off: the suite sends hundreds of answers from one address within minutes,
    as an evaluation run does (tests/integration/test_security.py covers the limits).
    """
    server = LiveServer(
        tmp_path_factory.mktemp("live") / "data", IVIG_CHAT_RATE_LIMITS="off"
    ).wait_ready()
    yield server
    server.stop()
