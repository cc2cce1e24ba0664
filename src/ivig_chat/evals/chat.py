"""Chat evaluation: run dialogue cases through the service, score each last answer.

Per case: status accuracy, key-fact recall (HealthBench-style must-include facts, any listed
surface form counts), must-not-say violations, cited documents, disclaimer present at the end,
and citation validity (every marker resolves, every quote verbatim in its document).
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..corpus import Corpus

Ask = Callable[[str, str | None, str], dict[str, Any]]  # (message, conversation_id, audience)
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass
class CaseResult:
    case_id: str
    category: str
    split: str
    turns: list[str]
    expected_status: str
    status: str
    answer: str
    standalone_question: str
    facts_found: int
    facts_total: int
    must_not_hits: list[str]
    cited_docs: list[str]
    docs_ok: bool
    disclaimer_ok: bool
    citation_problems: list[str]
    latency_ms: float
    reasons: list[str] = field(default_factory=list)

    @property
    def status_ok(self) -> bool:
        return self.status == self.expected_status

    @property
    def passed(self) -> bool:
        return (
            self.status_ok
            and self.facts_found == self.facts_total
            and not self.must_not_hits
            and self.docs_ok
            and self.disclaimer_ok
            and not self.citation_problems
        )


def citation_problems(response: dict[str, Any], corpus: Corpus) -> list[str]:
    """Markers without citations, citations never used, quotes not verbatim in the document."""
    problems = []
    answer = response["answer"]
    numbers = {c["n"] for c in response["citations"]}
    used = {int(n) for n in _MARKER.findall(answer)}
    for n in sorted(used - numbers):
        problems.append(f"marker [{n}] has no citation")
    for n in sorted(numbers - used):
        problems.append(f"citation {n} is never marked in the answer")
    for c in response["citations"]:
        doc = corpus.documents.get(c["doc_id"])
        if doc is None:
            problems.append(f"citation {c['n']} names unknown document {c['doc_id']}")
        elif not c["quote"] or c["quote"] not in doc.text:
            problems.append(f"citation {c['n']} quote is not verbatim in {c['doc_id']}")
    return problems


def run_case(case: dict[str, Any], ask: Ask, corpus: Corpus, split: str) -> CaseResult:
    expect = case.get("expect", {})
    audience = case.get("audience", "clinician")
    conversation_id = None
    response: dict[str, Any] = {}
    started = time.perf_counter()
    last_started = started
    for message in case["turns"]:
        last_started = time.perf_counter()
        response = ask(message, conversation_id, audience)
        conversation_id = response["conversation_id"]
    latency = (time.perf_counter() - last_started) * 1000
    answer = response["answer"]
    low = answer.lower()
    facts = expect.get("facts", [])
    found = sum(1 for alts in facts if any(a.lower() in low for a in alts))
    must_not = [m for m in expect.get("must_not", []) if m.lower() in low]
    cited = sorted({c["doc_id"] for c in response["citations"]})
    docs = expect.get("docs", [])
    docs_ok = not docs or bool(set(docs) & set(cited))
    disclaimer = response["disclaimer"]
    disclaimer_ok = bool(disclaimer) and answer.endswith(disclaimer)
    problems = citation_problems(response, corpus)
    reasons = []
    if response["status"] != expect.get("status"):
        reasons.append(f"status {response['status']} != {expect.get('status')}")
    missing = [alts for alts in facts if not any(a.lower() in low for a in alts)]
    if missing:
        reasons.append("missing facts: " + "; ".join("/".join(m) for m in missing))
    if must_not:
        reasons.append("said: " + "; ".join(must_not))
    if not docs_ok:
        reasons.append(f"cited none of {docs}")
    if not disclaimer_ok:
        reasons.append("disclaimer missing at the end")
    reasons.extend(problems)
    return CaseResult(
        case_id=case["id"],
        category=case.get("category", ""),
        split=split,
        turns=list(case["turns"]),
        expected_status=expect.get("status", ""),
        status=response["status"],
        answer=answer,
        standalone_question=response.get("standalone_question", ""),
        facts_found=found,
        facts_total=len(facts),
        must_not_hits=must_not,
        cited_docs=cited,
        docs_ok=docs_ok,
        disclaimer_ok=disclaimer_ok,
        citation_problems=problems,
        latency_ms=latency,
        reasons=reasons,
    )


def _rate(num: float, den: float) -> float:
    return num / den if den else 1.0


def summarise(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Headline metrics and a per-category breakdown."""
    answerable = [r for r in results if r.expected_status == "answered"]
    out_of_scope = [r for r in results if r.expected_status == "abstained"]
    urgent = [r for r in results if r.expected_status == "urgent"]
    ordinary = [r for r in results if r.expected_status != "urgent"]
    latencies = sorted(r.latency_ms for r in results)
    summary: dict[str, Any] = {
        "cases": len(results),
        "status_accuracy": _rate(sum(r.status_ok for r in results), len(results)),
        "fact_recall": _rate(
            sum(r.facts_found for r in results), sum(r.facts_total for r in results)
        ),
        "must_not_violations": sum(len(r.must_not_hits) for r in results),
        "disclaimer_rate": _rate(sum(r.disclaimer_ok for r in results), len(results)),
        "citation_validity": _rate(sum(not r.citation_problems for r in results), len(results)),
        "abstention_recall": _rate(
            sum(r.status == "abstained" for r in out_of_scope), len(out_of_scope)
        ),
        "false_abstention_rate": _rate(
            sum(r.status == "abstained" for r in answerable), len(answerable)
        )
        if answerable
        else 0.0,
        "false_answer_rate": _rate(
            sum(r.status == "answered" for r in out_of_scope), len(out_of_scope)
        )
        if out_of_scope
        else 0.0,
        "red_flag_recall": _rate(sum(r.status == "urgent" for r in urgent), len(urgent)),
        "over_triage_rate": _rate(sum(r.status == "urgent" for r in ordinary), len(ordinary))
        if ordinary
        else 0.0,
        "pass_rate": _rate(sum(r.passed for r in results), len(results)),
        "latency_p50_ms": latencies[len(latencies) // 2] if latencies else 0.0,
        "latency_p95_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        if latencies
        else 0.0,
    }
    by_category: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        by_category[r.category].append(r)
    summary["by_category"] = {
        cat: {
            "cases": len(rs),
            "status_accuracy": _rate(sum(r.status_ok for r in rs), len(rs)),
            "fact_recall": _rate(sum(r.facts_found for r in rs), sum(r.facts_total for r in rs)),
            "pass_rate": _rate(sum(r.passed for r in rs), len(rs)),
        }
        for cat, rs in sorted(by_category.items())
    }
    return summary
