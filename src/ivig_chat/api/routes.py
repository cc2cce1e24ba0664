"""Routes of the HTTP contract; each reaches the service through get_service."""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator
from functools import lru_cache, partial
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ..corpus import Document
from ..service import ChatService, PreparedTurn, article_summary
from ..types import ChatRequest, ChatResponse
from .middleware import Principal, principal_of
from .schemas import ChatIn, DocumentOut, ErrorOut, FeedbackIn

router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 404, 413, 422, 429, 503)
}
# Routes with a body: 408 when it does not arrive in time; 409 when the conversation (or the
# answer's feedback) reached its cap, where waiting does not help.
CAPPED: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    408: {"model": ErrorOut},
    409: {"model": ErrorOut},
}
SSE_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
    "Connection": "keep-alive",
}


def get_service(request: Request) -> ChatService:
    """The service once the lifespan has built it; 503 before that."""
    state = request.app.state.ivig
    if not state.ready.is_set() or state.service is None:
        detail = state.error or "The index and model are still loading; retry shortly."
        raise HTTPException(status_code=503, detail=detail)
    return state.service  # type: ignore[no-any-return]


# Declares the scheme in OpenAPI; the guard middleware has already checked the key.
bearer = HTTPBearer(
    scheme_name="ApiKey",
    description="An API key from `ivig-chat keys create`, as `Authorization: Bearer <key>`. "
    "Optional while IVIG_CHAT_ALLOW_ANONYMOUS is on (the public widget sends none).",
    auto_error=False,
)


def get_principal(
    request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    """Who calls, as the guard established it (anonymous if the guard did not run)."""
    principal = principal_of(request.scope)
    if principal is None:  # pragma: no cover - every /v1/ route is behind the guard
        raise HTTPException(status_code=401, detail="No caller established for this request.")
    return principal


KEYED = [Depends(get_principal)]  # routes that use no owner still declare the scheme


def _chat_request(body: ChatIn) -> ChatRequest:
    return ChatRequest(
        message=body.message,
        conversation_id=body.conversation_id,
        article_id=body.article_id,
        audience=body.audience,
    )


@router.get("/healthz", tags=["ops"])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["ops"], responses={503: {"model": ErrorOut}})
def readyz(request: Request) -> JSONResponse:
    state = request.app.state.ivig
    if state.ready.is_set() and state.service is not None:
        return JSONResponse({"status": "ready"})
    message = state.error or "loading the index and model"
    return JSONResponse(
        status_code=503, content={"error": {"code": "not_ready", "message": message}}
    )


@router.post("/v1/chat", response_model=ChatResponse, responses=CAPPED, tags=["chat"])
async def chat(
    body: ChatIn,
    service: ChatService = Depends(get_service),
    caller: Principal = Depends(get_principal),
) -> ChatResponse:
    return await run_in_threadpool(partial(service.chat, _chat_request(body), owner=caller.owner))


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/v1/chat/stream", responses=CAPPED, tags=["chat"])
async def chat_stream(
    body: ChatIn,
    request: Request,
    service: ChatService = Depends(get_service),
    caller: Principal = Depends(get_principal),
) -> StreamingResponse:
    """Server-sent events: meta, delta..., citations, done (= the /v1/chat object), or error."""
    prepared: PreparedTurn = await run_in_threadpool(
        partial(service.prepare, _chat_request(body), owner=caller.owner)
    )

    async def events() -> AsyncIterator[str]:
        try:
            for event, data in service.events(prepared):
                if await request.is_disconnected():
                    return  # nothing stored: the turn is saved only just before 'done'
                if event == "done":
                    await run_in_threadpool(service.commit, prepared)
                yield _sse(event, data)
                await asyncio.sleep(0)
        except Exception:  # pragma: no cover - reported in-stream, never as a traceback
            yield _sse("error", {"error": {"code": "internal_error", "message": "stream failed"}})

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/v1/conversations/{conversation_id}", responses=ERRORS, tags=["chat"])
def get_conversation(
    conversation_id: str,
    service: ChatService = Depends(get_service),
    caller: Principal = Depends(get_principal),
) -> dict[str, Any]:
    """The caller's own conversation; another caller's is 404, as if it did not exist."""
    return service.store.get(conversation_id, owner=caller.owner).as_dict()


@router.delete(
    "/v1/conversations/{conversation_id}",
    status_code=204,
    response_class=Response,
    responses=ERRORS,
    tags=["chat"],
)
def delete_conversation(
    conversation_id: str,
    service: ChatService = Depends(get_service),
    caller: Principal = Depends(get_principal),
) -> Response:
    """Delete the caller's own conversation, its turns and their feedback, for good."""
    service.store.delete(conversation_id, owner=caller.owner)
    return Response(status_code=204)


@router.post("/v1/feedback", status_code=201, responses=CAPPED, tags=["chat"])
def post_feedback(
    body: FeedbackIn,
    request: Request,
    service: ChatService = Depends(get_service),
    caller: Principal = Depends(get_principal),
) -> dict[str, Any]:
    settings = request.app.state.settings
    return service.store.add_feedback(
        body.turn_id,
        body.rating,
        body.comment,
        max_per_turn=settings.max_feedback_per_turn,
        owner=caller.owner,
    )


def _article_detail(service: ChatService, article: Document) -> dict[str, Any]:
    refs = []
    for n, doc_id in sorted(article.references.items()):
        doc = service.corpus.documents[doc_id]
        refs.append(
            {"n": n, "doc_id": doc.id, "title": doc.title, "citation": doc.citation, "url": doc.url}
        )
    return {
        **article_summary(article).model_dump(),
        "audience": article.meta.get("audience"),
        "disclaimers": dict(article.disclaimers),
        "references": refs,
        "documents": [d.id for d in service.corpus.scope(article.id)],
        "suggested_questions": list(article.meta.get("suggested_questions") or []),
    }


@router.get("/v1/articles", responses=ERRORS, tags=["corpus"], dependencies=KEYED)
def list_articles(service: ChatService = Depends(get_service)) -> dict[str, Any]:
    return {"articles": [article_summary(a).model_dump() for a in service.corpus.articles()]}


@router.get("/v1/articles/{article_id}", responses=ERRORS, tags=["corpus"], dependencies=KEYED)
def get_article(article_id: str, service: ChatService = Depends(get_service)) -> dict[str, Any]:
    return _article_detail(service, service.corpus.article(article_id))


@router.get(
    "/v1/documents/{doc_id}",
    response_model=DocumentOut,
    responses=ERRORS,
    tags=["corpus"],
    dependencies=KEYED,
)
def get_document(doc_id: str, service: ChatService = Depends(get_service)) -> dict[str, Any]:
    doc = service.corpus.document(doc_id)
    return {
        "id": doc.id,
        "kind": doc.kind,
        "title": doc.title,
        "ref": doc.ref,
        "citation": doc.citation,
        "url": doc.url,
        "text": doc.text,
    }


@lru_cache(maxsize=8)
def _widget_file(name: str) -> str:
    return resources.files("ivig_chat.widget").joinpath(name).read_text(encoding="utf-8")


@router.get("/widget/ivig-chat.js", include_in_schema=False)
def widget_js() -> Response:
    return Response(
        _widget_file("ivig-chat.js"),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


def _article_html(article: Document) -> str:
    from markdown_it import MarkdownIt

    body = "\n".join(line for line in article.text.splitlines() if not line.startswith("# "))
    return MarkdownIt("commonmark", {"html": False}).render(body)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def demo_page(request: Request, service: ChatService = Depends(get_service)) -> HTMLResponse:
    # The widget script is loaded by a relative URL and calls the API at its own origin: nothing
    # from the request (the Host header) is written into the page, so no shared cache can serve
    # a page pointing at another host.
    article = service.corpus.article(service.settings.default_article)
    page = _widget_file("demo.html").format(
        title=html.escape(article.title),
        article_html=_article_html(article),
        last_updated=html.escape(article.last_updated or ""),
        review_status=html.escape(article.review_status or ""),
        disclaimer=html.escape(article.disclaimers.get("clinician", "")),
        article_id=html.escape(article.id, quote=True),
    )
    return HTMLResponse(page)
