"""The HTTP contract's error paths, in-process against a scripted service (tests/fakes.py).

Each bad request must come back as the documented status with {"error": {"code", "message"}}
and must not reach the service; a domain error raised by the service maps to its status.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fakes import FakeChatService, scripted
from ivig_chat.api import create_app
from ivig_chat.config import Settings
from ivig_chat.errors import ConversationNotFound


@pytest.fixture
def fake() -> FakeChatService:
    return FakeChatService()


@pytest.fixture
def client(fake: FakeChatService, tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(create_app(Settings(data_dir=tmp_path), lambda _: fake)) as test_client:
        assert test_client.get("/readyz").status_code == 200
        yield test_client


def error_of(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    return response.status_code, body["error"]["code"]


def test_a_scripted_answer_comes_back_as_the_chat_response(client, fake) -> None:  # type: ignore[no-untyped-def]
    fake.replies.append(scripted("Forty-two."))
    response = client.post("/v1/chat", json={"message": "what is it?"})
    assert response.status_code == 200
    assert response.json()["answer"] == "Forty-two."
    assert fake.requests[0].message == "what is it?"
    assert len(fake.store.saved) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b'{"message": 5}', 422),
        (b'{"message": "hi", "audience": "robot"}', 422),
        (b'{"audience": "patient"}', 422),
        (b"[]", 422),
    ],
)
def test_bad_bodies_are_refused_before_the_service(client, fake, body: bytes, status: int) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/v1/chat", content=body, headers={"Content-Type": "application/json"})
    assert error_of(response)[0] == status
    assert fake.requests == []


def test_a_message_over_the_limit_is_413(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/v1/chat", json={"message": "x" * 60})
    assert error_of(response) == (413, "message_too_long")


def test_a_body_over_the_byte_limit_is_413_before_parsing(client, fake) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/v1/chat", json={"message": "x" * 70_000})
    assert error_of(response) == (413, "payload_too_large")
    assert fake.requests == []


def test_an_unknown_conversation_is_404(client, fake) -> None:  # type: ignore[no-untyped-def]
    fake.replies = deque([ConversationNotFound("No conversation 'conv-x'.")])
    response = client.post("/v1/chat", json={"message": "hi", "conversation_id": "conv-x"})
    assert error_of(response) == (404, "conversation_not_found")


def test_the_stream_ends_with_done_and_stores_the_turn(client, fake) -> None:  # type: ignore[no-untyped-def]
    fake.replies.append(scripted("Streamed."))
    with client.stream("POST", "/v1/chat/stream", json={"message": "hi"}) as response:
        text = "".join(response.iter_text())
    events = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event:")]
    assert events == ["meta", "delta", "citations", "done"]
    assert len(fake.store.saved) == 1


def test_security_headers_and_no_store_on_what_holds_health_questions(client) -> None:  # type: ignore[no-untyped-def]
    chat = client.post("/v1/chat", json={"message": "hi"})
    health = client.get("/healthz")
    for response in (chat, health):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert chat.headers["Cache-Control"] == "no-store"
    assert client.get("/v1/conversations/conv-x").headers["Cache-Control"] == "no-store"
    assert "no-store" not in health.headers.get("Cache-Control", "")


def test_content_security_policy_api_and_page(client) -> None:  # type: ignore[no-untyped-def]
    api = client.post("/v1/chat", json={"message": "hi"})
    assert api.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "Content-Security-Policy" not in client.get("/docs").headers


def test_over_the_rate_is_429_json_with_retry_after(fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, anonymous_rate="2/minute")
    with TestClient(create_app(settings, lambda _: fake)) as client:
        assert [client.post("/v1/chat", json={"message": "hi"}).status_code for _ in "ab"] == [
            200,
            200,
        ]
        refused = client.post("/v1/chat", json={"message": "hi"})
        assert error_of(refused) == (429, "rate_limited")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["X-Content-Type-Options"] == "nosniff"
        assert len(fake.requests) == 2  # the refused one never reached the service
        assert client.get("/v1/articles").status_code == 429  # one count for all of /v1/
        assert client.get("/healthz").status_code == 200  # probes are never limited


def test_rate_limits_off_lets_everything_through(fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, anonymous_rate="1/minute", rate_limits=False)
    with TestClient(create_app(settings, lambda _: fake)) as client:
        codes = {client.post("/v1/chat", json={"message": "hi"}).status_code for _ in range(5)}
    assert codes == {200}


def test_a_body_that_never_ends_gets_408_before_the_app() -> None:
    import asyncio
    import threading

    from ivig_chat.api.middleware import BodyLimit

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        raise AssertionError("the app must not run")

    async def trickle() -> dict[str, object]:
        await asyncio.sleep(0.02)  # a few bytes now and then: the deadline is for the whole body
        return {"type": "http.request", "body": b"x", "more_body": True}

    sent: list[dict[str, object]] = []

    async def send(message) -> None:  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {"type": "http", "headers": [(b"content-length", b"100")]}
    # In a thread of its own: an earlier test (the browser driver) may leave an event loop
    # running in this one, and asyncio.run refuses to nest.
    worker = threading.Thread(
        target=lambda: asyncio.run(BodyLimit(app, limit=1000, timeout=0.2)(scope, trickle, send))
    )
    worker.start()
    worker.join(timeout=10)
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]  # type: ignore[operator]
    assert b"request_timeout" in sent[1]["body"]  # type: ignore[operator]


def test_openapi_states_the_message_bounds_and_the_stream_media_type(fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, max_message_chars=1234)
    with TestClient(create_app(settings, lambda _: fake)) as client:
        schema = client.get("/openapi.json").json()
    message = schema["components"]["schemas"]["ChatIn"]["properties"]["message"]
    assert (message["minLength"], message["maxLength"]) == (1, 1234)
    stream = schema["paths"]["/v1/chat/stream"]["post"]["responses"]["200"]["content"]
    assert list(stream) == ["text/event-stream"]


def test_head_is_served_wherever_get_is(client) -> None:  # type: ignore[no-untyped-def]
    get, head = client.get("/healthz"), client.head("/healthz")
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    refused = client.put("/healthz")
    assert refused.status_code == 405
    assert "HEAD" in refused.headers["Allow"] and "GET" in refused.headers["Allow"]
