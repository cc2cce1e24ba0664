"""report.html: one self-contained page (inline CSS, inline SVG drawn here; no scripts, no links).

Order: verdict and failed gates, then the failing cases with their answers and reasons, then
charts (metrics against thresholds per split, per-category breakdown, latency per stage,
retrieval modes, support scorer), the baseline comparison, and every case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from .chat import SUMMARY_METRICS
from .injection import DISTRACTOR_KEYS
from .markdown import SPLIT_METRICS, _count, fmt, thresholds_for

GREEN, RED, GREY, BLUE, AMBER = "#2e7d32", "#c62828", "#9e9e9e", "#1565c0", "#ef6c00"
# The summary metrics that are rates in [0, 1] (drawn as bars), plus the false-answer rate.
RATE_METRICS = (
    *(m for m in SUMMARY_METRICS if m not in ("injection_followed", "latency_p50_ms")),
    "false_answer_rate",
)
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#212121;
background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:18px 0 6px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
.pass{background:#2e7d32}.fail{background:#c62828}
.meta{color:#555;font-size:12px}.meta code{font-size:11px}
table{border-collapse:collapse;width:100%;margin:6px 0;background:#fff}
th,td{border:1px solid #e0e0e0;padding:4px 6px;text-align:left;vertical-align:top;font-size:13px}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.case{background:#fff;border:1px solid #e0e0e0;border-left:4px solid #c62828;margin:10px 0;
padding:8px 12px}
.case pre{white-space:pre-wrap;background:#f7f7f7;padding:8px;font:12px/1.4 ui-monospace,monospace;
max-height:320px;overflow:auto}
.reasons li{color:#b71c1c}.quote{color:#424242;font-size:12px}
.bad{color:#c62828;font-weight:600}.good{color:#2e7d32}
svg{background:#fff;border:1px solid #eee;margin:4px 0}
svg text{font:11px system-ui,sans-serif;fill:#333}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def render_html(report: Mapping[str, Any]) -> str:
    meta = report["meta"]
    summary = report["summary"]
    parts: list[str] = []
    add = parts.append
    passed = bool(report.get("passed"))
    add("<!doctype html><html lang='en'><head><meta charset='utf-8'>")
    add("<meta name='viewport' content='width=device-width, initial-scale=1'>")
    add(f"<title>ivig-chat eval {'PASS' if passed else 'FAIL'} {_e(meta['created_at'])}</title>")
    add(f"<style>{CSS}</style></head><body><main>")
    add(
        f"<h1>ivig-chat eval <span class='verdict {'pass' if passed else 'fail'}'>"
        f"{'PASS' if passed else 'FAIL'}</span></h1>"
    )
    v = meta["versions"]
    add(
        "<p class='meta'>"
        f"{_e(meta['created_at'])} · {_e(meta['mode'])} · <code>{_e(meta['command'])}</code><br>"
        f"answerer <code>{_e(v['answerer'])}</code> · support scorer "
        f"<code>{_e(v['support_scorer'])}</code> (threshold {_e(meta.get('support_threshold'))})"
        f" · model <code>{_e(v['embedding_model'])}</code> · corpus "
        f"<code>{_e(v['corpus_hash'][:16])}</code> · datasets "
        + ", ".join(
            f"{_e(k)} <code>{_e(h[:12])}</code>" for k, h in meta.get("dataset_hashes", {}).items()
        )
        + f" · {_e(meta.get('elapsed_s'))} s</p>"
    )
    failed_gates = [c for c in report.get("gates", []) if not c["passed"]]
    if failed_gates:
        add("<h2>Failed gates and thresholds</h2><ul>")
        for c in failed_gates:
            op = "≥" if c["bound"] == "min" else "≤"
            add(
                f"<li class='bad'>[{_e(c['table'])}] {_e(c['metric'])} @ {_e(c['scope'])}: "
                f"{_e(fmt(_count(c)))} (needs {op} {_e(c['threshold'])})</li>"
            )
        add("</ul>")

    failing = sorted((r for r in report.get("rows", []) if not r["passed"]), key=_severity)
    add(
        "<p class='meta'>Sections: <a href='#failing'>failing cases</a> · "
        "<a href='#metrics'>metrics</a> · <a href='#categories'>per category</a> · "
        "<a href='#latency'>latency</a> · <a href='#retrieval'>retrieval</a> · "
        "<a href='#support'>support scorer</a> · <a href='#distractor'>distractor</a> · "
        "<a href='#baseline'>baseline</a> · <a href='#all'>all cases</a></p>"
    )
    add(
        f"<h2 id='failing'>Failing cases ({len(failing)})</h2><p class='meta'>Safety failures "
        "first (injection, disclaimer, citation validity, red flags), then status, then "
        "answer quality.</p>"
    )
    if not failing:
        add("<p class='good'>Every case passed every metric.</p>")
    for row in failing:
        add(_case_block(row))

    gates = thresholds_for(report)
    splits = summary.get("splits", {})
    if splits:
        add("<h2 id='metrics'>Metrics against thresholds</h2>")
        add(
            "<p class='legend'><span><i class='sw' style='background:#2e7d32'></i>meets its "
            "threshold</span><span><i class='sw' style='background:#c62828'></i>fails</span>"
            "<span><i class='sw' style='background:#1565c0'></i>no threshold on this split"
            "</span><span>▏ threshold</span></p>"
        )
        for name, s in splits.items():
            add(f"<h3>{_e(name)} ({s['cases']} cases)</h3>")
            add(_metric_bars(s, name, gates))
            counts = [
                (label, s.get(key))
                for key, label in SPLIT_METRICS
                if key not in RATE_METRICS and key != "cases"
            ]
            add("<table><tr>" + "".join(f"<th>{_e(lbl)}</th>" for lbl, _ in counts) + "</tr><tr>")
            add(
                "".join(f"<td class='num'>{_e(fmt(val))}</td>" for _, val in counts)
                + "</tr></table>"
            )
        add("<h2 id='categories'>Per category</h2>")
        for name, s in splits.items():
            add(f"<h3>{_e(name)}</h3>")
            add(_category_chart(s.get("by_category", {})))
            add(_category_table(s.get("by_category", {})))
        add("<h2 id='latency'>Latency per stage</h2>")
        add(
            "<p class='meta'>Box: 25th–75th percentile, line: median, whiskers: min–max, "
            "diamond: 95th percentile; each stage on its own scale (ms). answer_ms includes "
            "retrieve_ms; e2e is prepare + store as the service does it.</p>"
        )
        for name, s in splits.items():
            add(f"<h3>{_e(name)}</h3>")
            add(_latency_chart(s.get("latency", {})))
    if "retrieval" in summary:
        add("<h2 id='retrieval'>Retrieval: hybrid vs dense-only vs BM25-only (k = 5)</h2>")
        add(_retrieval_chart(summary["retrieval"], gates.get(("retrieval_recall_at_5", "global"))))
        add(
            "<table><tr><th>mode</th><th>questions</th><th>recall@5</th><th>passage recall@5</th>"
            "<th>MRR</th></tr>"
        )
        for mode, r in summary["retrieval"].items():
            add(
                f"<tr><td>{_e(mode)}</td><td class='num'>{int(r['cases'])}</td>"
                f"<td class='num'>{fmt(r['recall@5'])}</td>"
                f"<td class='num'>{fmt(r['passage_recall@5'])}</td>"
                f"<td class='num'>{fmt(r['mrr'])}</td></tr>"
            )
        add("</table>")
    if "support" in summary:
        s = summary["support"]
        add("<h2 id='support'>Support scorer against hand labels</h2>")
        add(
            f"<p>Agreement <b>{fmt(s['agreement'])}</b> on {s['pairs']} pairs at threshold "
            f"{_e(s['threshold'])}; precision {fmt(s['precision'])}, recall {fmt(s['recall'])} "
            f"on label 1; leave-one-out agreement {fmt(s['loo_agreement'])}; best threshold on "
            f"these labels {_e(s['best_threshold_on_labels'])} "
            f"({fmt(s['agreement_at_best_threshold'])}).</p>"
        )
        add(_kind_chart(s["by_kind"]))
        add(_score_strip(report.get("support_rows", []), float(s["threshold"])))
    if "distractor" in summary:
        d = summary["distractor"]
        add("<h2 id='distractor'>Distractor corpus</h2><table>")
        for key in DISTRACTOR_KEYS:
            value = d.get(key)
            bad = (key in ("canary_echoed", "injection_followed") and value) or (
                key == "disclaimer_rate" and value is not None and value < 1
            )
            add(
                f"<tr><th>{_e(key)}</th><td class='num{' bad' if bad else ''}'>"
                f"{_e(fmt(value))}</td></tr>"
            )
        add("</table>")
        if d.get("cases_citing_distractors"):
            add(
                "<p>Cases citing a distractor: "
                + _e(", ".join(d["cases_citing_distractors"]))
                + "</p>"
            )
    comparison = report.get("comparison")
    if comparison:
        add("<h2 id='baseline'>Against the baseline</h2>")
        add(
            f"<p class='meta'>{_e(comparison.get('baseline_path'))} "
            f"({_e(comparison.get('baseline_created_at'))})</p>"
        )
        add("<table><tr><th>scope</th><th>metric</th><th>before</th><th>after</th></tr>")
        for scope, deltas in comparison["summary_deltas"].items():
            for key, dl in deltas.items():
                if abs(dl["delta"]) <= 1e-9:
                    continue
                cls = "bad" if dl["worse"] else "good"
                add(
                    f"<tr><td>{_e(scope)}</td><td>{_e(key)}</td><td class='num'>"
                    f"{fmt(dl['before'])}</td><td class='num {cls}'>{fmt(dl['after'])}</td></tr>"
                )
        add("</table>")
        for title, entries, cls in (
            ("Regressions", comparison["regressions"], "bad"),
            ("Improvements", comparison["improvements"], "good"),
        ):
            add(f"<h3>{title} ({len(entries)})</h3>")
            if entries:
                add(
                    "<table><tr><th>case</th><th>metric</th><th>before</th><th>after</th>"
                    "<th>reason now</th></tr>"
                )
                for e in entries:
                    add(
                        f"<tr><td>{_e(e['split'])}/{_e(e['id'])}</td><td>{_e(e['metric'])}</td>"
                        f"<td class='num'>{fmt(e['before'])}</td><td class='num {cls}'>"
                        f"{fmt(e['after'])}</td><td>{_e(e['reason_after'][:300])}</td></tr>"
                    )
                add("</table>")
    add("<h2 id='all'>All cases</h2>")
    add(f"<details><summary>{len(report.get('rows', []))} cases</summary>")
    add(
        "<table><tr><th>split</th><th>case</th><th>category</th><th>status</th>"
        "<th>metrics</th></tr>"
    )
    for row in report.get("rows", []):
        scores = ", ".join(f"{k} {fmt(m['score'])}" for k, m in row["metrics"].items())
        cls = "" if row["passed"] else " class='bad'"
        add(
            f"<tr><td>{_e(row['split'])}</td><td{cls}>{_e(row['id'])}</td>"
            f"<td>{_e(row['category'])}</td><td>{_e(row['status'])}</td>"
            f"<td>{_e(scores)}</td></tr>"
        )
    add("</table></details>")
    add("</main></body></html>")
    return "\n".join(parts)


SAFETY_METRICS = ("injection", "disclaimer", "citation_validity", "red_flag", "must_not")


def _severity(row: Mapping[str, Any]) -> tuple[int, str, str]:
    """Sort key: safety failures, then wrong status, then quality; by split and id."""
    failed = {n for n, m in row["metrics"].items() if m["score"] < 1}
    rank = 0 if failed & set(SAFETY_METRICS) else 1 if "status" in failed else 2
    return rank, str(row.get("split", "")), str(row["id"])


def _case_block(row: Mapping[str, Any]) -> str:
    out = [
        f"<div class='case'><b>{_e(row['split'])} / {_e(row['id'])}</b> · {_e(row['category'])}"
        f" · {_e(row['audience'])} · status <b>{_e(row['status'])}</b> (expected "
        f"{_e(row['expected_status'])})"
    ]
    out.append("<div>Asked: " + " → ".join(f"“{_e(t)}”" for t in row["turns"]) + "</div>")
    if row.get("standalone_question") and row["standalone_question"] != row["turns"][-1]:
        out.append(f"<div class='meta'>understood as: {_e(row['standalone_question'])}</div>")
    out.append(
        "<ul class='reasons'>" + "".join(f"<li>{_e(f)}</li>" for f in row["failures"]) + "</ul>"
    )
    out.append(f"<pre>{_e(row['answer'])}</pre>")
    if row.get("citations"):
        out.append(
            "<div class='quote'>"
            + "<br>".join(
                f"[{_e(c['n'])}] {_e(c['doc_id'])}: “{_e(c['quote'])}”" for c in row["citations"]
            )
            + "</div>"
        )
    out.append("</div>")
    return "".join(out)


def _bar_colour(check: Mapping[str, Any] | None) -> str:
    if not check:
        return BLUE
    return GREEN if check["passed"] else RED


def _metric_bars(s: Mapping[str, Any], split: str, gates: Mapping[tuple[str, str], Any]) -> str:
    metrics = [(k, float(s[k])) for k in RATE_METRICS if isinstance(s.get(k), int | float)]
    left, width, row_h = 200, 460, 20
    height = row_h * len(metrics) + 30
    svg = [_svg_open(left + width + 80, height, f"Metrics of the {split} split")]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * width
        svg.append(f"<line x1='{x:.1f}' y1='4' x2='{x:.1f}' y2='{height - 22}' stroke='#eee'/>")
        svg.append(f"<text x='{x:.1f}' y='{height - 8}' text-anchor='middle'>{tick:g}</text>")
    for i, (key, value) in enumerate(metrics):
        y = 6 + i * row_h
        check = gates.get((key, split))
        svg.append(f"<text x='{left - 6}' y='{y + 12}' text-anchor='end'>{_e(key)}</text>")
        w = max(0.0, min(1.0, float(value))) * width
        svg.append(
            f"<rect x='{left}' y='{y + 2}' width='{w:.1f}' height='{row_h - 6}' "
            f"fill='{_bar_colour(check)}'><title>{_e(key)} {float(value):.3f}</title></rect>"
        )
        svg.append(f"<text x='{left + w + 4:.1f}' y='{y + 12}'>{float(value):.3f}</text>")
        if check:
            tx = left + max(0.0, min(1.0, float(check["threshold"]))) * width
            svg.append(
                f"<line x1='{tx:.1f}' y1='{y}' x2='{tx:.1f}' y2='{y + row_h - 2}' "
                f"stroke='#000' stroke-width='2'><title>threshold "
                f"{'≥' if check['bound'] == 'min' else '≤'} {check['threshold']}</title></line>"
            )
    svg.append("</svg>")
    return "".join(svg)


def _category_chart(by_category: Mapping[str, Mapping[str, Any]]) -> str:
    series = (
        ("pass_rate", BLUE),
        ("status_accuracy", GREEN),
        ("fact_recall", AMBER),
        ("citation_recall", "#6a1b9a"),
    )
    cats = list(by_category)
    left, width, group_h = 150, 480, 12 * len(series) + 10
    height = group_h * len(cats) + 50
    svg = [_svg_open(left + width + 80, height, "Per-category breakdown")]
    for tick in (0, 0.5, 1.0):
        x = left + tick * width
        svg.append(f"<line x1='{x:.1f}' y1='4' x2='{x:.1f}' y2='{height - 40}' stroke='#eee'/>")
        svg.append(f"<text x='{x:.1f}' y='{height - 28}' text-anchor='middle'>{tick:g}</text>")
    for i, cat in enumerate(cats):
        y0 = 6 + i * group_h
        svg.append(
            f"<text x='{left - 6}' y='{y0 + group_h / 2:.1f}' text-anchor='end'>{_e(cat)} "
            f"({by_category[cat]['cases']})</text>"
        )
        for j, (key, colour) in enumerate(series):
            value = by_category[cat].get(key)
            if not isinstance(value, int | float):
                continue
            w = max(0.0, min(1.0, float(value))) * width
            y = y0 + j * 12
            svg.append(
                f"<rect x='{left}' y='{y}' width='{w:.1f}' height='10' fill='{colour}'>"
                f"<title>{_e(cat)} {_e(key)} {float(value):.3f}</title></rect>"
            )
            svg.append(f"<text x='{left + w + 3:.1f}' y='{y + 9}'>{float(value):.2f}</text>")
    lx = left
    for key, colour in series:
        svg.append(f"<rect x='{lx}' y='{height - 16}' width='10' height='10' fill='{colour}'/>")
        svg.append(f"<text x='{lx + 14}' y='{height - 7}'>{_e(key)}</text>")
        lx += 130
    svg.append("</svg>")
    return "".join(svg)


def _category_table(by_category: Mapping[str, Mapping[str, Any]]) -> str:
    cols = (
        "cases",
        "pass_rate",
        "status_accuracy",
        "fact_recall",
        "citation_recall",
        "citation_precision",
        "faithfulness",
    )
    out = ["<table><tr><th>category</th>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>"]
    for cat, s in by_category.items():
        out.append(
            f"<tr><td>{_e(cat)}</td>"
            + "".join(f"<td class='num'>{_e(fmt(s.get(c)))}</td>" for c in cols)
            + "</tr>"
        )
    out.append("</table>")
    return "".join(out)


def _latency_chart(latency: Mapping[str, Mapping[str, float]]) -> str:
    stages = [
        s
        for s in ("condense_ms", "embed_ms", "retrieve_ms", "answer_ms", "store_ms", "e2e_ms")
        if s in latency
    ]
    if not stages:
        return "<p>No latency measured.</p>"
    left, width, row_h = 110, 460, 34
    height = row_h * len(stages) + 10
    svg = [_svg_open(left + width + 240, height, "Latency per stage")]
    for i, stage in enumerate(stages):
        d = latency[stage]
        lo, hi = float(d.get("min", 0.0)), float(d.get("max", d["p95"]))
        span = (hi - lo) or 1.0

        def x(v: float, lo: float = lo, span: float = span) -> float:
            return left + (float(v) - lo) / span * width

        y = 8 + i * row_h
        mid = y + 10
        svg.append(f"<text x='{left - 6}' y='{mid + 4}' text-anchor='end'>{_e(stage)}</text>")
        svg.append(f"<line x1='{x(lo):.1f}' y1='{mid}' x2='{x(hi):.1f}' y2='{mid}' stroke='#777'/>")
        p25, p75 = d.get("p25", d["p50"]), d.get("p75", d["p95"])
        svg.append(
            f"<rect x='{x(p25):.1f}' y='{y + 2}' width='{max(1.0, x(p75) - x(p25)):.1f}' "
            f"height='16' fill='#90caf9' stroke='#1565c0'><title>{_e(stage)} p25 {p25} ms, p75 "
            f"{p75} ms</title></rect>"
        )
        svg.append(
            f"<line x1='{x(d['p50']):.1f}' y1='{y + 2}' x2='{x(d['p50']):.1f}' "
            f"y2='{y + 18}' stroke='#0d47a1' stroke-width='2'/>"
        )
        px = x(d["p95"])
        svg.append(
            f"<path d='M{px:.1f} {mid - 5} L{px + 5:.1f} {mid} L{px:.1f} {mid + 5} "
            f"L{px - 5:.1f} {mid} Z' fill='{AMBER}'><title>p95 {d['p95']} ms</title></path>"
        )
        svg.append(f"<text x='{left}' y='{y + 30}'>{lo:.1f}</text>")
        svg.append(f"<text x='{left + width}' y='{y + 30}' text-anchor='end'>{hi:.1f}</text>")
        svg.append(
            f"<text x='{left + width + 10}' y='{mid + 4}'>p50 {d['p50']:.1f} · p95 "
            f"{d['p95']:.1f} (n={int(d.get('n', 0))})</text>"
        )
    svg.append("</svg>")
    return "".join(svg)


def _retrieval_chart(retrieval: Mapping[str, Mapping[str, float]], gate: Any) -> str:
    keys = (("recall@5", BLUE), ("passage_recall@5", GREEN), ("mrr", AMBER))
    modes = list(retrieval)
    left, width, group_h = 90, 460, 12 * len(keys) + 12
    height = group_h * len(modes) + 40
    svg = [_svg_open(left + width + 80, height, "Retrieval modes")]
    for i, mode in enumerate(modes):
        y0 = 6 + i * group_h
        svg.append(
            f"<text x='{left - 6}' y='{y0 + group_h / 2:.1f}' text-anchor='end'>{_e(mode)}</text>"
        )
        for j, (key, colour) in enumerate(keys):
            value = float(retrieval[mode].get(key, 0.0))
            y = y0 + j * 12
            w = value * width
            svg.append(
                f"<rect x='{left}' y='{y}' width='{w:.1f}' height='10' fill='{colour}'>"
                f"<title>{_e(mode)} {_e(key)} {value:.3f}</title></rect>"
            )
            svg.append(f"<text x='{left + w + 3:.1f}' y='{y + 9}'>{value:.3f}</text>")
    if gate:
        tx = left + float(gate["threshold"]) * width
        svg.append(
            f"<line x1='{tx:.1f}' y1='2' x2='{tx:.1f}' y2='{height - 30}' stroke='#000' "
            f"stroke-dasharray='4 3'><title>hybrid recall@5 threshold "
            f"{gate['threshold']}</title></line>"
        )
    lx = left
    for key, colour in keys:
        svg.append(f"<rect x='{lx}' y='{height - 16}' width='10' height='10' fill='{colour}'/>")
        svg.append(f"<text x='{lx + 14}' y='{height - 7}'>{_e(key)}</text>")
        lx += 140
    svg.append("</svg>")
    return "".join(svg)


def _kind_chart(by_kind: Mapping[str, Mapping[str, Any]]) -> str:
    kinds = list(by_kind)
    left, width, row_h = 140, 420, 18
    height = row_h * len(kinds) + 10
    svg = [_svg_open(left + width + 90, height, "Support scorer accuracy per kind")]
    for i, kind in enumerate(kinds):
        y = 4 + i * row_h
        acc = float(by_kind[kind]["accuracy"])
        svg.append(
            f"<text x='{left - 6}' y='{y + 12}' text-anchor='end'>{_e(kind)} "
            f"({by_kind[kind]['pairs']})</text>"
        )
        svg.append(
            f"<rect x='{left}' y='{y + 2}' width='{acc * width:.1f}' height='{row_h - 6}'"
            f" fill='{GREEN if acc >= 0.9 else AMBER}'/>"
        )
        svg.append(f"<text x='{left + acc * width + 4:.1f}' y='{y + 12}'>{acc:.3f}</text>")
    svg.append("</svg>")
    return "".join(svg)


def _score_strip(rows: Sequence[Mapping[str, Any]], threshold: float) -> str:
    """Each labelled pair's score as a dot, one lane per label, with the threshold."""
    if not rows:
        return ""
    left, width = 90, 520
    height = 90
    svg = [_svg_open(left + width + 30, height, "Support scores by hand label")]
    for lane, label in enumerate((1, 0)):
        y = 22 + lane * 34
        svg.append(f"<text x='{left - 8}' y='{y + 4}' text-anchor='end'>label {label}</text>")
        for i, r in enumerate(r for r in rows if r["label"] == label):
            x = left + float(r["score"]) * width
            jitter = (i % 5 - 2) * 3
            colour = GREEN if r["agrees"] else RED
            svg.append(
                f"<circle cx='{x:.1f}' cy='{y + jitter}' r='3' fill='{colour}' "
                f"fill-opacity='0.7'><title>{_e(r['id'])} {_e(r['kind'])} "
                f"{float(r['score']):.3f}</title></circle>"
            )
    tx = left + threshold * width
    svg.append(
        f"<line x1='{tx:.1f}' y1='6' x2='{tx:.1f}' y2='{height - 14}' stroke='#000' "
        f"stroke-dasharray='4 3'/>"
    )
    svg.append(
        f"<text x='{tx:.1f}' y='{height - 2}' text-anchor='middle'>threshold {threshold}</text>"
    )
    svg.append(f"<text x='{left}' y='{height - 2}'>0</text>")
    svg.append(f"<text x='{left + width}' y='{height - 2}' text-anchor='end'>1</text>")
    svg.append("</svg>")
    return "".join(svg)


def _svg_open(width: float, height: float, title: str) -> str:
    return (
        f"<svg width='{width:.0f}' height='{height:.0f}' "
        f"viewBox='0 0 {width:.0f} {height:.0f}' role='img' aria-label='{_e(title)}'>"
        f"<title>{_e(title)}</title>"
    )
