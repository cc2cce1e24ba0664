"""summary.md: metrics vs thresholds per split, per category, latency, comparisons, failures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .injection import DISTRACTOR_KEYS

# (key, label) of the per-split headline metrics, in display order.
SPLIT_METRICS: tuple[tuple[str, str], ...] = (
    ("cases", "cases"),
    ("pass_rate", "pass rate (every metric of the case)"),
    ("status_accuracy", "status accuracy"),
    ("fact_recall", "key-fact recall"),
    ("must_not_violations", "must-not-say violations"),
    ("citation_validity", "citation validity"),
    ("citation_recall", "citation recall (ALCE)"),
    ("citation_precision", "citation precision (ALCE)"),
    ("faithfulness", "faithfulness"),
    ("disclaimer_rate", "disclaimer rate"),
    ("abstention_recall", "abstention recall"),
    ("false_abstention_rate", "false-abstention rate"),
    ("false_answer_rate", "false-answer rate (out of scope answered)"),
    ("red_flag_recall", "red-flag recall"),
    ("over_triage_rate", "over-triage rate"),
    ("injection_cases", "injection cases"),
    ("injection_followed", "injections followed"),
    ("latency_p50_ms", "latency p50 end to end (ms)"),
    ("latency_p95_ms", "latency p95 end to end (ms)"),
)


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def thresholds_for(report: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(metric, scope) -> gate check."""
    return {(c["metric"], c["scope"]): c for c in report.get("gates", [])}


def _threshold_text(check: Mapping[str, Any] | None) -> str:
    if not check:
        return ""
    op = "≥" if check["bound"] == "min" else "≤"
    mark = "✅" if check["passed"] else "❌"
    return f"{mark} {op} {check['threshold']:g} ({check['table']})"


def render_markdown(report: Mapping[str, Any]) -> str:
    meta = report["meta"]
    summary = report["summary"]
    gates = thresholds_for(report)
    lines: list[str] = []
    add = lines.append
    verdict = "PASS" if report.get("passed") else "FAIL"
    add(f"# ivig-chat eval — {verdict}")
    add("")
    add(f"- created: {meta['created_at']} · mode: {meta['mode']} · command: `{meta['command']}`")
    v = meta["versions"]
    add(
        f"- answerer `{v['answerer']}` · support scorer `{v['support_scorer']}` (threshold "
        f"{meta.get('support_threshold')}) · embedding model `{v['embedding_model']}`"
    )
    add(f"- corpus hash `{v['corpus_hash']}`")
    hashes = ", ".join(f"{k} `{h[:12]}`" for k, h in meta.get("dataset_hashes", {}).items())
    add(f"- dataset hashes (sha256, first 12): {hashes}")
    add(f"- elapsed: {meta.get('elapsed_s')} s")
    add("")

    failed = [c for c in report.get("gates", []) if not c["passed"]]
    add("## Gates and thresholds")
    add("")
    add("| table | metric | scope | value | threshold | result |")
    add("|---|---|---|---|---|---|")
    for c in report.get("gates", []):
        op = "≥" if c["bound"] == "min" else "≤"
        result = "pass" if c["passed"] else "**FAIL**"
        note = f" ({c['note']})" if c.get("note") else ""
        add(
            f"| {c['table']} | {c['metric']} | {c['scope']} | {fmt(_count(c))} | "
            f"{op} {c['threshold']:g} | {result}{note} |"
        )
    if failed:
        add("")
        add("Failing: " + "; ".join(f"{c['metric']} @ {c['scope']}" for c in failed))
    add("")

    splits = summary.get("splits", {})
    if splits:
        names = list(splits)
        add("## Metrics per split")
        add("")
        add("| metric | " + " | ".join(names) + " | threshold (dev) |")
        add("|---|" + "---|" * len(names) + "---|")
        for key, label in SPLIT_METRICS:
            values = " | ".join(fmt(splits[n].get(key)) for n in names)
            add(f"| {label} | {values} | {_threshold_text(gates.get((key, 'dev')))} |")
        add("")
        add("### Latency per stage (ms, p50 / p95)")
        add("")
        stages = sorted({s for n in names for s in splits[n].get("latency", {})}, key=_stage_order)
        add("| stage | " + " | ".join(names) + " |")
        add("|---|" + "---|" * len(names))
        for stage in stages:
            cells = []
            for n in names:
                d = splits[n].get("latency", {}).get(stage)
                cells.append(f"{d['p50']:.1f} / {d['p95']:.1f}" if d else "–")
            add(f"| {stage} | " + " | ".join(cells) + " |")
        add("")
        for n in names:
            add(f"### Per category — {n}")
            add("")
            add(
                "| category | cases | pass rate | status acc. | fact recall | cit. recall | "
                "cit. precision | faithfulness |"
            )
            add("|---|---|---|---|---|---|---|---|")
            for cat, s in splits[n].get("by_category", {}).items():
                add(
                    f"| {cat} | {s['cases']} | {fmt(s['pass_rate'])} | "
                    f"{fmt(s['status_accuracy'])} | {fmt(s['fact_recall'])} | "
                    f"{fmt(s['citation_recall'])} | {fmt(s['citation_precision'])} | "
                    f"{fmt(s['faithfulness'])} |"
                )
            add("")

    if "retrieval" in summary:
        add("## Retrieval (evals/datasets/retrieval.jsonl, k = 5)")
        add("")
        add("| mode | questions | recall@5 | passage recall@5 | MRR |")
        add("|---|---|---|---|---|")
        for mode, s in summary["retrieval"].items():
            add(
                f"| {mode} | {int(s['cases'])} | {fmt(s['recall@5'])} | "
                f"{fmt(s['passage_recall@5'])} | {fmt(s['mrr'])} |"
            )
        add("")
    if "support" in summary:
        s = summary["support"]
        add("## Support scorer agreement (evals/datasets/support_labels.jsonl)")
        add("")
        add(
            f"Agreement **{fmt(s['agreement'])}** on {s['pairs']} hand-labelled pairs at threshold "
            f"{s['threshold']} (precision on label 1: {fmt(s['precision'])}, recall on label 1: "
            f"{fmt(s['recall'])}). Leave-one-out agreement (threshold re-chosen without each "
            f"pair): {fmt(s['loo_agreement'])}. Best threshold on these labels: "
            f"{s['best_threshold_on_labels']} ({fmt(s['agreement_at_best_threshold'])})."
        )
        add("")
        add("| kind | pairs | accuracy |")
        add("|---|---|---|")
        for kind, k in s["by_kind"].items():
            add(f"| {kind} | {k['pairs']} | {fmt(k['accuracy'])} |")
        add("")
    if "distractor" in summary:
        d = summary["distractor"]
        add("## Distractor corpus (noise and planted instructions)")
        add("")
        add("| measure | value |")
        add("|---|---|")
        for key in DISTRACTOR_KEYS:
            add(f"| {key} | {fmt(d.get(key))} |")
        add("")
        if d.get("cases_citing_distractors"):
            add("Cases citing a distractor: " + ", ".join(d["cases_citing_distractors"]))
            add("")

    comparison = report.get("comparison")
    if comparison:
        add("## Against the baseline")
        add("")
        add(
            f"Baseline: `{comparison.get('baseline_path')}` "
            f"({comparison.get('baseline_created_at')})."
        )
        add("")
        for scope, deltas in comparison["summary_deltas"].items():
            changed = {k: d for k, d in deltas.items() if abs(d["delta"]) > 1e-9}
            if not changed:
                continue
            add(
                f"- {scope}: "
                + "; ".join(
                    f"{k} {fmt(d['before'])} → {fmt(d['after'])}"
                    + (" (worse)" if d["worse"] else "")
                    for k, d in changed.items()
                )
            )
        add("")
        add(f"### Regressions ({len(comparison['regressions'])})")
        add("")
        _changes(add, comparison["regressions"])
        add(f"### Improvements ({len(comparison['improvements'])})")
        add("")
        _changes(add, comparison["improvements"])

    failing = [r for r in report.get("rows", []) if not r["passed"]]
    add(f"## Failing cases ({len(failing)})")
    add("")
    if failing:
        add("| split | case | category | status | failures |")
        add("|---|---|---|---|---|")
        for r in failing:
            add(
                f"| {r['split']} | {r['id']} | {r['category']} | {r['status']} "
                f"(expected {r['expected_status']}) | "
                + _cell("<br>".join(f[:300] for f in r["failures"]))
                + " |"
            )
    add("")
    return "\n".join(lines)


COUNT_METRICS = ("injection_followed", "canary_echoed", "must_not_violations")


def _count(check: Mapping[str, Any]) -> Any:
    """A count metric's value as a whole number (the gate reads it as a float)."""
    value = check["value"]
    if check["metric"] in COUNT_METRICS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _changes(add: Any, entries: Sequence[Mapping[str, Any]]) -> None:
    if not entries:
        add("None.")
        add("")
        return
    add("| split | case | metric | before | after | reason now |")
    add("|---|---|---|---|---|---|")
    for e in entries:
        add(
            f"| {e['split']} | {e['id']} | {e['metric']} | {fmt(e['before'])} | "
            f"{fmt(e['after'])} | {_cell(e['reason_after'][:200])} |"
        )
    add("")


def _stage_order(stage: str) -> int:
    order = ("condense_ms", "embed_ms", "retrieve_ms", "answer_ms", "store_ms", "e2e_ms")
    return order.index(stage) if stage in order else len(order)
