"""create_app(settings): the FastAPI app; its lifespan builds the pipeline and service once.

The index and model load in a background thread so /healthz answers at once and /readyz turns
200 when they are ready. Every error leaves as JSON {"error": {"code", "message"}}.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..config import Settings
from ..conversation import SQLiteConversationStore
from ..errors import InvalidRequest, IvigChatError, NotFoundError
from ..service import ChatService, MessageTooLong, build_service
from .routes import router

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


class AppState:
    """What the lifespan built; routes read it through get_service."""

    def __init__(self) -> None:
        self.service: ChatService | None = None
        self.error: str | None = None
        self.ready = threading.Event()


ServiceFactory = Callable[[Settings], ChatService]


def default_service_factory(settings: Settings) -> ChatService:
    """The embedded default: build the index if missing, SQLite conversations."""
    from ..embeddings import enforce_offline
    from ..pipeline import build_pipeline

    enforce_offline()
    pipeline, _ = build_pipeline(settings, refresh=True)
    store = SQLiteConversationStore(settings.conversations_path)
    service = build_service(settings, pipeline, store)
    service.warm()
    return service


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "invalid_json", "The request body is not valid JSON."
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return 422, "invalid_request", "; ".join(parts)


def create_app(settings: Settings, service_factory: ServiceFactory | None = None) -> FastAPI:
    """The app for these settings; pass a service_factory to build the service differently."""
    state = AppState()
    factory = service_factory or default_service_factory

    def load() -> None:
        try:
            state.service = factory(settings)
        except Exception as exc:  # reported by /readyz, never as a traceback to clients
            log.exception("start-up failed")
            state.error = f"{type(exc).__name__}: {exc}"
        finally:
            state.ready.set()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = threading.Thread(target=load, name="ivig-chat-loader", daemon=True)
        loader.start()
        yield
        if state.service is not None:
            state.service.store.close()

    app = FastAPI(
        title="ivig-chat",
        version="0.1.0",
        summary="Grounded follow-up answers about medical evidence articles.",
        lifespan=lifespan,
    )
    app.state.ivig = state
    app.state.settings = settings
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return error_response(
                413, "payload_too_large", f"Request bodies are limited to {MAX_BODY_BYTES} bytes."
            )
        return await call_next(request)

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

    @app.exception_handler(IvigChatError)
    async def on_domain(_: Request, exc: IvigChatError) -> JSONResponse:
        return error_response(503, exc.code, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 503: "not_ready"}.get(
            exc.status_code, "http_error"
        )
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "internal_error", "Something went wrong on our side.")

    app.include_router(router)
    return app
