"""Gates and quality thresholds from evals/thresholds.toml, and checking a summary against them.

The file has two tables, ``[gates]`` (safety) and ``[quality]``. In each, ``splits`` lists the
scopes the per-split thresholds apply to (``dev``, ``holdout``, ``distractor``); every other key
is ``<metric>_min`` or ``<metric>_max``. A per-split metric is checked in every listed scope
that reports it; a global metric (retrieval, support scorer, noise sensitivity) is checked
once. A missing metric in a scope that should report it fails (a gate must not pass by
silence); a metric a scope does not report (latency with --against) is skipped with a note.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import IvigChatError

# Metrics not tied to a split: where they live in the summary.
GLOBAL_METRICS: dict[str, tuple[str, ...]] = {
    "retrieval_recall_at_5": ("retrieval", "hybrid", "recall@5"),
    "support_agreement": ("support", "agreement"),
    "noise_sensitivity": ("distractor", "noise_sensitivity"),
}
# Per-split metrics a scope may legitimately not report (e.g. latency against a server).
OPTIONAL_IN_SCOPE = {"latency_p50_ms", "latency_p95_ms"}


@dataclass(frozen=True)
class Check:
    table: str  # "gates" | "quality"
    metric: str
    scope: str  # split name or "global"
    bound: str  # "min" | "max"
    threshold: float
    value: float | None
    passed: bool
    note: str = ""

    @property
    def line(self) -> str:
        op = ">=" if self.bound == "min" else "<="
        shown = "missing" if self.value is None else f"{self.value:.4g}"
        verdict = "ok" if self.passed else "FAIL"
        extra = f" ({self.note})" if self.note else ""
        return (
            f"[{self.table}] {self.metric} @ {self.scope}: {shown} {op} {self.threshold:g} "
            f"-> {verdict}{extra}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "metric": self.metric,
            "scope": self.scope,
            "bound": self.bound,
            "threshold": self.threshold,
            "value": self.value,
            "passed": self.passed,
            "note": self.note,
        }


def load_thresholds(path: Path) -> dict[str, dict[str, Any]]:
    """The [gates] and [quality] tables; raises IvigChatError on a malformed file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise IvigChatError(f"{path}: cannot read thresholds ({exc})") from exc
    out: dict[str, dict[str, Any]] = {}
    for table in ("gates", "quality"):
        values = data.get(table)
        if not isinstance(values, dict):
            raise IvigChatError(f"{path}: missing table [{table}]")
        for key, value in values.items():
            if key == "splits":
                if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                    raise IvigChatError(f"{path}: [{table}] splits must be a list of names")
                continue
            if not key.endswith(("_min", "_max")):
                raise IvigChatError(f"{path}: [{table}] {key} must end in _min or _max")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise IvigChatError(f"{path}: [{table}] {key} must be a number")
        out[table] = dict(values)
    return out


def _lookup(summary: Mapping[str, Any], path: tuple[str, ...]) -> float | None:
    node: Any = summary
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def check(summary: Mapping[str, Any], thresholds: Mapping[str, Mapping[str, Any]]) -> list[Check]:
    """Every threshold against the summary: {"splits": {name: {...}}, "retrieval": ...}."""
    checks: list[Check] = []
    scopes: dict[str, Mapping[str, Any]] = dict(summary.get("splits", {}))
    if "distractor" in summary:
        scopes["distractor"] = summary["distractor"]
    for table, values in thresholds.items():
        wanted = [s for s in values.get("splits", ["dev"])]
        for key, threshold in values.items():
            if key == "splits":
                continue
            metric, bound = key.rsplit("_", 1)
            if metric in GLOBAL_METRICS:
                path = GLOBAL_METRICS[metric]
                if path[0] not in summary:
                    checks.append(
                        Check(
                            table,
                            metric,
                            "global",
                            bound,
                            float(threshold),
                            None,
                            True,
                            f"{path[0]} suite not run",
                        )
                    )
                    continue
                value = _lookup(summary, path)
                checks.append(_verdict(table, metric, "global", bound, threshold, value))
                continue
            for scope in wanted:
                if scope not in scopes:
                    continue  # that suite did not run (e.g. --split dev)
                data = scopes[scope]
                if metric not in data:
                    if scope == "distractor" or metric in OPTIONAL_IN_SCOPE:
                        continue  # the distractor run reports a subset of metrics
                    checks.append(
                        _verdict(table, metric, scope, bound, threshold, None, "not reported")
                    )
                    continue
                value = _lookup(data, (metric,))
                if metric in OPTIONAL_IN_SCOPE and data.get("latency_mode") == "http":
                    checks.append(
                        Check(
                            table,
                            metric,
                            scope,
                            bound,
                            float(threshold),
                            value,
                            True,
                            "HTTP round trip; the threshold is for in-process latency",
                        )
                    )
                    continue
                if value is None and metric in OPTIONAL_IN_SCOPE:
                    checks.append(
                        Check(
                            table,
                            metric,
                            scope,
                            bound,
                            float(threshold),
                            None,
                            True,
                            "not measured in this mode",
                        )
                    )
                    continue
                checks.append(_verdict(table, metric, scope, bound, threshold, value))
    return checks


def _verdict(
    table: str,
    metric: str,
    scope: str,
    bound: str,
    threshold: float,
    value: float | None,
    note: str = "",
) -> Check:
    if value is None:
        return Check(table, metric, scope, bound, float(threshold), None, False, note or "missing")
    passed = value >= threshold if bound == "min" else value <= threshold
    return Check(table, metric, scope, bound, float(threshold), value, passed, note)


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.passed]
