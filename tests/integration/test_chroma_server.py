"""Chroma in client/server mode: a real `chroma run` server on loopback holds the index."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from helpers import free_port
from ivig_chat.errors import IndexNotReady
from ivig_chat.pipeline import build_pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma CLI ships with the chromadb package"
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).is_success:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("chroma server did not start")
    yield port
    process.terminate()
    process.wait(timeout=20)


def test_ingest_and_search_through_a_chroma_server(
    chroma_server: int, make_settings, tiny_corpus: Path, embeddings
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        corpus_dir=tiny_corpus,
        chroma_mode="http",
        chroma_host="127.0.0.1",
        chroma_port=chroma_server,
    )
    pipeline, report = build_pipeline(settings, embeddings=embeddings)
    assert report is not None and report.embedded == report.chunks + report.sentences > 0
    again, second = build_pipeline(settings, embeddings=embeddings)
    assert second is not None and second.embedded == 0
    hits = again.retriever.search("How much did the relapse rate fall?", "tiny-article", k=3)
    assert hits and hits[0].dense > 0.3
    assert not (settings.data_dir / "chroma").exists(), "http mode must not write a local index"


def test_an_unreachable_chroma_server_is_a_clear_error(make_settings, tiny_corpus: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(corpus_dir=tiny_corpus, chroma_mode="http", chroma_port=free_port())
    with pytest.raises(IndexNotReady, match="not reachable"):
        build_pipeline(settings)
