"""Ingest into a real persistent Chroma with the real model; hybrid search on top of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from helpers import ARTICLE, CORPUS, SOURCE, write_tiny_corpus
from ivig_chat.chunking import chunk_corpus, split_sentences
from ivig_chat.config import Settings
from ivig_chat.embeddings import OFFLINE_ENVIRONMENT, LocalSentenceEmbeddings
from ivig_chat.errors import ArticleNotFound, CorpusError, IndexNotReady
from ivig_chat.index import IngestReport, VectorIndex, make_chroma_client, scope_key
from ivig_chat.pipeline import Pipeline, build_pipeline

pytestmark = pytest.mark.integration

TINY_SCOPE = scope_key("tiny-article")


@dataclass
class Built:
    settings: Settings
    pipeline: Pipeline
    report: IngestReport


@pytest.fixture(scope="module")
def tiny_built(
    tmp_path_factory: pytest.TempPathFactory, embeddings: LocalSentenceEmbeddings
) -> Built:
    """One index of the tiny corpus shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("tiny-shared")
    settings = Settings(
        data_dir=root / "data", corpus_dir=write_tiny_corpus(root), collection="shared_tiny"
    )
    pipeline, report = build_pipeline(settings, embeddings=embeddings)
    assert report is not None
    return Built(settings, pipeline, report)


def _records(store: Any) -> dict[str, dict[str, Any]]:
    got = store.get(include=["metadatas", "documents"])
    return {
        i: {"metadata": m, "document": d}
        for i, m, d in zip(got["ids"], got["metadatas"], got["documents"], strict=True)
    }


def _snapshot(index: VectorIndex) -> dict[str, Any]:
    return {
        "chunks": _records(index.chunks),
        "sentences": _records(index.sentences),
        "chunk_count": index.chunks._collection.count(),
        "sentence_count": index.sentences._collection.count(),
    }


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new), "utf-8")


def _assert_index_matches(pipeline: Pipeline) -> None:
    """Stored ids, metadata and offsets agree with the corpus as it is now."""
    corpus = pipeline.corpus
    chunks = {c.id: c for c in pipeline.chunks}
    stored = _records(pipeline.index.chunks)
    assert set(stored) == set(chunks)
    for cid, record in stored.items():
        c, meta = chunks[cid], record["metadata"]
        assert meta == {
            "doc_id": c.doc_id,
            "kind": c.kind,
            "title": c.title,
            "section": c.section or "",
            "refs": ",".join(str(n) for n in c.refs),
            "start": c.start,
            "end": c.end,
            **{scope_key(a): True for a in c.articles},
        }
        assert corpus.documents[c.doc_id].text[meta["start"] : meta["end"]] == c.text
        assert record["document"] == c.embedding_text()
    sentences = {s.id: s for d in corpus.documents.values() for s in split_sentences(d)}
    stored = _records(pipeline.index.sentences)
    assert set(stored) == set(sentences)
    for sid, record in stored.items():
        meta = record["metadata"]
        assert corpus.documents[meta["doc_id"]].text[meta["start"] : meta["end"]] == record[
            "document"
        ] == sentences[sid].text


# --- ingest ------------------------------------------------------------------------------------


def test_first_run_embeds_everything(tiny_built: Built) -> None:
    report, pipeline = tiny_built.report, tiny_built.pipeline
    assert (report.documents, report.chunks, report.sentences) == (2, 3, 5)
    assert report.embedded == report.chunks + report.sentences == 8
    assert (report.removed, report.rebuilt, report.unchanged) == (0, False, False)
    assert report.changed_documents == ["tiny-article", "tiny-source"]
    assert pipeline.index.count() == 3
    assert pipeline.index.sentences._collection.count() == 5


def test_second_run_is_idempotent(tiny_built: Built, embeddings: LocalSentenceEmbeddings) -> None:
    before = _snapshot(tiny_built.pipeline.index)
    pipeline, report = build_pipeline(tiny_built.settings, embeddings=embeddings)
    assert report is not None
    assert (report.embedded, report.removed, report.unchanged) == (0, 0, True)
    assert report.changed_documents == []
    assert (report.chunks, report.sentences) == (3, 5)
    assert _snapshot(pipeline.index) == before


def test_stored_metadata(tiny_built: Built) -> None:
    pipeline = tiny_built.pipeline
    _assert_index_matches(pipeline)
    chunks = [r["metadata"] for r in _records(pipeline.index.chunks).values()]
    efficacy = next(m for m in chunks if m["section"] == "Efficacy")
    assert efficacy["doc_id"] == "tiny-article"
    assert efficacy["kind"] == "article"
    assert efficacy["title"] == "Tiny article about drug Z"
    assert efficacy["refs"] == "1"
    assert efficacy[TINY_SCOPE] is True
    source = next(m for m in chunks if m["doc_id"] == "tiny-source")
    assert (source["kind"], source["section"], source["refs"], source[TINY_SCOPE]) == (
        "source", "Findings", "", True
    )
    sentences = _records(pipeline.index.sentences)
    assert {tuple(sorted(r["metadata"])) for r in sentences.values()} == {
        ("doc_id", "end", "in:tiny-article", "start")
    }
    assert "The relapse rate fell from 1.2 to 0.6 with drug Z." in {
        r["document"] for r in sentences.values()
    }


def test_editing_one_document_reembeds_only_its_records(
    make_settings: Any, tiny_corpus: Path, embeddings: LocalSentenceEmbeddings
) -> None:
    settings = make_settings(corpus_dir=tiny_corpus)
    pipeline, _ = build_pipeline(settings, embeddings=embeddings)
    before = _snapshot(pipeline.index)

    _edit(tiny_corpus / "sources" / "tiny-source.md", "from 1.2 to 0.6", "from 1.2 to 0.5")
    pipeline, report = build_pipeline(settings, embeddings=embeddings)
    assert report is not None
    assert report.changed_documents == ["tiny-source"]
    assert report.embedded == 2  # the source's one chunk and its edited (last) sentence
    assert report.removed == 2
    after = _snapshot(pipeline.index)
    for collection in ("chunks", "sentences"):
        old = {i: r for i, r in before[collection].items() if i.startswith("tiny-article::")}
        new = {i: r for i, r in after[collection].items() if i.startswith("tiny-article::")}
        assert old == new and old
    assert "The relapse rate fell from 1.2 to 0.5 with drug Z." in {
        r["document"] for r in after["sentences"].values()
    }
    _assert_index_matches(pipeline)

    # Lengthening the first bullet shifts the offsets of everything after it in that article:
    # the stored metadata must follow, so offsets read back from the index still cut the text.
    _edit(
        tiny_corpus / "articles" / "tiny-article.md",
        "Drug Z lowered the relapse rate in one trial",
        "Drug Z clearly lowered the annual relapse rate in one small trial",
    )
    source_records = {i: r for i, r in after["chunks"].items() if i.startswith("tiny-source::")}
    pipeline, report = build_pipeline(settings, embeddings=embeddings)
    assert report is not None
    assert report.changed_documents == ["tiny-article"]
    # Efficacy chunk (edited, new id) + Safety chunk (same id, moved: rewritten) + 3 sentences
    # (sentence ids hash their offset); the old Efficacy chunk and 3 old sentence ids go.
    assert (report.embedded, report.removed) == (5, 4)
    assert {
        i: r for i, r in _records(pipeline.index.chunks).items() if i.startswith("tiny-source::")
    } == source_records
    _assert_index_matches(pipeline)


NOTE = """\
---
id: tiny-note
kind: note
articles: [tiny-article]
title: A note on drug Z costs
---
## Cost

Drug Z costs a great deal of money per infusion.
"""


def test_metadata_only_changes_reach_the_index(
    make_settings: Any, tiny_corpus: Path, embeddings: LocalSentenceEmbeddings
) -> None:
    note = tiny_corpus / "sources" / "tiny-note.md"
    note.write_text(NOTE, "utf-8")
    settings = make_settings(corpus_dir=tiny_corpus)
    pipeline, _ = build_pipeline(settings, embeddings=embeddings)
    vector = embeddings.encode(["How much does drug Z cost?"])[0]
    assert "tiny-note" in {
        pipeline.retriever.chunks[i].doc_id
        for i, _ in pipeline.index.query_chunks(vector, 10, "tiny-article")
    }

    # Same texts, new metadata: the note leaves the article's scope, the Safety line gains a ref.
    _edit(note, "articles: [tiny-article]\n", "")
    _edit(
        tiny_corpus / "articles" / "tiny-article.md",
        "most common side effect.",
        "most common side effect [ref:1].",
    )
    pipeline, report = build_pipeline(settings, embeddings=embeddings)
    assert report is not None
    assert report.removed == 0
    assert report.embedded > 0
    assert report.changed_documents == ["tiny-article", "tiny-note"]
    _assert_index_matches(pipeline)
    safety = next(c for c in pipeline.chunks if c.section == "Safety")
    assert safety.refs == (1,)
    assert _records(pipeline.index.chunks)[safety.id]["metadata"]["refs"] == "1"
    assert "tiny-note" not in {
        pipeline.retriever.chunks[i].doc_id
        for i, _ in pipeline.index.query_chunks(vector, 10, "tiny-article")
    }
    note_meta = [
        r["metadata"]
        for store in (pipeline.index.chunks, pipeline.index.sentences)
        for r in _records(store).values()
        if r["metadata"]["doc_id"] == "tiny-note"
    ]
    assert note_meta and all(TINY_SCOPE not in m for m in note_meta)


ARTICLE_WITHOUT_REFS = ARTICLE.replace(" [ref:1]", "").replace(
    "references:\n  1: tiny-source\n", ""
)


def test_deleting_a_source_removes_its_records(
    make_settings: Any, tiny_corpus: Path, embeddings: LocalSentenceEmbeddings
) -> None:
    settings = make_settings(corpus_dir=tiny_corpus)
    pipeline, _ = build_pipeline(settings, embeddings=embeddings)
    source_records = [
        i
        for store in (pipeline.index.chunks, pipeline.index.sentences)
        for i in _records(store)
        if i.startswith("tiny-source::")
    ]
    assert len(source_records) == 3

    (tiny_corpus / "sources" / "tiny-source.md").unlink()
    (tiny_corpus / "articles" / "tiny-article.md").write_text(ARTICLE_WITHOUT_REFS, "utf-8")
    pipeline, report = build_pipeline(settings, embeddings=embeddings)
    assert report is not None
    assert report.documents == 1
    assert report.removed >= 3
    for store in (pipeline.index.chunks, pipeline.index.sentences):
        assert {r["metadata"]["doc_id"] for r in _records(store).values()} == {"tiny-article"}
    assert pipeline.index.count() == report.chunks == 2
    assert pipeline.index.sentences._collection.count() == report.sentences == 3
    _assert_index_matches(pipeline)


def test_bad_corpus_leaves_the_index_untouched(
    make_settings: Any, tiny_corpus: Path, embeddings: LocalSentenceEmbeddings
) -> None:
    settings = make_settings(corpus_dir=tiny_corpus)
    pipeline, _ = build_pipeline(settings, embeddings=embeddings)
    before = _snapshot(pipeline.index)
    assert before["chunk_count"] == 3 and before["sentence_count"] == 5

    # A valid edit and a broken file in the same refresh: nothing may be applied.
    _edit(tiny_corpus / "articles" / "tiny-article.md", "Headache", "Nausea")
    broken = tiny_corpus / "sources" / "tiny-source.md"
    _edit(broken, "title: The drug Z trial\n", "")
    with pytest.raises(CorpusError) as exc:
        build_pipeline(settings, embeddings=embeddings)
    assert exc.value.path == broken
    assert "missing front matter 'title'" in str(exc.value)

    reopened = VectorIndex(make_chroma_client(settings), settings.collection, embeddings)
    assert _snapshot(reopened) == before


RESTART = textwrap.dedent(
    """\
    import json, sys
    from pathlib import Path
    from ivig_chat.config import Settings
    from ivig_chat.pipeline import build_pipeline

    data_dir, corpus_dir, collection = sys.argv[1:4]
    settings = Settings(data_dir=Path(data_dir), corpus_dir=Path(corpus_dir), collection=collection)
    pipeline, report = build_pipeline(settings, refresh=False)
    print(json.dumps({
        "report": report,
        "chunks": sorted(pipeline.index.chunks.get(include=[])["ids"]),
        "sentences": sorted(pipeline.index.sentences.get(include=[])["ids"]),
        "count": pipeline.index.count(),
        "model_loaded": pipeline.embeddings._model is not None,
    }))
    """
)


def test_restart_finds_the_same_index(tiny_built: Built) -> None:
    settings = tiny_built.settings
    result = subprocess.run(
        [sys.executable, "-c", RESTART, str(settings.data_dir), str(settings.corpus_dir),
         settings.collection],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    reopened = json.loads(result.stdout.strip().splitlines()[-1])
    index = tiny_built.pipeline.index
    assert reopened == {
        "report": None,
        "chunks": sorted(index.chunks.get(include=[])["ids"]),
        "sentences": sorted(index.sentences.get(include=[])["ids"]),
        "count": 3,
        "model_loaded": False,  # opening an existing index does not need the model
    }


def test_refresh_false_needs_a_built_index(
    make_settings: Any, tiny_corpus: Path, embeddings: LocalSentenceEmbeddings
) -> None:
    settings = make_settings(corpus_dir=tiny_corpus)
    with pytest.raises(IndexNotReady, match="ivig-chat ingest"):
        build_pipeline(settings, refresh=False, embeddings=embeddings)
    index = VectorIndex(make_chroma_client(settings), settings.collection, embeddings)
    assert index.count() == 0  # refresh=False did not build anything


def test_refresh_false_opens_a_built_index(
    tiny_built: Built, embeddings: LocalSentenceEmbeddings
) -> None:
    pipeline, report = build_pipeline(tiny_built.settings, refresh=False, embeddings=embeddings)
    assert report is None
    assert pipeline.index.count() == 3
    assert pipeline.retriever.search("relapse rate", "tiny-article")


# --- search ------------------------------------------------------------------------------------


def test_search_returns_scored_hits(
    tiny_built: Built, embeddings: LocalSentenceEmbeddings
) -> None:
    query = "What dose was used?"
    hits = tiny_built.pipeline.retriever.search(query, "tiny-article")
    assert len(hits) == 3  # k=5 but only 3 chunks exist
    top = hits[0]
    assert (top.chunk.doc_id, top.chunk.section) == ("tiny-article", "Efficacy")
    assert top.chunk.refs == (1,)
    assert "0.4 g/kg/day" in top.chunk.text
    assert top.lexical > 0
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    q = embeddings.encode([query])[0]
    for hit in hits:
        assert hit.via_ref is None  # every cited source is already in the top k
        assert hit.lexical >= 0
        expected = float(np.dot(q, embeddings.encode([hit.chunk.embedding_text()])[0]))
        assert hit.dense == pytest.approx(expected, abs=1e-4)
    assert {h.chunk.doc_id for h in hits} == {"tiny-article", "tiny-source"}
    as_dict = top.as_dict()
    assert as_dict["doc_id"] == "tiny-article" and as_dict["refs"] == [1]
    assert set(as_dict) >= {"chunk_id", "section", "score", "dense", "lexical", "via_ref", "text"}


def test_article_hit_brings_its_cited_source(tiny_built: Built) -> None:
    hits = tiny_built.pipeline.retriever.search("What dose was used?", "tiny-article", k=1)
    assert [(h.chunk.doc_id, h.via_ref) for h in hits] == [
        ("tiny-article", None),
        ("tiny-source", 1),
    ]
    assert hits[0].chunk.refs == (1,)
    assert hits[1].chunk.section == "Findings"


def test_unknown_article(tiny_built: Built) -> None:
    retriever = tiny_built.pipeline.retriever
    with pytest.raises(ArticleNotFound):
        retriever.search("What dose was used?", "no-such-article")
    with pytest.raises(ArticleNotFound):
        retriever.search("What dose was used?", "tiny-source")  # a source is not an article


def test_off_topic_query_scores_lower(tiny_built: Built) -> None:
    retriever = tiny_built.pipeline.retriever
    off = max(h.dense for h in retriever.search("chocolate cake recipe", "tiny-article"))
    on = max(h.dense for h in retriever.search("What was the relapse rate?", "tiny-article"))
    assert off < on - 0.2
    assert off < 0.2


OTHER_ARTICLE = """\
---
id: other-article
kind: article
title: Another article about drug Y
disclaimers:
  clinician: For professionals only.
  patient: Talk to your doctor.
---
## Efficacy

Drug Y lowered the relapse rate in two trials.
"""

CITED_ONLY = """\
---
id: cited-only
kind: source
title: Drug Z costs
---
## Cost

Drug Z costs a great deal of money per infusion.
"""


def test_search_stays_in_the_article_scope(
    make_settings: Any, tmp_path: Path, embeddings: LocalSentenceEmbeddings
) -> None:
    corpus_dir = write_tiny_corpus(
        tmp_path,
        article=ARTICLE.replace("  1: tiny-source\n", "  1: tiny-source\n  2: cited-only\n"),
        source=SOURCE,
    )
    (corpus_dir / "articles" / "other-article.md").write_text(OTHER_ARTICLE, "utf-8")
    (corpus_dir / "sources" / "cited-only.md").write_text(CITED_ONLY, "utf-8")
    pipeline, _ = build_pipeline(make_settings(corpus_dir=corpus_dir), embeddings=embeddings)
    retriever = pipeline.retriever

    tiny = retriever.search("relapse rate of drug", "tiny-article", k=10)
    assert {h.chunk.doc_id for h in tiny} == {"tiny-article", "tiny-source", "cited-only"}
    other = retriever.search("relapse rate of drug", "other-article", k=10)
    assert {h.chunk.doc_id for h in other} == {"other-article"}
    # A source the article cites by number (without listing the article itself) is found by
    # dense search too, not only by BM25.
    dense = pipeline.index.query_chunks(
        embeddings.encode(["How much does drug Z cost?"])[0], 10, "tiny-article"
    )
    assert "cited-only" in {retriever.chunks[i].doc_id for i, _ in dense}


# --- the real corpus ---------------------------------------------------------------------------


@pytest.mark.slow
def test_real_corpus_ingest_and_search(
    make_settings: Any, embeddings: LocalSentenceEmbeddings
) -> None:
    settings = make_settings(corpus_dir=CORPUS)
    pipeline, report = build_pipeline(settings, embeddings=embeddings)
    assert report is not None
    chunks = chunk_corpus(pipeline.corpus)
    sentences = [s for d in pipeline.corpus.documents.values() for s in split_sentences(d)]
    assert report.documents == 14
    assert (report.chunks, report.sentences) == (len(chunks), len(sentences))
    assert report.embedded == len(chunks) + len(sentences)
    assert report.changed_documents == sorted(pipeline.corpus.documents)
    _assert_index_matches(pipeline)

    pipeline, again = build_pipeline(settings, embeddings=embeddings)
    assert again is not None and (again.embedded, again.removed) == (0, 0)

    retriever = pipeline.retriever
    progressive = retriever.search("Does IVIG help in secondary progressive MS?", "ivig-ms", k=3)
    assert progressive[0].chunk.section == "Current Evidence on IVIG in MS > Progressive MS"
    assert progressive[0].chunk.refs == (3, 2)
    cited = {h.via_ref: h.chunk.doc_id for h in progressive if h.via_ref}
    assert cited.get(3, "lisak-1998-review") == "lisak-1998-review"

    relapse = retriever.search("Can IVIG be used for an acute MS relapse?", "ivig-ms", k=3)
    assert "elovaara-2011-relapse" in {h.chunk.doc_id for h in relapse}
    assert any(h.chunk.kind == "article" and 4 in h.chunk.refs for h in relapse)

    off = max(h.dense for h in retriever.search("chocolate cake recipe", "ivig-ms"))
    on = max(h.dense for h in progressive)
    assert off < 0.2 < on - 0.3


# --- offline -----------------------------------------------------------------------------------

OFFLINE_SCRIPT = textwrap.dedent(
    """\
    import os, urllib.request
    assert "HF_HUB_OFFLINE" not in os.environ
    from ivig_chat.embeddings import LocalSentenceEmbeddings, packaged_model_path
    vectors = LocalSentenceEmbeddings(packaged_model_path()).encode(["IVIG in multiple sclerosis"])
    print("shape", vectors.shape, "norm", round(float((vectors ** 2).sum()), 3))
    try:  # prove the network really is unreachable through the dead proxy
        urllib.request.urlopen("https://huggingface.co/api/models", timeout=10)
        print("network reachable")
    except OSError:
        print("network unreachable")
    """
)


def test_model_loads_without_network(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in OFFLINE_ENVIRONMENT and k.lower() not in {"no_proxy", "all_proxy"}
    }
    dead = "http://127.0.0.1:9"
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, http_proxy=dead, https_proxy=dead)
    env["HF_HOME"] = str(tmp_path / "hf-home")  # an empty cache: nothing to fall back on
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT],
        capture_output=True, text=True, env=env, timeout=300, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "shape (1, 384) norm 1.0" in result.stdout
    assert "network unreachable" in result.stdout
