"""Corpus reading: front matter, reference markers, the real corpus, bad input, PDF and HTML."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import ARTICLE, CORPUS, SOURCE, write_tiny_corpus
from ivig_chat.chunking import split_sentences
from ivig_chat.corpus import (
    Corpus,
    RefMark,
    load_corpus,
    read_document,
    split_front_matter,
    strip_reference_markers,
)
from ivig_chat.errors import ArticleNotFound, CorpusError, DocumentNotFound

ARTICLE_ID = "ivig-ms"
EXPECTED_REFERENCES = {
    1: "sorensen-2002-meta-analysis",
    2: "sorensen-2003-review",
    3: "lisak-1998-review",
    4: "elovaara-2011-relapse",
    5: "storch-hagenlocher-2009-update",
}
EXPECTED_NOTES = {
    "achiron-2004-cis-trial",
    "cochrane-ivig-ms-review",
    "ivig-adverse-effects",
    "ivig-other-ms-settings-trials",
    "ivig-pregnancy-postpartum",
    "ivig-progressive-ms-trials",
    "ivig-relapse-add-on-trials",
    "ivig-rrms-trials",
}
PAGE_CHROME = (
    "Personalize", "Help us tailor", "Have a follow-up question", "Which best describes you"
)


@pytest.fixture(scope="module")
def real() -> Corpus:
    return load_corpus(CORPUS)


# --- front matter ------------------------------------------------------------------------------


def test_front_matter_valid() -> None:
    raw = "---\nid: a-doc\ntitle: A doc\nref: 3\n---\n# A doc\n\nBody.\n"
    meta, body = split_front_matter(raw, Path("a.md"))
    assert meta == {"id": "a-doc", "title": "A doc", "ref": 3}
    assert body == "# A doc\n\nBody.\n"


def test_front_matter_missing_returns_whole_text() -> None:
    raw = "# No front matter\n\n---\nid: not-front-matter\n---\n"
    assert split_front_matter(raw, Path("a.md")) == ({}, raw)


def test_front_matter_not_a_mapping() -> None:
    with pytest.raises(CorpusError) as exc:
        split_front_matter("---\n- id\n- title\n---\nBody\n", Path("list.md"))
    assert exc.value.path == Path("list.md")
    assert "must be a YAML mapping" in str(exc.value)
    assert str(exc.value).startswith("list.md: ")


def test_front_matter_invalid_yaml() -> None:
    with pytest.raises(CorpusError) as exc:
        split_front_matter("---\nid: [unclosed\ntitle: x\n---\nBody\n", Path("bad.md"))
    assert exc.value.path == Path("bad.md")
    assert "front matter is not valid YAML" in str(exc.value)


# --- reference markers -------------------------------------------------------------------------


def test_marker_removed_with_its_space_and_offset_kept() -> None:
    clean, marks = strip_reference_markers("for 5 days [ref:4] to various")
    assert clean == "for 5 days to various"
    assert marks == (RefMark(offset=10, refs=(4,)),)
    assert clean[: marks[0].offset] == "for 5 days"


def test_numbers_that_look_like_markers_are_untouched() -> None:
    text = "One small study (n=12) found p=0.00003 and [1] and ref:2 in [refs]."
    assert strip_reference_markers(text) == (text, ())


def test_marker_with_several_numbers_and_spaces() -> None:
    assert strip_reference_markers("A [ref:2,5]") == ("A", (RefMark(1, (2, 5)),))
    clean, marks = strip_reference_markers("B[ref: 2 , 5 ].")
    assert clean == "B."
    assert marks == (RefMark(1, (2, 5)),)


def test_offsets_of_several_markers() -> None:
    raw = "Alpha [ref:1] beta [ref:2,3]. Gamma delta [ref:4]\n- Item [ref:5]"
    clean, marks = strip_reference_markers(raw)
    assert clean == "Alpha beta. Gamma delta\n- Item"
    assert [m.refs for m in marks] == [(1,), (2, 3), (4,), (5,)]
    assert [clean[: m.offset].split()[-1] for m in marks] == ["Alpha", "beta", "delta", "Item"]
    assert [m.offset for m in marks] == [5, 10, 23, 30]


# --- the real corpus ---------------------------------------------------------------------------


def test_real_article_references_map_to_existing_sources(real: Corpus) -> None:
    article = real.article(ARTICLE_ID)
    assert dict(article.references) == EXPECTED_REFERENCES
    for n, doc_id in EXPECTED_REFERENCES.items():
        source = real.documents[doc_id]
        assert source.kind == "source"
        assert source.ref == n
        assert ARTICLE_ID in source.articles
    assert {n for m in article.ref_marks for n in m.refs} == {1, 2, 3, 4, 5}


def test_real_article_text_is_clean(real: Corpus) -> None:
    article = real.article(ARTICLE_ID)
    assert "0.4g/kg/day for 5 days to various monthly regimens" in article.text
    assert "One small study (n=12) suggested" in article.text
    assert "(effect size -0.5; p=0.00003)" in article.text
    for doc in real.documents.values():
        assert "[ref:" not in doc.text, doc.id
        for chrome in PAGE_CHROME:
            assert chrome not in doc.text, (doc.id, chrome)


def test_real_article_marker_sits_after_the_text_it_supports(real: Corpus) -> None:
    article = real.article(ARTICLE_ID)
    marks = [m for m in article.ref_marks if article.text[: m.offset].endswith("for 5 days")]
    assert len(marks) == 1
    mark = marks[0]
    assert mark.refs == (4,)
    assert article.text[mark.offset :].startswith(" to various monthly regimens")


def test_real_article_disclaimers(real: Corpus) -> None:
    disclaimers = real.article(ARTICLE_ID).disclaimers
    assert set(disclaimers) >= {"clinician", "patient"}
    assert "intended for healthcare professionals" in disclaimers["clinician"]
    assert "not medical advice" in disclaimers["patient"]
    assert "talk to your doctor" in disclaimers["patient"]


def test_real_rrms_relapse_sentence_cites_refs_1_and_2(real: Corpus) -> None:
    sentences = [
        s for s in split_sentences(real.article(ARTICLE_ID))
        if "may reduce relapse rates and MRI activity in RRMS" in s.text
    ]
    assert len(sentences) == 1
    assert sentences[0].refs == (1, 2)
    assert sentences[0].section == "Current Evidence on IVIG in MS > Relapsing-Remitting MS (RRMS)"


_SUMMARY = re.compile(
    r"This document is a summary of [^.]+, prepared for the ivig-chat corpus from the "
    r"publication's (?:English )?abstract; it is not the publication's own text\."
)


def test_real_sources_say_they_are_abstract_summaries(real: Corpus) -> None:
    sources = [d for d in real.documents.values() if d.kind == "source"]
    assert {d.id for d in sources} == set(EXPECTED_REFERENCES.values())
    for doc in sources:
        first = split_sentences(doc)[0]
        assert _SUMMARY.fullmatch(first.text), (doc.id, first.text)
        assert doc.meta["document_type"] == "abstract-summary"


def test_real_notes_say_they_are_not_cited(real: Corpus) -> None:
    notes = [d for d in real.documents.values() if d.kind == "note"]
    assert {d.id for d in notes} == EXPECTED_NOTES
    for doc in notes:
        assert "is NOT cited by the article on IVIG in multiple sclerosis" in doc.text, doc.id
        assert doc.ref is None
        assert doc.meta["cited_by_article"] is False
        assert real.ref_of(doc, ARTICLE_ID) is None


def test_real_scope_and_lookups(real: Corpus) -> None:
    scope = real.scope(ARTICLE_ID)
    assert scope[0].id == ARTICLE_ID
    assert [d.id for d in scope[1:]] == sorted(set(real.documents) - {ARTICLE_ID})
    assert len(scope) == 1 + len(EXPECTED_REFERENCES) + len(EXPECTED_NOTES)
    source = real.source_for_ref(ARTICLE_ID, 4)
    assert source is not None and source.id == "elovaara-2011-relapse"
    assert real.source_for_ref(ARTICLE_ID, 9) is None
    assert real.ref_of(real.documents["sorensen-2003-review"], ARTICLE_ID) == 2
    assert [d.id for d in real.articles()] == [ARTICLE_ID]
    with pytest.raises(ArticleNotFound):
        real.scope("no-such-article")
    with pytest.raises(ArticleNotFound):
        real.article("elovaara-2011-relapse")  # a source, not an article
    with pytest.raises(DocumentNotFound):
        real.document("no-such-document")


# --- scope on a small corpus -------------------------------------------------------------------


OTHER = """\
---
id: other-source
kind: source
articles: [another-article]
title: Unrelated source
---
Nothing to do with drug Z.
"""

CITED_ONLY = """\
---
id: cited-only
kind: source
title: Cited by reference number only
---
This source lists no articles but the article cites it as reference 2.
"""


def test_scope_excludes_unrelated_and_includes_cited_documents(tmp_path: Path) -> None:
    corpus_dir = write_tiny_corpus(
        tmp_path,
        article=ARTICLE.replace("  1: tiny-source\n", "  1: tiny-source\n  2: cited-only\n"),
    )
    (corpus_dir / "sources" / "other-source.md").write_text(OTHER, "utf-8")
    (corpus_dir / "sources" / "cited-only.md").write_text(CITED_ONLY, "utf-8")
    corpus = load_corpus(corpus_dir)
    scope = [d.id for d in corpus.scope("tiny-article")]
    assert scope == ["tiny-article", "cited-only", "tiny-source"]
    assert corpus.ref_of(corpus.documents["cited-only"], "tiny-article") == 2
    # A cited source belongs to the article even without an 'articles' entry, so the index's
    # scope flags (built from Document.articles) agree with Corpus.scope.
    assert corpus.documents["cited-only"].articles == ("tiny-article",)
    assert corpus.documents["other-source"].articles == ("another-article",)


def test_tiny_corpus_metadata(tiny_corpus: Path) -> None:
    corpus = load_corpus(tiny_corpus)
    article, source = corpus.documents["tiny-article"], corpus.documents["tiny-source"]
    assert (article.kind, article.title) == ("article", "Tiny article about drug Z")
    assert article.last_updated == "2025-01-02"  # a YAML date comes back as ISO text
    assert article.review_status == "draft"
    assert article.disclaimers == {
        "clinician": "For professionals only.",
        "patient": "Talk to your doctor or healthcare provider.",
    }
    assert (source.ref, source.url) == (1, "https://example.org/tiny")
    assert source.articles == ("tiny-article",)
    assert source.citation == "Doe J. The drug Z trial. J Tiny. 2020;1:1-2."
    assert article.path == tiny_corpus / "articles" / "tiny-article.md"


# --- bad corpus input --------------------------------------------------------------------------

Mutation = Callable[[Path], Path]  # edits a tiny corpus; returns the file the error must name


def _source_path(root: Path) -> Path:
    return root / "sources" / "tiny-source.md"


def _article_path(root: Path) -> Path:
    return root / "articles" / "tiny-article.md"


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text("utf-8")
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new), "utf-8")
    return path


def _no_front_matter(root: Path) -> Path:
    path = _source_path(root)
    path.write_text(SOURCE.split("---\n", 2)[2], "utf-8")
    return path


def _duplicate_id(root: Path) -> Path:
    path = root / "sources" / "zz-copy.md"  # read after tiny-source.md
    path.write_text(SOURCE, "utf-8")
    return path


def _garbage_pdf(root: Path) -> Path:
    path = root / "sources" / "x.pdf"
    path.write_bytes(b"%PDF-1.4 this is not really a pdf \x00\x01\x02")
    (root / "sources" / "x.pdf.meta.yaml").write_text("id: x\ntitle: X\n", "utf-8")
    return path


def _html_without_metadata(root: Path) -> Path:
    path = root / "sources" / "page.html"
    path.write_text("<html><body><p>Some readable text.</p></body></html>", "utf-8")
    return path


def _html_with_title_only(root: Path) -> Path:
    path = root / "sources" / "titled.html"
    path.write_text("<html><head><title>T</title></head><body><p>Text.</p></body></html>", "utf-8")
    return path


def _unsupported_kind(root: Path) -> Path:
    return _edit(_source_path(root), "kind: source", "kind: blog")


def _drop(old: str, path: Callable[[Path], Path] = _source_path) -> Mutation:
    return lambda root: _edit(path(root), old, "")


BAD_INPUTS: dict[str, tuple[Mutation, str]] = {
    "missing front matter": (
        _no_front_matter,
        "missing front matter: add a YAML block or a sidecar tiny-source.md.meta.yaml",
    ),
    "missing id": (_drop("id: tiny-source\n"), "missing front matter 'id'"),
    "missing title": (_drop("title: The drug Z trial\n"), "missing front matter 'title'"),
    "reference to no source": (
        lambda r: _edit(
            _article_path(r), "  1: tiny-source\n", "  1: tiny-source\n  2: ghost-source\n"
        ),
        "reference 2 points to 'ghost-source', which no source defines",
    ),
    "cited ref not in references": (
        lambda r: _edit(_article_path(r), "in one trial [ref:1]", "in one trial [ref:1,9]"),
        "text cites reference(s) [9] that 'references' does not map",
    ),
    "article without disclaimers": (
        _drop(
            "disclaimers:\n  clinician: For professionals only.\n"
            "  patient: Talk to your doctor or healthcare provider.\n",
            _article_path,
        ),
        "article needs a 'clinician' disclaimer",
    ),
    "article without patient disclaimer": (
        _drop("  patient: Talk to your doctor or healthcare provider.\n", _article_path),
        "article needs a 'patient' disclaimer",
    ),
    "duplicate id": (_duplicate_id, "id 'tiny-source' is also used by "),
    "unsupported kind": (_unsupported_kind, "kind 'blog' must be one of article, source, note"),
    "unreadable pdf": (_garbage_pdf, "unreadable PDF"),
    "html without metadata": (
        _html_without_metadata,
        "missing front matter: add a YAML block or a sidecar page.html.meta.yaml",
    ),
    "html with only a title": (_html_with_title_only, "missing front matter 'id'"),
    "bad id": (
        lambda r: _edit(_source_path(r), "id: tiny-source", "id: Tiny Source"),
        "id 'Tiny Source' must be lowercase",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_corpus_input_names_file_and_problem(tiny_corpus: Path, case: str) -> None:
    load_corpus(tiny_corpus)  # valid before the edit
    mutate, problem = BAD_INPUTS[case]
    bad_file = mutate(tiny_corpus)
    with pytest.raises(CorpusError) as exc:
        load_corpus(tiny_corpus)
    assert Path(exc.value.path) == bad_file
    assert str(exc.value).startswith(f"{bad_file}: ")
    assert problem in exc.value.problem
    if case == "duplicate id":
        assert str(_source_path(tiny_corpus)) in exc.value.problem


def test_missing_corpus_folder_and_no_article(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="corpus folder not found"):
        load_corpus(tmp_path / "nowhere")
    (tmp_path / "c" / "sources").mkdir(parents=True)
    (tmp_path / "c" / "sources" / "s.md").write_text(SOURCE, "utf-8")
    with pytest.raises(CorpusError) as exc:
        load_corpus(tmp_path / "c")
    assert exc.value.path == tmp_path / "c" / "articles"
    assert "no article found" in exc.value.problem


# --- PDF and HTML ------------------------------------------------------------------------------

PDF_SENTENCES = (
    "Drug Z reduced relapses by half in the PDF trial.",
    "Headache was reported by two of the forty patients.",
)


def _write_pdf(path: Path) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    for i, sentence in enumerate(PDF_SENTENCES):
        pdf.drawString(72, 720 - 20 * i, sentence)
    pdf.showPage()
    pdf.save()


def test_pdf_with_sidecar(tiny_corpus: Path) -> None:
    path = tiny_corpus / "sources" / "z-trial.pdf"
    _write_pdf(path)
    (tiny_corpus / "sources" / "z-trial.pdf.meta.yaml").write_text(
        "id: z-trial-pdf\nkind: source\ntitle: The drug Z trial (PDF)\narticles: [tiny-article]\n",
        "utf-8",
    )
    doc = read_document(path)
    assert (doc.id, doc.kind, doc.title, doc.articles) == (
        "z-trial-pdf", "source", "The drug Z trial (PDF)", ("tiny-article",)
    )
    assert doc.text == "\n".join(PDF_SENTENCES) + "\n"
    assert [s.text for s in split_sentences(doc)] == list(PDF_SENTENCES)
    corpus = load_corpus(tiny_corpus)  # the sidecar itself is not read as a document
    assert set(corpus.documents) == {"tiny-article", "tiny-source", "z-trial-pdf"}
    assert "z-trial-pdf" in {d.id for d in corpus.scope("tiny-article")}


HTML = textwrap.dedent(
    """\
    <!doctype html>
    <html>
    <head><title>  Drug Z   results page </title>
    <script>var tracking = "script junk";</script><style>p { color: red }</style></head>
    <body>
    <nav><a href="/">nav junk Home</a> <a href="/about">About</a></nav>
    <header>header junk</header>
    <h2>Main results</h2>
    <p>Drug Z lowered the
       relapse rate in <b>one</b> trial.</p>
    <p>Patients were monitored for:</p>
    <ul><li>Relapses</li><li>MRI <i>activity</i></li></ul>
    <footer>footer junk</footer>
    <script>console.log("more script junk")</script>
    </body>
    </html>
    """
)


def test_html_with_sidecar(tiny_corpus: Path) -> None:
    path = tiny_corpus / "sources" / "results.html"
    path.write_text(HTML, "utf-8")
    (tiny_corpus / "sources" / "results.html.meta.yaml").write_text(
        "id: z-results-html\narticles: [tiny-article]\nurl: https://example.org/z\n", "utf-8"
    )
    doc = read_document(path)
    assert doc.text == (
        "## Main results\n\n"
        "Drug Z lowered the relapse rate in one trial.\n\n"
        "Patients were monitored for:\n\n"
        "- Relapses\n\n"
        "- MRI activity\n"
    )
    for junk in ("junk", "tracking", "color", "Home", "About"):
        assert junk not in doc.text
    assert (doc.id, doc.kind, doc.title) == ("z-results-html", "source", "Drug Z results page")
    assert (doc.url, doc.articles) == ("https://example.org/z", ("tiny-article",))
    sentences = split_sentences(doc)
    assert [s.text for s in sentences] == [
        "Drug Z lowered the relapse rate in one trial.",
        "Patients were monitored for:",
        "Relapses",
        "MRI activity",
    ]
    assert all(s.section == "Main results" for s in sentences)
    # The list items complete the "...:" paragraph even though HTML blocks are blank-line separated.
    assert [s.lead_in for s in sentences[2:]] == [sentences[1].id] * 2
    assert "z-results-html" in load_corpus(tiny_corpus).documents


def test_sidecar_title_wins_over_html_title(tmp_path: Path) -> None:
    path = tmp_path / "p.htm"
    path.write_text("<title>Page title</title><p>Body text here.</p>", "utf-8")
    (tmp_path / "p.htm.meta.yaml").write_text("id: p\ntitle: Sidecar title\n", "utf-8")
    assert read_document(path).title == "Sidecar title"
