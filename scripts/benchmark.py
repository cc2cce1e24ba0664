"""Benchmark: ingest, search and chat latency, cold start and memory, printed as figures.

Usage: python scripts/benchmark.py [--rounds 5] [--json]

Every latency is compared with a bare query embedding measured in the same run, so the ratio
means the same on a faster or slower machine. Nothing here asserts a target; it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # tests/helpers.py: the LiveServer the tests use


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def figures(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "n": len(values),
    }


def questions() -> list[str]:
    """Single-turn questions from the dev set, in file order (a fixed, varied workload)."""
    rows = [
        json.loads(line)
        for line in (REPO / "evals/datasets/dev.jsonl").read_text().splitlines()
        if line.strip()
    ]
    return [r["turns"][0] for r in rows if len(r["turns"]) == 1][:40]


def timed(fn, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - start) * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the question set")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()

    from ivig_chat.compose import build_service, configure_process
    from ivig_chat.config import Settings
    from ivig_chat.pipeline import build_pipeline
    from ivig_chat.types import ChatRequest

    configure_process()
    work = Path(tempfile.mkdtemp(prefix="ivig-bench-"))
    settings = Settings(data_dir=work / "data", corpus_dir=REPO / "corpus")
    results: dict[str, object] = {"machine": {"cpus": os.cpu_count()}}

    started = time.perf_counter()
    pipeline, report = build_pipeline(settings)
    results["ingest_cold_s"] = round(time.perf_counter() - started, 2)
    results["ingest_records"] = report.embedded if report else None
    started = time.perf_counter()
    _, again = build_pipeline(settings, embeddings=pipeline.embeddings)
    results["ingest_unchanged_s"] = round(time.perf_counter() - started, 2)
    results["ingest_unchanged_embedded"] = again.embedded if again else None

    service = build_service(settings, pipeline)
    service.warm()
    qs = questions()
    encode, search, chat = [], [], []
    for _ in range(args.rounds):
        for q in qs:
            encode.append(timed(pipeline.embeddings.encode, [q]))
            search.append(timed(pipeline.retriever.search, q, settings.default_article, 5))
            chat.append(timed(service.chat, ChatRequest(q)))
    base = statistics.median(encode)
    results["bare_query_embedding"] = figures(encode)
    results["search"] = {
        **figures(search),
        "ratio_to_embedding": round(statistics.median(search) / base, 2),
    }
    results["chat_in_process"] = {
        **figures(chat),
        "ratio_to_embedding": round(statistics.median(chat) / base, 2),
    }

    from helpers import LiveServer  # the same server the integration tests start

    launched = time.perf_counter()
    # Hundreds of requests from one address: rate limits off, as for any benchmark run.
    server = LiveServer(settings.data_dir, IVIG_CHAT_RATE_LIMITS="off").wait_ready()
    results["cold_start_to_ready_s"] = round(time.perf_counter() - launched, 2)
    try:
        import httpx

        loop = []
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for q in qs[:5]:
                client.post("/v1/chat", json={"message": q})  # warm the connection and caches
            for _ in range(args.rounds):
                for q in qs:
                    loop.append(timed(client.post, "/v1/chat", json={"message": q}))
        results["chat_http_loopback"] = {
            **figures(loop),
            "ratio_to_embedding": round(statistics.median(loop) / base, 2),
        }
        results["server_rss_mb"] = rss_mb(server.process.pid)
    finally:
        server.stop()

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"machine: {os.cpu_count()} CPUs; {len(qs)} questions x {args.rounds} rounds")
    print(
        f"ingest (cold, {results['ingest_records']} records embedded): {results['ingest_cold_s']} s"
    )
    print(
        f"ingest (no change, {results['ingest_unchanged_embedded']} embedded): "
        f"{results['ingest_unchanged_s']} s"
    )
    for key in ("bare_query_embedding", "search", "chat_in_process", "chat_http_loopback"):
        row = results[key]
        assert isinstance(row, dict)
        ratio = (
            f"  ratio to embedding {row['ratio_to_embedding']}"
            if "ratio_to_embedding" in row
            else ""
        )
        print(f"{key:22s} p50 {row['p50_ms']:7.2f} ms  p95 {row['p95_ms']:7.2f} ms{ratio}")
    print(f"cold start to ready (existing index): {results['cold_start_to_ready_s']} s")
    print(f"server resident memory while serving: {results['server_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
