"""Pure-ASGI middleware of the API: the body limit and the guard (who calls, how often).

Both answer before the app runs, in the API's JSON error shape, so a refused request never
reaches validation, the service or the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings
from ..conversation.store import ANONYMOUS
from ..keys import KeyStore
from .ratelimit import RateLimiter, client_address

log = logging.getLogger(__name__)

GUARDED_PREFIX = "/v1/"


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape of the API: {"error": {"code", "message"}}."""
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message}},
        headers=headers,
    )


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS handling, with a refused preflight answered in the API's JSON error
    shape (400 cors_rejected) instead of plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        headers = {
            k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")
        }
        message = bytes(response.body).decode("utf-8", "replace")
        return error_response(400, "cors_rejected", message, headers or None)


class HeadAsGet:
    """HEAD on any GET route: answered as GET with the body dropped (headers, status and
    Content-Length kept), as HTTP asks; FastAPI's GET routes do not serve HEAD themselves."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class BodyLimit:
    """413 for a request body over `limit` bytes; 408 for one not received within `timeout`.

    The body is read here, declared (Content-Length) or chunked, and handed on to the app as if
    it had just arrived: a chunked body has no length up front, and a client that declares 100
    bytes and sends 6 would otherwise hold its connection (and a worker) for as long as it
    likes. The deadline is for the whole body, so a trickle of bytes does not renew it.
    """

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 5.0) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._reject(scope, receive, send)
            return
        if not chunked and (length is None or length.strip(b"0") == b""):
            await self.app(scope, receive, send)  # no body to wait for
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":  # the client left before the end
                        return
                    chunks.append(message.get("body", b""))
                    size += len(chunks[-1])
                    if size > self.limit or not message.get("more_body", False):
                        break
        except TimeoutError:
            log.info("request body timed out", extra={"received_bytes": size})
            response = error_response(
                408,
                "request_timeout",
                f"The request body did not arrive within {self.timeout:g} s.",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        if size > self.limit:
            await self._reject(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "payload_too_large", f"Request bodies are limited to {self.limit} bytes."
        )
        await response(scope, receive, send)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the owner of what they create, their rate-limit bucket and rate."""

    owner: str  # "anonymous" or "key:<key id>"; stored with each conversation
    bucket: str  # what the rate limit counts: "addr:<address>" or "key:<key id>"
    rate: str
    key_name: str | None = None


def principal_of(scope: Scope) -> Principal | None:
    """The principal the guard attached to this request (None outside /v1/)."""
    state = scope.get("state") or {}
    principal = state.get("principal")
    return principal if isinstance(principal, Principal) else None


class Guard:
    """Every /v1/ request: who calls (an API key, or anonymous if allowed), then count it
    against their rate. Refusals answer here: 401 for a missing or bad key, 429 with
    Retry-After over the rate. The principal is left in the request state for the routes.

    `keys` returns the key store, or None while the app is still starting.
    """

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        keys: Callable[[], KeyStore | None],
        settings: Settings,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.keys = keys
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIX):
            await self.app(scope, receive, send)
            return
        address = Principal(
            owner=ANONYMOUS,
            bucket=f"addr:{client_address(scope)}",
            rate=self.settings.anonymous_rate,
        )
        principal, refusal = await self._authenticate(scope)
        if refusal is not None:
            # Failed attempts count against the address, so keys cannot be tried at speed.
            refusal = await self._over_rate(address) or refusal
            await refusal(scope, receive, send)
            return
        over = await self._over_rate(principal or address)
        if over is not None:
            await over(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal or address
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> tuple[Principal | None, JSONResponse | None]:
        """(the key's principal, None), (None, None) for anonymous, or (None, a 401/503)."""
        header = dict(scope.get("headers") or []).get(b"authorization")
        if header is None:
            if self.settings.allow_anonymous:
                return None, None
            return None, _unauthorized(
                "api_key_required", "This API needs a key: send Authorization: Bearer <key>."
            )
        scheme, _, token = header.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None, _unauthorized(
                "invalid_api_key", "Send the API key as Authorization: Bearer <key>."
            )
        keys = self.keys()
        if keys is None:
            return None, error_response(
                503, "not_ready", "The server is still starting; retry shortly."
            )
        key = await run_in_threadpool(keys.authenticate, token)
        if key is None:
            return None, _unauthorized("invalid_api_key", "The API key is unknown or revoked.")
        rate = key.rate or self.settings.key_rate
        return Principal(key.owner, key.owner, rate, key.name), None

    async def _over_rate(self, principal: Principal) -> JSONResponse | None:
        """A 429 if this request takes the principal over its rate (the request is counted).

        If the counters cannot be reached (a shared storage is down) the request passes and
        the failure is logged: an outage of the counters should not become one of the API.
        """
        try:
            if self.limiter.blocking:
                retry_after = await run_in_threadpool(
                    self.limiter.check, principal.bucket, principal.rate
                )
            else:
                retry_after = self.limiter.check(principal.bucket, principal.rate)
        except Exception:
            log.exception("rate-limit storage failed; request let through")
            return None
        if retry_after is None:
            return None
        log.info("rate limited", extra={"bucket_kind": principal.bucket.split(":", 1)[0]})
        return error_response(
            429,
            "rate_limited",
            f"Too many requests; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def _unauthorized(code: str, message: str) -> JSONResponse:
    # RFC 6750: a 401 names the scheme the client should use.
    challenge = 'Bearer realm="ivig-chat"'
    if code == "invalid_api_key":
        challenge += ', error="invalid_token"'
    return error_response(401, code, message, headers={"WWW-Authenticate": challenge})
