"""The console script, run as a real subprocess against a temp data dir and the tiny corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import KNOWLEDGE, write_tiny_corpus

pytestmark = pytest.mark.integration


def _env(data_dir: Path, corpus_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVIG_CHAT_")}
    env.update(
        IVIG_CHAT_DATA_DIR=str(data_dir),
        IVIG_CHAT_CORPUS_DIR=str(corpus_dir),
        IVIG_CHAT_KNOWLEDGE_DIR=str(KNOWLEDGE),
        IVIG_CHAT_DEFAULT_ARTICLE="tiny-article",
    )
    return env


def _run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivig_chat", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    root = tmp_path_factory.mktemp("cli")
    return _env(root / "data", write_tiny_corpus(root)), root


@pytest.fixture(scope="module")
def first_ingest(workspace: tuple[dict[str, str], Path]) -> subprocess.CompletedProcess[str]:
    env, root = workspace
    return _run(env, root, "ingest")


def test_ingest(
    workspace: tuple[dict[str, str], Path], first_ingest: subprocess.CompletedProcess[str]
) -> None:
    _, root = workspace
    assert first_ingest.returncode == 0, first_ingest.stderr
    out = first_ingest.stdout
    assert "Index updated: 2 documents, 3 chunks, 5 sentences; embedded 8, removed 0" in out
    assert str(root / "data" / "chroma") in out
    assert (root / "data" / "chroma").is_dir()


def test_second_ingest_json_embeds_nothing(
    workspace: tuple[dict[str, str], Path], first_ingest: subprocess.CompletedProcess[str]
) -> None:
    env, root = workspace
    assert first_ingest.returncode == 0, first_ingest.stderr
    result = _run(env, root, "ingest", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["embedded"], report["removed"]) == (0, 0)
    assert (report["documents"], report["chunks"], report["sentences"]) == (2, 3, 5)
    assert report["changed_documents"] == []
    assert isinstance(report["seconds"], float | int)


def test_search_json(
    workspace: tuple[dict[str, str], Path], first_ingest: subprocess.CompletedProcess[str]
) -> None:
    env, root = workspace
    assert first_ingest.returncode == 0, first_ingest.stderr
    result = _run(env, root, "search", "relapse rate", "--json", "--k", "2")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    ranked = [h for h in hits if h["via_ref"] is None]
    assert len(ranked) == 2
    for hit in hits:
        assert hit["doc_id"] in {"tiny-article", "tiny-source"}
        assert hit["section"] in {"Efficacy", "Safety", "Findings"}
        assert isinstance(hit["refs"], list) and all(isinstance(n, int) for n in hit["refs"])
        assert isinstance(hit["score"], float) and hit["score"] > 0
    assert ranked[0]["score"] >= ranked[1]["score"]
    assert {(h["doc_id"], h["section"]) for h in ranked} == {
        ("tiny-article", "Efficacy"),
        ("tiny-source", "Findings"),
    }
    efficacy = next(h for h in hits if h["section"] == "Efficacy")
    assert efficacy["refs"] == [1]
    assert "relapse rate" in efficacy["text"]


def test_search_unknown_article_exits_2(
    workspace: tuple[dict[str, str], Path], first_ingest: subprocess.CompletedProcess[str]
) -> None:
    env, root = workspace
    assert first_ingest.returncode == 0, first_ingest.stderr
    result = _run(env, root, "search", "relapse rate", "--article", "nope")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ivig-chat: No article with id 'nope'; see GET /v1/articles."
    )
    assert "Traceback" not in result.stderr


def test_search_on_bad_corpus_exits_2_with_one_line(tmp_path: Path) -> None:
    corpus = write_tiny_corpus(tmp_path)
    bad = corpus / "sources" / "tiny-source.md"
    bad.write_text(bad.read_text("utf-8").replace("title: The drug Z trial\n", ""), "utf-8")
    result = _run(_env(tmp_path / "data", corpus), tmp_path, "search", "relapse rate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [f"ivig-chat: {bad}: missing front matter 'title'"]
