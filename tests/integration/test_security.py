"""Abuse limits against a real `python -m ivig_chat serve` on loopback (tiny corpus).

The server runs with small limits so that each test reaches them in a few requests. Each test
talks from its own loopback address (127.0.0.0/8 is all local) so that the per-address counts
of one test never spill into another.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chat_invariants import assert_error

from helpers import LiveServer, write_tiny_corpus

pytestmark = pytest.mark.integration

ANONYMOUS_RATE = "5/3 seconds"
MAX_TURNS = 3
MAX_FEEDBACK = 2
QUESTION = "Did drug Z lower the relapse rate?"
_addresses = (f"127.0.{n // 250}.{n % 250 + 2}" for n in itertools.count())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder: Path = tmp_path_factory.mktemp("security")
    live = LiveServer(
        folder / "data",
        corpus_dir=write_tiny_corpus(folder),
        IVIG_CHAT_DEFAULT_ARTICLE="tiny-article",
        IVIG_CHAT_ANONYMOUS_RATE=ANONYMOUS_RATE,
        IVIG_CHAT_MAX_TURNS_PER_CONVERSATION=str(MAX_TURNS),
        IVIG_CHAT_MAX_FEEDBACK_PER_TURN=str(MAX_FEEDBACK),
    )
    try:
        yield live.wait_ready()
    finally:
        live.stop()


@pytest.fixture
def connect(server: LiveServer) -> Iterator[Any]:
    """connect() -> an httpx client talking from a loopback address no other test uses."""
    clients: list[httpx.Client] = []

    def make(address: str | None = None) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=address or next(_addresses))
        client = httpx.Client(base_url=server.base_url, transport=transport, timeout=30)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_anonymous_callers_are_limited_per_address(connect: Any) -> None:
    one, other = connect(), connect()
    codes = [one.get("/v1/articles").status_code for _ in range(5)]
    assert codes == [200] * 5
    refused = one.get("/v1/articles")
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 3
    assert_error(one.post("/v1/chat", json={"message": QUESTION}), 429, "rate_limited")
    assert other.get("/v1/articles").status_code == 200  # another address, its own count
    assert one.get("/healthz").status_code == 200  # probes are never limited


def test_a_forwarded_for_header_does_not_buy_a_new_count(connect: Any) -> None:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; serve turns that off unless
    IVIG_CHAT_FORWARDED_ALLOW_IPS names a proxy, so the header cannot pick the address."""
    client = connect("127.0.0.1")
    codes = [
        client.get("/v1/articles", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(8)
    ]
    assert codes.count(429) >= 3, codes


def test_a_conversation_holds_at_most_its_turns(connect: Any) -> None:
    client = connect()
    first = client.post("/v1/chat", json={"message": QUESTION})
    assert first.status_code == 200, first.text
    conversation_id = first.json()["conversation_id"]
    for _ in range(MAX_TURNS - 1):
        more = client.post(
            "/v1/chat", json={"message": "and the dose?", "conversation_id": conversation_id}
        )
        assert more.status_code == 200, more.text
    full = client.post(
        "/v1/chat/stream", json={"message": "and the dose?", "conversation_id": conversation_id}
    )
    assert_error(full, 409, "conversation_full")
    assert "new conversation" in full.json()["error"]["message"]
    turns = client.get(f"/v1/conversations/{conversation_id}").json()["turns"]
    assert len(turns) == MAX_TURNS


def test_an_answer_takes_at_most_its_feedback(connect: Any) -> None:
    client = connect()
    turn_id = client.post("/v1/chat", json={"message": QUESTION}).json()["turn_id"]
    for rating in ("up", "down"):
        assert (
            client.post("/v1/feedback", json={"turn_id": turn_id, "rating": rating}).status_code
            == 201
        )
    over = client.post("/v1/feedback", json={"turn_id": turn_id, "rating": "up"})
    assert_error(over, 409, "feedback_limit")
