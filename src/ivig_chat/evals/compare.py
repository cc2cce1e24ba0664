"""Compare two eval reports row by row (by case id): regressions and improvements per metric."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import IvigChatError
from .chat import SUMMARY_METRICS

EPSILON = 1e-9
# Summary metrics compared per split (higher is better unless listed in LOWER_IS_BETTER).
SUMMARY_KEYS = SUMMARY_METRICS
LOWER_IS_BETTER = {
    "false_abstention_rate",
    "over_triage_rate",
    "injection_followed",
    "latency_p50_ms",
    "noise_sensitivity",
    "canary_echoed",
}


def load_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IvigChatError(f"{path}: cannot read the baseline report ({exc})") from exc
    if not isinstance(data, dict) or "rows" not in data:
        raise IvigChatError(f"{path}: not an ivig-chat eval report (no 'rows')")
    return data


def baseline_of(report: Mapping[str, Any]) -> dict[str, Any]:
    """What compare() reads from a report: its meta, summary and gates, and each row's id,
    split, status and metric scores. The answers, citations and transcripts are left out, so
    the committed baseline stays small (and holds no answer text)."""
    rows = [
        {
            "id": r["id"],
            "split": r.get("split", ""),
            "status": r.get("status"),
            "metrics": {
                name: {"score": m["score"], "reason": m.get("reason", "")}
                for name, m in r.get("metrics", {}).items()
            },
        }
        for r in report.get("rows", [])
    ]
    kept = {k: report[k] for k in ("meta", "summary", "gates", "passed") if k in report}
    return {**kept, "rows": rows}


def _key(row: Mapping[str, Any]) -> str:
    return f"{row.get('split', '')}/{row['id']}"


def compare(current: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """Per-case metric changes and summary deltas of current against baseline."""
    before = {_key(r): r for r in baseline.get("rows", [])}
    after = {_key(r): r for r in current.get("rows", [])}
    regressions: list[dict[str, Any]] = []
    improvements: list[dict[str, Any]] = []
    for key in sorted(set(before) & set(after)):
        old, new = before[key], after[key]
        metrics = set(old.get("metrics", {})) | set(new.get("metrics", {}))
        for name in sorted(metrics):
            a = old.get("metrics", {}).get(name)
            b = new.get("metrics", {}).get(name)
            if a is None or b is None:
                continue
            delta = float(b["score"]) - float(a["score"])
            if abs(delta) <= EPSILON:
                continue
            entry = {
                "id": new["id"],
                "split": new.get("split", ""),
                "metric": name,
                "before": a["score"],
                "after": b["score"],
                "reason_before": a.get("reason", ""),
                "reason_after": b.get("reason", ""),
            }
            (regressions if delta < 0 else improvements).append(entry)
    deltas: dict[str, dict[str, dict[str, float | None]]] = {}
    old_splits = baseline.get("summary", {}).get("splits", {})
    for split, new_summary in current.get("summary", {}).get("splits", {}).items():
        old_summary = old_splits.get(split, {})
        for name in SUMMARY_KEYS:
            a, b = old_summary.get(name), new_summary.get(name)
            if isinstance(a, int | float) and isinstance(b, int | float):
                deltas.setdefault(split, {})[name] = {
                    "before": a,
                    "after": b,
                    "delta": b - a,
                    "worse": (b > a) if name in LOWER_IS_BETTER else (b < a),
                }
    for scope, keys in (
        ("retrieval", ("recall@5", "passage_recall@5", "mrr")),
        ("distractor", ("noise_sensitivity", "canary_echoed", "disclaimer_rate")),
        ("support", ("agreement",)),
    ):
        old_s = baseline.get("summary", {}).get(scope, {})
        new_s = current.get("summary", {}).get(scope, {})
        if scope == "retrieval":
            old_s, new_s = old_s.get("hybrid", {}), new_s.get("hybrid", {})
        for name in keys:
            a, b = old_s.get(name), new_s.get(name)
            if isinstance(a, int | float) and isinstance(b, int | float):
                deltas.setdefault(scope, {})[name] = {
                    "before": a,
                    "after": b,
                    "delta": b - a,
                    "worse": (b > a) if name in LOWER_IS_BETTER else (b < a),
                }
    return {
        "baseline_created_at": baseline.get("meta", {}).get("created_at"),
        "regressions": regressions,
        "improvements": improvements,
        "summary_deltas": deltas,
        "new_cases": sorted(set(after) - set(before)),
        "missing_cases": sorted(set(before) - set(after)),
    }
