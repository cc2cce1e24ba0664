"""`ivig-chat eval` in-process on the real corpus and model: report files, reasons, gates.

One module-scoped index (a temp data dir) serves both tests: a quick subset run whose gates are
made to fail on purpose, and the full run CI relies on (every suite, both splits, the
distractor corpus), which must pass evals/thresholds.toml.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from ivig_chat.cli import build_parser
from ivig_chat.config import Settings
from ivig_chat.evals.runner import options_from_args, run
from ivig_chat.pipeline import build_pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
EVALS = REPO / "evals"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embeddings: Any) -> tuple[Settings, Any]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("eval") / "data",
        corpus_dir=REPO / "corpus",
        collection="eval_suite_test",
    )
    pipeline, _ = build_pipeline(settings, embeddings=embeddings)
    return settings, pipeline


def _run(built: tuple[Settings, Any], *argv: str) -> tuple[int, dict[str, Any], Path, str]:
    settings, pipeline = built
    args = build_parser().parse_args(["eval", "--no-progress", *argv])
    console = io.StringIO()
    outcome = run(settings, options_from_args(args), pipeline, out=console)
    return outcome.exit_code, outcome.report, outcome.out_dir, console.getvalue()


def test_subset_run_writes_a_complete_report_and_fails_on_a_gate(
    built: tuple[Settings, Any], tmp_path: Path
) -> None:
    evals = tmp_path / "evals"
    shutil.copytree(EVALS / "datasets", evals / "datasets")
    shutil.copytree(EVALS / "fixtures", evals / "fixtures")
    thresholds = (EVALS / "thresholds.toml").read_text("utf-8")
    # An unreachable quality threshold: the run must exit 1 and name it.
    thresholds = re.sub(r"(?m)^fact_recall_min = .*$", "fact_recall_min = 1.01", thresholds)
    (evals / "thresholds.toml").write_text(thresholds, "utf-8")
    out = tmp_path / "report"
    code, report, out_dir, console = _run(
        built,
        "--evals-dir",
        str(evals),
        "--out",
        str(out),
        "--suite",
        "chat",
        "--cases",
        "dev-001,dev-002,dev-040,dev-049,dev-056,dev-063,hold-001,hold-035",
    )
    assert out_dir == out
    for name in ("report.json", "summary.md", "report.html"):
        assert (out / name).is_file(), name
    assert code == 1
    assert "fact_recall @ dev" in console and "RESULT: FAIL" in console
    assert report["passed"] is False

    saved = json.loads((out / "report.json").read_text("utf-8"))
    assert {r["split"] for r in saved["rows"]} == {"dev", "holdout", "canary"}
    for row in saved["rows"]:
        assert row["metrics"], row["id"]
        for name, metric in row["metrics"].items():
            assert metric["reason"], (row["id"], name)
            assert 0.0 <= metric["score"] <= 1.0
        assert row["versions"]["answerer"] and len(row["versions"]["corpus_hash"]) == 64
        assert len(row["versions"]["dataset_hash"]) == 64
        assert row["timings"]["e2e_ms"] > 0 and "embed_ms" in row["timings"]
        assert row["answer"] and "citations" in row
    by_id = {r["id"]: r for r in saved["rows"]}
    assert by_id["dev-049"]["status"] == "urgent"
    assert by_id["dev-040"]["metrics"]["abstention"]["score"] == 1.0
    assert "citation_recall" in by_id["dev-002"]["metrics"]

    page = (out / "report.html").read_text("utf-8")
    assert "<script" not in page and "<link " not in page
    assert not re.search(r"(?:src|href)\s*=\s*['\"]?https?:", page)
    assert "<svg" in page and page.index("Failing cases") < page.index("All cases")
    assert "| metric |" in (out / "summary.md").read_text("utf-8")


def test_full_eval_passes_the_gates_and_thresholds(
    built: tuple[Settings, Any], tmp_path: Path
) -> None:
    """What CI enforces: `ivig-chat eval` (both splits, distractor run included) exits 0."""
    code, report, _, console = _run(built, "--evals-dir", str(EVALS), "--out", str(tmp_path))
    assert set(report["summary"]["splits"]) >= {"dev", "holdout", "canary"}
    assert {"retrieval", "support", "distractor"} <= set(report["summary"])
    assert code == 0, console
