"""create_app(settings): the FastAPI app; its lifespan builds the pipeline and service once.

The index and model load in a background thread so /healthz answers at once and /readyz turns
200 when they are ready. Every error leaves as JSON {"error": {"code", "message"}}.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from ..config import Settings
from ..errors import InvalidRequest, IvigChatError, LimitReached, NotFoundError
from ..keys import KeyStore
from ..service import ChatService, MessageTooLong
from .middleware import BodyLimit, Guard, HeadAsGet, JsonCORSMiddleware, error_response
from .ratelimit import RateLimiter
from .routes import router

__all__ = ["create_app", "error_response"]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Sent with every response: no MIME sniffing, no framing of our pages by other sites, no
# referrer leaking a conversation URL.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
PRIVATE_PATHS = ("/v1/chat", "/v1/conversations", "/v1/feedback")
# Content-Security-Policy: /v1/ responses (they carry users' text) load nothing and are framed
# by no one; the demo page loads only its own script and styles and talks only to its own
# origin (the widget's styles are inline). FastAPI's /docs pages fetch Swagger from a CDN and
# the health probes carry no user text: they get none.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def content_security_policy(path: str) -> str | None:
    if path == "/":
        return PAGE_CSP
    return API_CSP if path.startswith("/v1/") else None


class AppState:
    """What the lifespan built; routes read it through get_service."""

    def __init__(self) -> None:
        self.service: ChatService | None = None
        self.keys: KeyStore | None = None
        self.error: str | None = None
        self.ready = threading.Event()


ServiceFactory = Callable[[Settings], ChatService]


def default_service_factory(settings: Settings) -> ChatService:
    """The embedded default: build the index if missing, SQLite conversations."""
    from ..compose import build_ready_service

    return build_ready_service(settings)


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "invalid_json", "The request body is not valid JSON."
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return 422, "invalid_request", "; ".join(parts)


def create_app(
    settings: Settings,
    service_factory: ServiceFactory | None = None,
    key_store: KeyStore | None = None,
) -> FastAPI:
    """The app for these settings; pass a service_factory to build the service differently,
    a key_store to use other API keys than the configured database's."""
    state = AppState()
    state.keys = key_store
    factory = service_factory or default_service_factory

    def fail(exc: Exception) -> None:  # reported by /readyz, never as a traceback to clients
        log.exception("start-up failed")
        state.error = f"{type(exc).__name__}: {exc}"

    def load() -> None:
        try:
            if state.error is None:
                state.service = factory(settings)
        except Exception as exc:
            fail(exc)
        finally:
            state.ready.set()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.keys is None:  # a database open: quick, so keys work as soon as we listen
            from ..compose import make_key_store

            try:
                state.keys = make_key_store(settings.conversations_url)
            except Exception as exc:
                fail(exc)
        loader = threading.Thread(target=load, name="ivig-chat-loader", daemon=True)
        loader.start()
        yield
        if state.service is not None:
            state.service.store.close()
        if state.keys is not None and key_store is None:
            state.keys.close()

    app = FastAPI(
        title="ivig-chat",
        version="0.1.0",
        summary="Grounded follow-up answers about medical evidence articles.",
        lifespan=lifespan,
    )
    app.state.ivig = state
    app.state.settings = settings
    # Innermost first: the guard runs inside CORS, so a 429 still carries the CORS headers a
    # browser needs to read it.
    limiter = RateLimiter(settings.rate_limit_storage, enabled=settings.rate_limits)
    app.add_middleware(Guard, limiter=limiter, keys=lambda: state.keys, settings=settings)
    if settings.allowed_origins:
        app.add_middleware(
            JsonCORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type"],
            expose_headers=["Retry-After", "X-Request-ID"],
        )

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, timeout=settings.body_timeout_seconds)
    app.add_middleware(HeadAsGet)

    @app.middleware("http")
    async def request_id(request: Request, call_next: Any) -> Any:
        """Tag each request with an id (echoed as X-Request-ID) and log its outcome.

        Only method, path, status and time are logged, never the message text.
        """
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = rid
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        policy = content_security_policy(request.url.path)
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        if request.url.path.startswith(PRIVATE_PATHS):
            # Questions about someone's health: never kept by a browser or a shared cache.
            existing = response.headers.get("Cache-Control", "")
            if "no-store" not in existing:
                response.headers["Cache-Control"] = (
                    f"no-store, {existing}" if existing else "no-store"
                )
        log.info(
            "request %s %s -> %s",
            request.method,
            loggable_path(request.url.path),
            response.status_code,
            extra={"request_id": rid, "ms": round((time.perf_counter() - started) * 1000, 1)},
        )
        return response

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _validation_message(exc)
        return error_response(status, code, message)

    @app.exception_handler(MessageTooLong)
    async def on_too_long(_: Request, exc: MessageTooLong) -> JSONResponse:
        return error_response(413, exc.code, str(exc))

    @app.exception_handler(NotFoundError)
    async def on_not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return error_response(404, exc.code, str(exc))

    @app.exception_handler(InvalidRequest)
    async def on_invalid(_: Request, exc: InvalidRequest) -> JSONResponse:
        return error_response(422, exc.code, str(exc))

    @app.exception_handler(LimitReached)
    async def on_limit(_: Request, exc: LimitReached) -> JSONResponse:
        return error_response(409, exc.code, str(exc))

    @app.exception_handler(IvigChatError)
    async def on_domain(_: Request, exc: IvigChatError) -> JSONResponse:
        return error_response(503, exc.code, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            400: "invalid_json",  # FastAPI could not read the body at all (e.g. not UTF-8)
            404: "not_found",
            405: "method_not_allowed",
            503: "not_ready",
        }.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return error_response(exc.status_code, code, str(exc.detail), headers or None)

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "internal_error", "Something went wrong on our side.")

    app.include_router(router)
    if settings.allow_anonymous:
        _key_optional_in_openapi(app)
    _contract_in_openapi(app, settings)
    return app


def _contract_in_openapi(app: FastAPI, settings: Settings) -> None:
    """What pydantic cannot say by itself: the message's bounds (checked by the service with
    the configured limit, so a longer one gets the documented error, not a schema error) and
    the stream's media type (server-sent events, not JSON)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            message = schema["components"]["schemas"]["ChatIn"]["properties"]["message"]
            message.update(minLength=1, maxLength=settings.max_message_chars)
            ok = schema["paths"]["/v1/chat/stream"]["post"]["responses"]["200"]
            ok["description"] = (
                "Server-sent events: meta, delta (repeated), citations, done (the /v1/chat "
                "object); error if the turn fails"
            )
            ok["content"] = {"text/event-stream": {"schema": {"type": "string"}}}
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]


_CONVERSATION_PATH = re.compile(r"^(/v1/conversations/)[^/]+")


def loggable_path(path: str) -> str:
    """The path with a conversation id masked: an anonymous conversation's id is the only key
    to it, so it must not sit in logs that more people can read than the conversation."""
    return _CONVERSATION_PATH.sub(r"\1{id}", path)


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's own 405 names only the first
    route that matched the path, so GET and DELETE on one path would lose DELETE)."""
    methods: set[str] = set()
    scope = {**request.scope, "method": "__NONE__"}  # a method no route serves: PARTIAL
    for route in [*router.routes, *request.app.router.routes]:  # ours, then FastAPI's docs
        if isinstance(route, Route) and route.matches(scope)[0] is Match.PARTIAL:
            methods |= route.methods or set()
    if "GET" in methods:
        methods.add("HEAD")  # served for every GET route (HeadAsGet)
    return ", ".join(sorted(methods))


def _key_optional_in_openapi(app: FastAPI) -> None:
    """With anonymous use allowed the key is optional: OpenAPI says so with an empty
    requirement ({}) next to the bearer scheme, which FastAPI does not write by itself."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    if isinstance(operation, dict) and operation.get("security"):
                        operation["security"] = [{}, *operation["security"]]
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]
