"""Rate limits in isolation: the limiter, the address they count and the settings' defaults."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from fakes import FakeChatService
from ivig_chat.api import create_app
from ivig_chat.api.app import loggable_path
from ivig_chat.api.middleware import Guard
from ivig_chat.api.ratelimit import RateLimiter, client_address
from ivig_chat.config import Settings
from ivig_chat.errors import IvigChatError


def test_the_limit_refuses_the_next_request_and_says_when_to_retry() -> None:
    limiter = RateLimiter()
    assert [limiter.check("addr:a", "3/minute") for _ in range(3)] == [None, None, None]
    retry_after = limiter.check("addr:a", "3/minute")
    assert retry_after is not None and 55 <= retry_after <= 60
    assert limiter.check("addr:b", "3/minute") is None  # each caller has its own count


def test_every_limit_of_a_rate_counts() -> None:
    limiter = RateLimiter()
    assert limiter.check("k", "100/minute;2/hour") is None
    assert limiter.check("k", "100/minute;2/hour") is None
    retry_after = limiter.check("k", "100/minute;2/hour")
    assert retry_after is not None and retry_after > 3000  # the hourly one refused it


def test_the_window_moves_on() -> None:
    limiter = RateLimiter()
    assert limiter.check("k", "1/second") is None
    retry_after = limiter.check("k", "1/second")
    assert retry_after == 1
    time.sleep(1.05)
    assert limiter.check("k", "1/second") is None


def test_switched_off_nothing_is_counted() -> None:
    limiter = RateLimiter(enabled=False)
    assert all(limiter.check("k", "1/hour") is None for _ in range(50))


def test_the_default_never_limits_a_person_chatting() -> None:
    """A question a second for a whole minute (far faster than anyone reads the answers)
    passes the default anonymous rate; only the request after that is refused."""
    rate = Settings().anonymous_rate
    limiter = RateLimiter()
    assert all(limiter.check("addr:person", rate) is None for _ in range(60))
    assert limiter.check("addr:person", rate) is not None


@pytest.mark.parametrize(
    ("client", "counted_as"),
    [
        (("203.0.113.7", 5000), "203.0.113.7"),
        (("2001:db8:1:2:aaaa::1", 5000), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:bbbb::9", 5000), "2001:db8:1:2::/64"),  # same /64: same count
        (("::ffff:203.0.113.7", 5000), "203.0.113.7"),
        (None, "unknown"),
    ],
)
def test_client_address(client: tuple[str, int] | None, counted_as: str) -> None:
    assert client_address({"type": "http", "client": client}) == counted_as


@pytest.mark.parametrize("value", ["lots", "", "10 per fortnight"])
def test_a_bad_rate_is_refused_at_start_up(value: str) -> None:
    with pytest.raises(ValidationError, match="is not a rate"):
        Settings(anonymous_rate=value)


@pytest.mark.parametrize(("raw", "on"), [("off", False), ("on", True), ("false", False)])
def test_rate_limits_switch(raw: str, on: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVIG_CHAT_RATE_LIMITS", raw)
    assert Settings().rate_limits is on


def test_an_unusable_storage_is_refused_at_start_up() -> None:
    with pytest.raises(IvigChatError, match="IVIG_CHAT_RATE_LIMIT_STORAGE='nope://x'"):
        RateLimiter("nope://x")


def test_requests_pass_when_the_counters_fail(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    """A shared storage that is down must not take the API down with it."""

    class Broken(RateLimiter):
        def check(self, identity: str, rate: str) -> int | None:
            raise ConnectionError("redis is down")

    app = create_app(Settings(data_dir=tmp_path), lambda _: FakeChatService())
    with TestClient(app) as client:
        guard = client.app.middleware_stack  # type: ignore[attr-defined]
        while not isinstance(guard, Guard):
            guard = guard.app
        guard.limiter = Broken()
        assert client.post("/v1/chat", json={"message": "hi"}).status_code == 200
    assert "rate-limit storage failed" in caplog.text


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/v1/conversations/conv_0123abcd", "/v1/conversations/{id}"),
        ("/v1/conversations/conv_0123abcd/extra", "/v1/conversations/{id}/extra"),
        ("/v1/chat", "/v1/chat"),
    ],
)
def test_conversation_ids_are_masked_in_request_logs(path: str, logged: str) -> None:
    assert loggable_path(path) == logged
