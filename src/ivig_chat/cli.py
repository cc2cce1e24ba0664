"""ivig-chat ingest | search | serve | ask | chat | eval | feedback export | keys | purge."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .compose import configure_process
from .config import Settings, get_settings
from .errors import IvigChatError

if TYPE_CHECKING:
    from .service import ChatService
    from .types import ChatResponse

Handler = Callable[[argparse.Namespace, Settings], int]
_COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _COMMANDS[name] = fn
        return fn

    return register


class _ProgressBar:
    """A tqdm bar on stderr while a refresh embeds; none for a handful of records."""

    def __init__(self) -> None:
        self.bar: Any = None

    def start(self, total: int) -> None:
        if total >= 20:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="embedding", unit="text", file=sys.stderr)

    def advance(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _build(settings: Settings, refresh: bool = True) -> Any:
    """The pipeline, with a progress bar while it embeds new corpus text."""
    from .compose import make_pipeline

    bar = _ProgressBar()
    try:
        return make_pipeline(settings, refresh=refresh, progress=bar)
    finally:
        bar.close()


@command("ingest")
def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from .knowledge import load_knowledge

    started = time.perf_counter()
    load_knowledge(settings.knowledge_dir)  # a bad knowledge file fails here, before any work
    _, report = _build(settings)
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps({**report.__dict__, "seconds": round(elapsed, 2)}))
    else:
        state = "up to date" if report.unchanged else "updated"
        where = settings.chroma_path if settings.chroma_mode == "embedded" else "chroma server"
        print(
            f"Index {state}: {report.documents} documents, {report.chunks} chunks, "
            f"{report.sentences} sentences; embedded {report.embedded}, removed {report.removed} "
            f"in {elapsed:.1f}s ({where})"
        )
    return 0


@command("search")
def _search(args: argparse.Namespace, settings: Settings) -> int:
    pipeline, _ = _build(settings)
    article = args.article or settings.default_article
    hits = pipeline.retriever.search(args.query, article, k=args.k)
    if args.json:
        print(json.dumps([h.as_dict() for h in hits], ensure_ascii=False, indent=2))
        return 0
    for rank, hit in enumerate(hits, 1):
        c = hit.chunk
        ref = pipeline.corpus.ref_of(pipeline.corpus.documents[c.doc_id], article)
        where = (
            f"{c.doc_id}"
            + (f" [ref {ref}]" if ref else "")
            + (f" § {c.section}" if c.section else "")
        )
        via = f"  (cited by the article as ref {hit.via_ref})" if hit.via_ref else ""
        print(f"{rank}. {where}{via}")
        print(
            f"   score {hit.score:.4f}  dense {hit.dense:.3f}  bm25 {hit.lexical:.2f}  "
            f"chars {c.start}-{c.end}"
        )
        body = " ".join(c.text.split())
        print(
            textwrap.indent(textwrap.fill(body[:600] + ("…" if len(body) > 600 else ""), 96), "   ")
        )
        print()
    return 0


def _service(settings: Settings) -> ChatService:
    """The chat service on the embedded default, index built or refreshed first."""
    from .compose import build_service

    pipeline, _ = _build(settings)
    return build_service(settings, pipeline)


def _print_answer(response: ChatResponse) -> None:
    if response.status != "answered":
        print(f"[{response.status}]")
    print(response.answer)
    if response.citations:
        print("\nCitations:")
        for c in response.citations:
            ref = f", reference {c.ref} of the article" if c.ref else ""
            section = f" § {c.section}" if c.section else ""
            print(f"  [{c.n}] {c.title}{ref}{section}")
            print(textwrap.indent(textwrap.fill(f"\u201c{c.quote}\u201d", 92), "      "))
            if c.url:
                print(f"      {c.url}")
    if response.suggested_questions:
        print("\nYou could also ask:")
        for q in response.suggested_questions:
            print(f"  - {q}")


@command("serve")
def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from .api import create_app
    from .api.server import run

    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    print(f"ivig-chat: serving on http://{host}:{port} (data in {settings.data_dir})", flush=True)
    run(create_app(settings), settings, host, port)
    return 0


@command("ask")
def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from .types import ChatRequest

    service = _service(settings)
    response = service.chat(
        ChatRequest(message=args.question, article_id=args.article, audience=args.audience)
    )
    if args.json:
        print(json.dumps(response.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_answer(response)
    return 0


@command("chat")
def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from .types import ChatRequest

    service = _service(settings)
    conversation_id = None
    print("Ask a follow-up question about the article (empty line or Ctrl-D to quit).")
    while True:
        try:
            message = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if not message:
            return 0
        try:
            response = service.chat(
                ChatRequest(message, conversation_id, args.article, args.audience)
            )
        except IvigChatError as exc:
            print(f"ivig-chat: {exc}")
            continue
        conversation_id = response.conversation_id
        if response.standalone_question != message:
            print(f"(understood as: {response.standalone_question})")
        print()
        _print_answer(response)


@command("feedback")
def _feedback(args: argparse.Namespace, settings: Settings) -> int:
    import csv

    from .compose import make_store

    store = make_store(settings.conversations_url)
    rows = store.feedback_rows()
    store.close()
    fields = [
        "feedback_id",
        "created_at",
        "conversation_id",
        "turn_id",
        "rating",
        "comment",
        "status",
        "standalone_question",
    ]
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    finally:
        if args.output:
            out.close()
    if args.output:
        print(f"wrote {len(rows)} feedback rows to {args.output}", file=sys.stderr)
    return 0


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula ("=HYPERLINK(...)", "+1+1",
    "@SUM(...)") gets a leading apostrophe, so it opens as text (OWASP: CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ivig-chat", description="Grounded follow-up answers for medical evidence articles."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="embed the corpus into the index (incremental)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("search", help="show the passages answers would be built from")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=5, help="how many passages (default 5)")
    p.add_argument("--article", default=None, help="article id (default: the corpus default)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("serve", help="run the chat API and the widget demo page")
    p.add_argument("--host", default=None, help="default: IVIG_CHAT_HOST or 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default: IVIG_CHAT_PORT or 8000")

    for name, text in (("ask", "answer one question"), ("chat", "talk in the terminal")):
        p = sub.add_parser(name, help=text)
        if name == "ask":
            p.add_argument("question")
            p.add_argument("--json", action="store_true", help="print the API's JSON object")
        p.add_argument("--audience", choices=["clinician", "patient"], default="clinician")
        p.add_argument("--article", default=None, help="article id (default: the corpus default)")

    p = sub.add_parser("feedback", help="maintainers: export stored feedback")
    fsub = p.add_subparsers(dest="feedback_command", required=True)
    export = fsub.add_parser("export", help="write feedback as CSV")
    export.add_argument("-o", "--output", default=None, help="file (default: standard output)")

    for extra in _EXTRA_PARSERS:
        extra(sub)
    return parser


_EXTRA_PARSERS: list[Callable[[Any], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_process(verbose=args.verbose)
    try:
        settings = get_settings()
        return _COMMANDS[args.command](args, settings)
    except IvigChatError as exc:
        print(f"ivig-chat: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


@command("eval")
def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evals.runner import options_from_args, run

    options = options_from_args(args)
    pipeline, _ = _build(settings)
    return run(settings, options, pipeline).exit_code


def _eval_parser(sub: Any) -> None:
    p = sub.add_parser("eval", help="run the evaluation suites and write a report")
    p.add_argument(
        "--split",
        choices=["dev", "holdout", "holdout_blind", "blind2", "blind3", "blind4", "blind5", "all"],
        default="all",
        help="chat dataset split(s) to run (default: all, reported separately)",
    )
    p.add_argument(
        "--suite",
        choices=["all", "chat", "retrieval", "support", "distractor"],
        default="all",
        help="run one suite only (default: all)",
    )
    p.add_argument(
        "--against",
        default=None,
        metavar="URL",
        help="run the chat cases against a running server (end-to-end latency only)",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="report folder (default: evals/reports/<UTC timestamp>/)",
    )
    p.add_argument(
        "--baseline",
        default=None,
        metavar="REPORT.json",
        help="compare with an earlier report.json, case by case",
    )
    p.add_argument("--limit", type=int, default=None, help="first N cases of each split")
    p.add_argument("--cases", default=None, help="only these case ids (comma-separated)")
    p.add_argument(
        "--evals-dir",
        default="evals",
        help="datasets, thresholds.toml and fixtures (default: ./evals)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


_EXTRA_PARSERS.append(_eval_parser)


@command("keys")
def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from .compose import make_key_store

    store = make_key_store(settings.conversations_url)
    try:
        if args.keys_command == "create":
            key, token = store.create(args.name, args.rate)
            # The token alone on stdout (KEY=$(ivig-chat keys create ...)); the rest on stderr.
            print(token)
            rate = key.rate or f"{settings.key_rate} (IVIG_CHAT_KEY_RATE)"
            print(
                f"created key {key.id} named {key.name!r}, rate {rate}. The key above is shown "
                "only this once (the server keeps its SHA-256 hash); send it as "
                "Authorization: Bearer <key>.",
                file=sys.stderr,
            )
        elif args.keys_command == "list":
            keys = store.list()
            if args.json:
                print(json.dumps([k.as_dict() for k in keys], indent=2))
            for k in [] if args.json else keys:
                state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
                rate = k.rate or "default"
                print(f"{k.id}  {k.prefix}…  {k.name}  rate {rate}  {k.created_at}  {state}")
        else:
            key = store.revoke(args.key)
            print(f"revoked key {key.id} named {key.name!r} at {key.revoked_at}")
    finally:
        store.close()
    return 0


def _keys_parser(sub: Any) -> None:
    p = sub.add_parser("keys", help="maintainers: API keys for integrators")
    ksub = p.add_subparsers(dest="keys_command", required=True)
    create = ksub.add_parser("create", help="make a key; prints it once")
    create.add_argument("--name", required=True, help="who the key is for (unique among active)")
    create.add_argument(
        "--rate",
        default=None,
        help="its request rate, e.g. '600/minute;20000/day' (default: IVIG_CHAT_KEY_RATE)",
    )
    listing = ksub.add_parser("list", help="every key, active and revoked (never the key itself)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    revoke = ksub.add_parser("revoke", help="revoke a key at once (by id or active name)")
    revoke.add_argument("key", metavar="ID_OR_NAME")


_EXTRA_PARSERS.append(_keys_parser)


@command("purge")
def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime, timedelta

    from .compose import make_store

    days = settings.retention_days if args.days is None else args.days
    if days <= 0:
        raise IvigChatError(
            "retention is off (IVIG_CHAT_RETENTION_DAYS=0 keeps conversations); "
            "set it or pass --days N"
        )
    cutoff = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")
    store = make_store(settings.conversations_url)
    try:
        deleted = store.purge(cutoff)
    finally:
        store.close()
    print(f"deleted {deleted} conversations started before {cutoff} ({days} days)")
    return 0


def _purge_parser(sub: Any) -> None:
    p = sub.add_parser(
        "purge", help="maintainers: delete conversations older than the retention period"
    )
    p.add_argument(
        "--days",
        type=int,
        default=None,
        help="delete conversations started more than N days ago (default: "
        "IVIG_CHAT_RETENTION_DAYS)",
    )


_EXTRA_PARSERS.append(_purge_parser)
