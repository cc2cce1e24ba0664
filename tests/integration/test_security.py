"""Abuse limits against a real `python -m ivig_chat serve` on loopback (tiny corpus).

The server runs with small limits so that each test reaches them in a few requests. Each test
talks from its own loopback address (127.0.0.0/8 is all local) so that the per-address counts
of one test never spill into another.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
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
TIMEOUT = 1  # seconds for a request's headers, and then for its body
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
        IVIG_CHAT_BODY_TIMEOUT_SECONDS=str(TIMEOUT),
        IVIG_CHAT_HEADER_TIMEOUT_SECONDS=str(TIMEOUT),
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


# --- API keys and ownership ------------------------------------------------------------------


def cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    """`ivig-chat ARGS` on the server's own database, as a maintainer runs it."""
    return subprocess.run(
        [sys.executable, "-m", "ivig_chat", *args],
        env={**os.environ, "IVIG_CHAT_DATA_DIR": str(server.data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def create_key(server: LiveServer, name: str, *extra: str) -> dict[str, str]:
    """A new key from `ivig-chat keys create`, as the Authorization header to send."""
    result = cli(server, "keys", "create", "--name", name, *extra)
    assert result.returncode == 0, result.stderr
    return {"Authorization": f"Bearer {result.stdout.strip()}"}


def test_conversations_belong_to_the_key_that_made_them(server: LiveServer, connect: Any) -> None:
    client = connect()
    alice, bob = create_key(server, "alice"), create_key(server, "bob")
    made = client.post("/v1/chat", json={"message": QUESTION}, headers=alice)
    assert made.status_code == 200, made.text
    conversation_id, turn_id = made.json()["conversation_id"], made.json()["turn_id"]
    path = f"/v1/conversations/{conversation_id}"
    assert client.get(path, headers=alice).status_code == 200
    follow_up = {"message": "and the dose?", "conversation_id": conversation_id}
    # another key, and anonymous (from an address of its own: 4 requests, under its rate)
    for caller, via in ((bob, client), ({}, connect())):
        assert_error(via.get(path, headers=caller), 404, "conversation_not_found")
        assert_error(
            via.post("/v1/chat", json=follow_up, headers=caller), 404, "conversation_not_found"
        )
        assert_error(
            via.post("/v1/chat/stream", json=follow_up, headers=caller),
            404,
            "conversation_not_found",
        )
        feedback = {"turn_id": turn_id, "rating": "down"}
        assert_error(via.post("/v1/feedback", json=feedback, headers=caller), 404, "turn_not_found")
    assert client.post("/v1/chat", json=follow_up, headers=alice).status_code == 200
    feedback = {"turn_id": turn_id, "rating": "up"}
    assert client.post("/v1/feedback", json=feedback, headers=alice).status_code == 201
    # ... and an anonymous conversation is not a key's to read.
    client = connect()
    anonymous = client.post("/v1/chat", json={"message": QUESTION}).json()["conversation_id"]
    assert client.get(f"/v1/conversations/{anonymous}").status_code == 200
    assert_error(
        client.get(f"/v1/conversations/{anonymous}", headers=alice), 404, "conversation_not_found"
    )


def test_keys_list_and_revoke_take_effect_at_once(server: LiveServer, connect: Any) -> None:
    client = connect()
    carol = create_key(server, "carol")
    assert client.get("/v1/articles", headers=carol).status_code == 200
    listed = cli(server, "keys", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    entry = next(k for k in json.loads(listed.stdout) if k["name"] == "carol")
    assert entry["revoked_at"] is None
    assert carol["Authorization"].split()[1] not in listed.stdout  # never the key itself
    revoked = cli(server, "keys", "revoke", "carol")
    assert revoked.returncode == 0, revoked.stderr
    refused = client.get("/v1/articles", headers=carol)
    assert_error(refused, 401, "invalid_api_key")
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(
        client.get("/v1/articles", headers={"Authorization": "Bearer ivk_guess"}),
        401,
        "invalid_api_key",
    )


def test_a_key_has_its_own_rate(server: LiveServer, connect: Any) -> None:
    client = connect()
    dave = create_key(server, "dave", "--rate", "2/minute")
    codes = [client.get("/v1/articles", headers=dave).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/v1/articles").status_code == 200  # the address is counted apart


def test_anonymous_use_can_be_switched_off(tmp_path: Path) -> None:
    live = LiveServer(
        tmp_path / "data",
        corpus_dir=write_tiny_corpus(tmp_path),
        IVIG_CHAT_DEFAULT_ARTICLE="tiny-article",
        IVIG_CHAT_ALLOW_ANONYMOUS="off",
    )
    try:
        live.wait_ready()
        erin = create_key(live, "erin")
        with httpx.Client(base_url=live.base_url, timeout=30) as client:
            assert_error(client.get("/v1/articles"), 401, "api_key_required")
            assert_error(
                client.post("/v1/chat", json={"message": QUESTION}), 401, "api_key_required"
            )
            assert (
                client.post("/v1/chat", json={"message": QUESTION}, headers=erin).status_code == 200
            )
            assert client.get("/readyz").status_code == 200
            spec = client.get("/openapi.json").json()
            assert spec["paths"]["/v1/chat"]["post"]["security"] == [{"ApiKey": []}]
    finally:
        live.stop()


# --- retention -------------------------------------------------------------------------------


def test_the_owner_deletes_a_conversation(server: LiveServer, connect: Any) -> None:
    client = connect()
    frank = create_key(server, "frank")
    made = client.post("/v1/chat", json={"message": QUESTION}, headers=frank).json()
    path = f"/v1/conversations/{made['conversation_id']}"
    assert_error(client.delete(path), 404, "conversation_not_found")  # not anonymous's
    deleted = client.delete(path, headers=frank)
    assert deleted.status_code == 204 and deleted.content == b""
    assert deleted.headers["Cache-Control"] == "no-store"
    assert_error(client.get(path, headers=frank), 404, "conversation_not_found")
    assert_error(client.delete(path, headers=frank), 404, "conversation_not_found")
    feedback = {"turn_id": made["turn_id"], "rating": "up"}
    assert_error(client.post("/v1/feedback", json=feedback, headers=frank), 404, "turn_not_found")


def test_purge_deletes_conversations_past_the_retention_period(
    server: LiveServer, connect: Any
) -> None:
    client = connect()
    old, new = (
        client.post("/v1/chat", json={"message": QUESTION}).json()["conversation_id"]
        for _ in range(2)
    )
    # Age one conversation by 40 days in the server's database, as time would.
    with sqlite3.connect(server.data_dir / "conversations.sqlite3", timeout=10) as db:
        db.execute(
            "UPDATE conversations SET created_at = ? WHERE id = ?",
            ("2000-01-01T00:00:00.000+00:00", old),
        )
    refused = cli(server, "purge")  # IVIG_CHAT_RETENTION_DAYS defaults to 0: keep everything
    assert refused.returncode == 2 and "retention is off" in refused.stderr
    purged = cli(server, "purge", "--days", "30")
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.startswith("deleted ")
    assert_error(client.get(f"/v1/conversations/{old}"), 404, "conversation_not_found")
    assert client.get(f"/v1/conversations/{new}").status_code == 200


# --- hardened HTTP ---------------------------------------------------------------------------


def read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    sock.settimeout(limit)
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"still open after {limit} s; got {received!r}") from None
        if not chunk:
            return received, time.monotonic() - started
        received += chunk


def raw_connection(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=5)


def test_a_stalled_body_gets_408_and_the_connection_closes(server: LiveServer) -> None:
    with raw_connection(server) as sock:
        sock.sendall(
            b"POST /v1/chat HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n" + b'{"mes'
        )
        received, elapsed = read_until_closed(sock, limit=TIMEOUT + 4)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), received
    assert json.loads(body)["error"]["code"] == "request_timeout"
    assert TIMEOUT * 0.9 <= elapsed <= TIMEOUT + 4


@pytest.mark.parametrize(
    "sent",
    [b"", b"POST /v1/chat HTTP/1.1\r\nHost: test\r\nContent-Le"],
    ids=["nothing", "half-the-headers"],
)
def test_stalled_headers_are_cut_off(server: LiveServer, sent: bytes) -> None:
    with raw_connection(server) as sock:
        sock.sendall(sent)
        received, elapsed = read_until_closed(sock, limit=TIMEOUT + 4)
    assert received == b""
    assert TIMEOUT * 0.9 <= elapsed <= TIMEOUT + 4


def test_a_keep_alive_connection_does_not_reset_the_header_deadline(server: LiveServer) -> None:
    """After one full request, a second one that stalls mid-headers is cut off too."""
    with raw_connection(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        first = b""
        while not first.endswith(b'{"status":"ok"}'):
            chunk = sock.recv(65536)
            assert chunk, first
            first += chunk
        assert first.startswith(b"HTTP/1.1 200"), first
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        received, elapsed = read_until_closed(sock, limit=TIMEOUT + 4)
    assert received == b"" and elapsed <= TIMEOUT + 4


def test_no_server_banner(connect: Any) -> None:
    response = connect().get("/healthz")
    assert response.status_code == 200
    assert "server" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v1/chat", "POST"),
        ("PUT", "/v1/feedback", "POST"),
        ("PUT", "/v1/conversations/conv_x", "DELETE, GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
    ],
)
def test_405_is_json_and_names_the_allowed_methods(
    connect: Any, method: str, path: str, allow: str
) -> None:
    response = connect().request(method, path)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow


def test_bytes_that_are_not_http_get_a_json_400(server: LiveServer) -> None:
    with raw_connection(server) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply, _ = read_until_closed(sock, 5)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == "bad_request"
