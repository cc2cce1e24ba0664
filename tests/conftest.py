"""Shared fixtures: the real packaged model (loaded once), settings in temp dirs, tiny corpora."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ivig_chat.config import Settings
from ivig_chat.embeddings import LocalSentenceEmbeddings, enforce_offline, packaged_model_path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


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


ARTICLE = """\
---
id: tiny-article
kind: article
title: Tiny article about drug Z
last_updated: 2025-01-02
review_status: draft
disclaimers:
  clinician: For professionals only.
  patient: Talk to your doctor or healthcare provider.
references:
  1: tiny-source
---
# Tiny article about drug Z

## Efficacy

- Drug Z lowered the relapse rate in one trial [ref:1]
- Doses were 0.4 g/kg/day for 5 days [ref:1] in that trial

## Safety

Headache was the most common side effect.
"""

SOURCE = """\
---
id: tiny-source
kind: source
articles: [tiny-article]
ref: 1
title: The drug Z trial
citation: "Doe J. The drug Z trial. J Tiny. 2020;1:1-2."
url: https://example.org/tiny
---
# The drug Z trial

## Findings

In the drug Z trial, 40 patients were randomised to drug Z or placebo.
The relapse rate fell from 1.2 to 0.6 with drug Z.
"""


def write_tiny_corpus(root: Path, article: str = ARTICLE, source: str = SOURCE) -> Path:
    """A two-document corpus under root/corpus; returns the corpus folder."""
    corpus = root / "corpus"
    (corpus / "articles").mkdir(parents=True, exist_ok=True)
    (corpus / "sources").mkdir(parents=True, exist_ok=True)
    (corpus / "articles" / "tiny-article.md").write_text(textwrap.dedent(article), "utf-8")
    (corpus / "sources" / "tiny-source.md").write_text(textwrap.dedent(source), "utf-8")
    return corpus


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return write_tiny_corpus(tmp_path)


# --- a real server on a loopback port --------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """`python -m ivig_chat serve` in a subprocess, on a free loopback port."""

    def __init__(self, data_dir: Path, corpus_dir: Path = CORPUS, **env: str) -> None:
        import os
        import subprocess
        import sys

        self.data_dir = data_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "IVIG_CHAT_DATA_DIR": str(data_dir),
            "IVIG_CHAT_CORPUS_DIR": str(corpus_dir),
            **env,
        }
        self.log = (data_dir.parent / f"server-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ivig_chat", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 180.0) -> LiveServer:
        import time

        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"server not ready after {timeout}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except Exception:
                self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One real server for the session, on the real corpus, with its own data dir."""
    server = LiveServer(tmp_path_factory.mktemp("live") / "data").wait_ready()
    yield server
    server.stop()
