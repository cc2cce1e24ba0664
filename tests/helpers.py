"""Test helpers shared by unit, integration and e2e tests: a tiny corpus and a live server.

Kept out of conftest.py so tests import them by a name of their own (`from helpers import ...`):
tests/ is not a package, and several conftest.py files would otherwise shadow each other.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from ivig_chat.conversation import Turn

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
KNOWLEDGE = REPO / "knowledge"


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
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log = (data_dir.parent / f"server-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ivig_chat",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
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


def make_turn(n: int, audience: str = "clinician", **overrides: object) -> Turn:
    values: dict[str, object] = {
        "turn_id": f"turn_{n}",
        "question": f"question {n}?",
        "standalone_question": f"standalone question {n}?",
        "status": "answered",
        "answer": f"Answer {n}. [1]\n\n---\n\nDisclaimer.",
        "citations": [
            {
                "n": 1,
                "doc_id": "ivig-ms",
                "ref": None,
                "title": "T",
                "section": "S",
                "quote": f"quote {n} \u2013 0.4 g/kg \u00d7 5",
                "url": None,
            }
        ],
        "disclaimer": "Disclaimer.",
        "suggested_questions": ["Q1?", "Q2?"],
        "audience": audience,
        "created_at": f"2025-01-01T00:00:0{n}.000+00:00",
        "versions": {"answerer": "extractive-1"},
    }
    values.update(overrides)
    return Turn(**values)  # type: ignore[arg-type]
