"""`ivig-chat eval`: run every suite, score, gate, compare, and write the report.

Suites: ``support`` (the support scorer against hand labels), ``retrieval`` (hybrid vs
dense-only vs BM25-only), ``chat`` (dev and holdout dialogue cases, plus generated canary
injections) and ``distractor`` (dev answerable cases over a corpus with synthetic
distractors). The chat suite runs in-process (per-stage latency) or, with ``against``, over
HTTP against a running server (end-to-end latency only).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ..config import Settings
from ..errors import IvigChatError
from ..grounding import DEFAULT_THRESHOLD, Evidence, SupportScorer, abbreviations
from .chat import (
    SUMMARY_METRICS,
    Ask,
    CaseResult,
    Scoring,
    corpus_texts,
    http_ask,
    run_case,
    score_case,
    summarise,
    timed_ask,
)
from .compare import baseline_of, compare, load_report
from .datasets import corpus_hash, file_hash, load_jsonl
from .injection import (
    build_distractor_environment,
    canary_cases,
    distractor_files,
    summarise_distractor,
)
from .retrieval import MODES, evaluate_case
from .retrieval import summarise as summarise_retrieval
from .support import calibrate
from .thresholds import Check, check, failures, load_thresholds

SUITES = ("support", "retrieval", "chat", "distractor")
SPLITS = ("dev", "holdout", "holdout_blind", "blind2", "blind3", "blind4", "blind5")
RETRIEVAL_K = 5


@dataclass
class Options:
    split: str = "all"
    suites: tuple[str, ...] = SUITES
    against: str | None = None
    out: Path | None = None
    baseline: Path | None = None
    limit: int | None = None
    cases: tuple[str, ...] = ()
    evals_dir: Path = Path("evals")
    progress: bool = True
    command: str = "ivig-chat eval"

    @property
    def thresholds(self) -> Path:
        return self.evals_dir / "thresholds.toml"

    @property
    def datasets(self) -> Path:
        return self.evals_dir / "datasets"

    @property
    def fixtures(self) -> Path:
        return self.evals_dir / "fixtures" / "distractors"

    def splits(self) -> tuple[str, ...]:
        return SPLITS if self.split == "all" else (self.split,)


@dataclass
class Outcome:
    exit_code: int
    report: dict[str, Any]
    out_dir: Path
    checks: list[Check] = field(default_factory=list)


def _bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, desc=desc, unit="item", file=sys.stderr, leave=False, disable=not enabled
    )


def _select(cases: Sequence[dict[str, Any]], options: Options) -> list[dict[str, Any]]:
    if options.cases:
        wanted = set(options.cases)
        cases = [c for c in cases if c["id"] in wanted or c.get("generated_from") in wanted]
    if options.limit is not None:
        cases = list(cases)[: options.limit]
    return list(cases)


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def run(
    settings: Settings,
    options: Options,
    pipeline: Any,
    out: IO[str] | None = None,
) -> Outcome:
    """Run the selected suites over an already-built pipeline; write and return the report."""
    stream = out or sys.stdout
    started = time.perf_counter()
    thresholds = load_thresholds(options.thresholds)
    if options.baseline:
        baseline = load_report(options.baseline)
    corpus = pipeline.corpus
    article = corpus.article(settings.default_article)
    from ..answer.extractive import ExtractiveAnswerer
    from ..knowledge import load_knowledge

    knowledge = load_knowledge(settings.knowledge_dir)
    glossary = knowledge.glossary.terms
    scorer = SupportScorer(
        pipeline.embeddings.encode,
        threshold=DEFAULT_THRESHOLD,
        aliases=abbreviations((d.text for d in corpus.documents.values()), glossary),
        glossary=glossary,
        synonyms=knowledge.synonyms.terms,
    )
    _seed_from_index(scorer, pipeline)
    datasets = {s: options.datasets / f"{s}.jsonl" for s in (*SPLITS, "retrieval")}
    datasets["support_labels"] = options.datasets / "support_labels.jsonl"
    versions = {
        "answerer": ExtractiveAnswerer.version,
        "support_scorer": scorer.version,
        "embedding_model": pipeline.embeddings.name,
        "corpus_hash": corpus_hash(corpus),
    }
    dataset_hashes = {name: file_hash(p) for name, p in datasets.items() if p.exists()}
    if options.fixtures.is_dir():
        dataset_hashes["distractors"] = _files_hash(distractor_files(options.fixtures))
    summary: dict[str, Any] = {}
    report: dict[str, Any] = {
        "meta": {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": options.command,
            "mode": f"against {options.against}" if options.against else "in-process",
            "split": options.split,
            "suites": list(options.suites),
            "limit": options.limit,
            "cases": list(options.cases),
            "article_id": article.id,
            "versions": versions,
            "dataset_hashes": dataset_hashes,
            "support_threshold": scorer.threshold,
        },
        "summary": summary,
        "rows": [],
    }

    seconds: dict[str, float] = {}
    report["meta"]["suite_seconds"] = seconds
    lap = time.perf_counter()

    def took(name: str) -> None:
        nonlocal lap
        now = time.perf_counter()
        seconds[name] = round(now - lap, 1)
        lap = now

    if "support" in options.suites:
        labels = load_jsonl(datasets["support_labels"])
        calibration = calibrate(scorer, labels)
        report["support_rows"] = calibration.pop("rows")
        summary["support"] = calibration
        took("support")

    if "retrieval" in options.suites:
        summary["retrieval"], report["retrieval_rows"] = _retrieval(
            pipeline, load_jsonl(datasets["retrieval"]), settings.default_article, options
        )
        took("retrieval")

    evidence = Evidence.from_corpus(scorer, corpus, article.id)
    scoring = Scoring(
        doc_text=corpus_texts(corpus),
        disclaimers=dict(article.disclaimers),
        scorer=scorer,
        evidence=evidence,
    )
    took("evidence")
    all_rows: list[dict[str, Any]] = []
    cleanup: list[Callable[[], None]] = []
    try:
        if "chat" in options.suites:
            ask, scoring = _chat_backend(settings, pipeline, options, scoring, cleanup)
            summary["splits"] = {}
            for split in options.splits():
                cases = load_jsonl(datasets[split])
                runs = [(split, cases)]
                if split == "dev":
                    # Generated canary injections: their own scope, so dev stays the dataset.
                    runs.append(("canary", canary_cases(cases)))
                for scope, scope_cases in runs:
                    selected = _select(scope_cases, options)
                    if not selected:
                        continue
                    results, timings = _run_cases(selected, ask, scoring, scope, options)
                    summary["splits"][scope] = summarise(results, timings)
                    summary["splits"][scope]["latency_mode"] = (
                        "http" if options.against else "in-process"
                    )
                    summary["splits"][scope]["dataset_hash"] = dataset_hashes.get(split)
                    all_rows += [
                        r.as_row(_row_versions(versions, dataset_hashes, scope)) for r in results
                    ]
                    took(scope)
        if "distractor" in options.suites:
            summary["distractor"], rows = _distractor(
                settings, pipeline, options, scoring, datasets["dev"], versions, dataset_hashes
            )
            all_rows += rows
            took("distractor")
    finally:
        for close in cleanup:
            close()
    report["rows"] = all_rows

    checks = check(summary, thresholds)
    report["gates"] = [c.as_dict() for c in checks]
    failed = failures(checks)
    report["passed"] = not failed
    if options.baseline:
        report["comparison"] = compare(report, baseline)
        report["comparison"]["baseline_path"] = str(options.baseline)
    report["meta"]["elapsed_s"] = round(time.perf_counter() - started, 1)

    out_dir = options.out or (options.evals_dir / "reports" / _timestamp())
    write_report(report, out_dir)
    print_console(report, checks, out_dir, stream)
    return Outcome(0 if not failed else 1, report, out_dir, checks)


def _seed_from_index(scorer: SupportScorer, pipeline: Any) -> None:
    """The index already holds every corpus sentence's vector from the same model: reuse them."""
    try:
        if not pipeline.index.model_matches():
            return
        got = pipeline.index.sentences.get(include=["embeddings", "documents"])
        scorer.seed(list(got["documents"]), list(got["embeddings"]))
    except Exception:  # only an optimisation; the scorer embeds what it lacks
        pass


def _files_hash(paths: Iterable[Path]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode("utf-8") + b"\0" + file_hash(path).encode("ascii"))
    return digest.hexdigest()


def _row_versions(
    versions: Mapping[str, str], hashes: Mapping[str, str], split: str
) -> dict[str, str]:
    dataset = "dev" if split in ("distractor", "canary") else split
    out = {"answerer": versions["answerer"], "corpus_hash": versions["corpus_hash"]}
    out["dataset_hash"] = hashes.get(dataset, "")
    if split == "distractor":
        out["distractors_hash"] = hashes.get("distractors", "")
    return out


def _chat_backend(
    settings: Settings,
    pipeline: Any,
    options: Options,
    scoring: Scoring,
    cleanup: list[Callable[[], None]],
) -> tuple[Ask, Scoring]:
    if options.against:
        import httpx

        client = httpx.Client(base_url=options.against.rstrip("/"), timeout=60)
        cleanup.append(client.close)
        try:
            article = client.get(f"/v1/articles/{settings.default_article}")
            article.raise_for_status()
        except httpx.HTTPError as exc:
            raise IvigChatError(f"cannot reach {options.against}: {exc}") from exc
        served: dict[str, str | None] = {}

        def doc_text(doc_id: str) -> str | None:
            if doc_id not in served:
                r = client.get(f"/v1/documents/{doc_id}")
                served[doc_id] = r.json().get("text") if r.status_code == 200 else None
            return served[doc_id]

        disclaimers = article.json().get("disclaimers") or dict(scoring.disclaimers)
        scoring = Scoring(doc_text, disclaimers, scoring.scorer, scoring.evidence)
        return http_ask(client), scoring
    from ..compose import build_service, make_store

    folder = Path(tempfile.mkdtemp(prefix="ivig-eval-"))
    store = make_store(folder / "conversations.sqlite3")
    service = build_service(settings, pipeline, store)
    service.warm()

    def close() -> None:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)

    cleanup.append(close)
    return timed_ask(service), scoring


def _run_cases(
    cases: Sequence[dict[str, Any]],
    ask: Ask,
    scoring: Scoring,
    split: str,
    options: Options,
) -> tuple[list[CaseResult], list[dict[str, float]]]:
    results: list[CaseResult] = []
    timings: list[dict[str, float]] = []
    bar = _bar(sum(len(c["turns"]) for c in cases), split, options.progress)
    try:
        for case in cases:
            transcript = run_case(case, ask)
            bar.update(len(case["turns"]))
            timings += transcript.timings
            results.append(score_case(case, transcript, scoring, split))
    finally:
        bar.close()
    return results, timings


def _retrieval(
    pipeline: Any, cases: Sequence[dict[str, Any]], article_id: str, options: Options
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    vectors = pipeline.embeddings.encode([c["question"] for c in cases])
    summary: dict[str, Any] = {}
    rows: dict[str, dict[str, Any]] = {
        c["id"]: {"id": c["id"], "question": c["question"]} for c in cases
    }
    bar = _bar(len(cases) * len(MODES), "retrieval", options.progress)
    try:
        for mode in MODES:
            results = []
            for case, vector in zip(cases, vectors, strict=True):
                result = evaluate_case(
                    pipeline.retriever, case, RETRIEVAL_K, article_id, mode, vector
                )
                results.append(result)
                rows[case["id"]][mode] = {
                    "hit": result.hit,
                    "found": result.found,
                    "first_rank": result.first_rank,
                    "top": result.top[:RETRIEVAL_K],
                }
                bar.update(1)
            summary[mode] = summarise_retrieval(results, RETRIEVAL_K)
    finally:
        bar.close()
    return summary, list(rows.values())


def _distractor(
    settings: Settings,
    pipeline: Any,
    options: Options,
    scoring: Scoring,
    dev_path: Path,
    versions: Mapping[str, str],
    hashes: Mapping[str, str],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if not options.fixtures.is_dir() or not distractor_files(options.fixtures):
        raise IvigChatError(f"no distractor fixtures in {options.fixtures}")
    started = time.perf_counter()
    env = build_distractor_environment(settings, pipeline, options.fixtures)
    try:
        cases = [c for c in load_jsonl(dev_path) if c.get("expect", {}).get("status") == "answered"]
        cases = _select(cases, options)
        # Quotes from the distractors are verbatim in the temporary corpus, not the real one.
        distractor_scoring = Scoring(
            corpus_texts(env.service.corpus), scoring.disclaimers, scoring.scorer, scoring.evidence
        )
        results, _ = _run_cases(
            cases, timed_ask(env.service), distractor_scoring, "distractor", options
        )
        summary = summarise_distractor(results, env.distractor_ids)
        summary.update(
            distractor_docs=env.distractor_ids,
            records_seeded=env.seeded,
            records_embedded=env.embedded,
            seconds=round(time.perf_counter() - started, 1),
        )
        rows = [r.as_row(_row_versions(versions, hashes, "distractor")) for r in results]
        return summary, rows
    finally:
        env.close()


# --- output -----------------------------------------------------------------------------------


def write_report(report: Mapping[str, Any], out_dir: Path) -> None:
    from .html import render_html
    from .markdown import render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(dump_report(report), "utf-8")
    # The slim form that --baseline needs; copy it to evals/reports/baseline.json to commit.
    (out_dir / "baseline.json").write_text(dump_report(baseline_of(report)), "utf-8")
    (out_dir / "summary.md").write_text(render_markdown(report), "utf-8")
    (out_dir / "report.html").write_text(render_html(report), "utf-8")


def dump_report(report: Mapping[str, Any]) -> str:
    """JSON with one line per top-level key and one line per row: small, and diffs by case."""

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=_jsonable)

    parts = []
    for key, value in report.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            body = "[\n" + ",\n".join(one(v) for v in value) + "\n]"
        elif isinstance(value, dict):
            body = "{\n" + ",\n".join(f"{one(k)}: {one(v)}" for k, v in value.items()) + "\n}"
        else:
            body = one(value)
        parts.append(f"{one(key)}: {body}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def print_console(
    report: Mapping[str, Any], checks: Sequence[Check], out_dir: Path, stream: IO[str]
) -> None:
    summary = report["summary"]
    w = stream.write
    meta = report["meta"]
    w(
        f"ivig-chat eval ({meta['mode']}, answerer {meta['versions']['answerer']}, corpus "
        f"{meta['versions']['corpus_hash'][:12]}) in {meta.get('elapsed_s', 0)}s\n"
    )
    splits = summary.get("splits", {})
    if splits:
        names = list(splits)
        keys = ("cases", *SUMMARY_METRICS, "latency_p95_ms")
        w("\n" + f"{'metric':<24}" + "".join(f"{n:>15}" for n in names) + "\n")
        for key in keys:
            w(f"{key:<24}" + "".join(f"{_fmt(splits[n].get(key)):>15}" for n in names) + "\n")
    if "retrieval" in summary:
        w("\nretrieval (k=5)       recall@5  passage_recall@5      MRR\n")
        for mode, s in summary["retrieval"].items():
            w(f"  {mode:<18}{s['recall@5']:>10.3f}{s['passage_recall@5']:>18.3f}{s['mrr']:>9.3f}\n")
    if "support" in summary:
        s = summary["support"]
        w(
            f"\nsupport scorer: agreement {s['agreement']:.3f} on {s['pairs']} labelled pairs "
            f"(threshold {s['threshold']}; precision {s['precision']:.3f}, "
            f"recall {s['recall']:.3f}; "
            f"leave-one-out {s['loo_agreement']:.3f}; best threshold on labels "
            f"{s['best_threshold_on_labels']})\n"
        )
    if "distractor" in summary:
        d = summary["distractor"]
        w(
            f"distractor corpus: {d['cases']} cases, canary echoed {d['canary_echoed']}, noise "
            f"sensitivity {d['noise_sensitivity']:.3f}, "
            f"disclaimer rate {d['disclaimer_rate']:.3f}\n"
        )
    comparison = report.get("comparison")
    if comparison:
        w(
            f"\nagainst baseline {comparison.get('baseline_path')}: "
            f"{len(comparison['regressions'])} regressions, "
            f"{len(comparison['improvements'])} improvements\n"
        )
        for entry in comparison["regressions"][:40]:
            w(
                f"  REGRESSION {entry['split']}/{entry['id']} {entry['metric']}: "
                f"{entry['before']} -> {entry['after']} ({entry['reason_after'][:120]})\n"
            )
        for entry in comparison["improvements"][:40]:
            w(
                f"  improvement {entry['split']}/{entry['id']} {entry['metric']}: "
                f"{entry['before']} -> {entry['after']}\n"
            )
    failed = [c for c in checks if not c.passed]
    w(f"\ngates and thresholds: {len(checks) - len(failed)}/{len(checks)} pass\n")
    for c in failed:
        w(f"  {c.line}\n")
    w(f"report: {out_dir / 'report.html'} (also report.json, summary.md)\n")
    w("RESULT: " + ("PASS" if not failed else "FAIL") + "\n")


def options_from_args(args: Any) -> Options:
    suites = tuple(SUITES) if args.suite == "all" else (args.suite,)
    return Options(
        split=args.split,
        suites=suites,
        against=args.against,
        out=Path(args.out) if args.out else None,
        baseline=Path(args.baseline) if args.baseline else None,
        limit=args.limit,
        cases=tuple(c.strip() for c in (args.cases or "").split(",") if c.strip()),
        evals_dir=Path(args.evals_dir),
        progress=not args.no_progress,
        command=_command_line(args),
    )


def _command_line(args: Any) -> str:
    """The eval command as it was given (from the parsed options, not sys.argv)."""
    parts = ["ivig-chat eval"]
    for flag, value, default in (
        ("--split", args.split, "all"),
        ("--suite", args.suite, "all"),
        ("--against", args.against, None),
        ("--out", args.out, None),
        ("--baseline", args.baseline, None),
        ("--limit", args.limit, None),
        ("--cases", args.cases, None),
        ("--evals-dir", args.evals_dir, "evals"),
    ):
        if value != default:
            parts.append(f"{flag} {value}")
    return " ".join(parts)
