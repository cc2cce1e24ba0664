"""Chunks and sentences: offsets, heading paths, refs, size limit, stable ids, splitting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import ARTICLE, CORPUS, write_tiny_corpus
from ivig_chat.chunking import (
    MAX_CHUNK_CHARS,
    Chunk,
    Sentence,
    chunk_corpus,
    chunk_document,
    split_sentences,
)
from ivig_chat.corpus import Corpus, Document, load_corpus, read_document

_HEADING_LINE = re.compile(r"^#{1,6} ")
_TOP_LEVEL_BLOCK = re.compile(r"\n\s*\n|\n(?=[-*+] )")


@pytest.fixture(scope="module")
def real() -> Corpus:
    return load_corpus(CORPUS)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return load_corpus(write_tiny_corpus(tmp_path_factory.mktemp("tiny")))


def _doc(tmp_path: Path, body: str, name: str = "doc", title: str = "Doc") -> Document:
    path = tmp_path / f"{name}.md"
    path.write_text(f"---\nid: {name}\ntitle: {title}\n---\n{body}", "utf-8")
    return read_document(path)


def _long_doc(tmp_path: Path) -> Document:
    paragraph = " ".join(f"Sentence {i} of a long paragraph about drug Z." for i in range(8))
    bullets = "\n".join(
        f"- Bullet {i} about drug Z with enough words to take some room [ref:{i % 3 + 1}]"
        for i in range(40)
    )
    body = (
        "# Doc\n\n## Paragraphs\n\n" + "\n\n".join([paragraph] * 6) + "\n\n"
        "## One huge paragraph\n\n" + " ".join(["Word"] * 500) + ".\n\n"
        "## Bullets\n\n" + bullets + "\n"
    )
    path = tmp_path / "long.md"
    path.write_text(
        "---\nid: long\nkind: article\ntitle: Doc\ndisclaimers: {clinician: c, patient: p}\n"
        "references: {1: a, 2: b, 3: c}\n---\n" + body,
        "utf-8",
    )
    return read_document(path, "article")


def _units(corpus: Corpus) -> list[tuple[Document, Chunk | Sentence]]:
    return [
        (doc, unit)
        for doc in corpus.documents.values()
        for unit in [*chunk_document(doc), *split_sentences(doc)]
    ]


# --- offsets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["real", "tiny"])
def test_offsets_index_the_served_text(which: str, request: pytest.FixtureRequest) -> None:
    corpus: Corpus = request.getfixturevalue(which)
    units = _units(corpus)
    assert len(units) > (200 if which == "real" else 7)
    for doc, unit in units:
        assert doc.text[unit.start : unit.end] == unit.text, (doc.id, unit.id)
        assert unit.text == unit.text.strip()
        assert unit.doc_id == doc.id
        assert unit.id.startswith(f"{doc.id}::")


def test_offsets_on_split_sections(tmp_path: Path) -> None:
    doc = _long_doc(tmp_path)
    for unit in [*chunk_document(doc), *chunk_document(doc, limit=150), *split_sentences(doc)]:
        assert doc.text[unit.start : unit.end] == unit.text


# --- sections and refs -------------------------------------------------------------------------

REAL_SECTIONS = {
    "IVIG for Multiple Sclerosis: Limited Evidence for Efficacy": (),
    "Current Evidence on IVIG in MS": (),
    "Current Evidence on IVIG in MS > Relapsing-Remitting MS (RRMS)": (1, 2),
    "Current Evidence on IVIG in MS > Progressive MS": (3, 2),
    "Current Evidence on IVIG in MS > MS Relapses": (4,),
    "Treatment Considerations > Potential Role of IVIG in MS Management": (2, 5, 4),
    "Treatment Considerations > Dosing Considerations": (2, 4),
    "Clinical Implications and Limitations > Important Caveats": (),
    "Clinical Implications and Limitations > Monitoring": (),
    "Conclusion": (),
}


def test_real_article_chunks_are_heading_paths_with_their_refs(real: Corpus) -> None:
    chunks = chunk_document(real.article("ivig-ms"))
    assert [(c.section, c.refs) for c in chunks] == list(REAL_SECTIONS.items())
    progressive = chunks[3]
    assert progressive.text.startswith("### Progressive MS\n\n- No evidence supports IVIG")
    assert progressive.embedding_text().startswith(
        "Can Intravenous Immunoglobulin (IVIG) improve Multiple Sclerosis (MS) lesions or "
        "symptoms? — Current Evidence on IVIG in MS > Progressive MS\n### Progressive MS"
    )
    assert all(c.kind == "article" and c.articles == ("ivig-ms",) for c in chunks)


def test_real_source_chunks(real: Corpus) -> None:
    chunks = chunk_document(real.documents["elovaara-2011-relapse"])
    assert [c.section for c in chunks] == [
        None, "Citation", "Design", "Findings", "Conclusions and limitations"
    ]
    assert chunks[0].text.startswith("# Intravenous immunoglobulins are a therapeutic option")
    assert all(c.refs == () and c.articles == ("ivig-ms",) and c.kind == "source" for c in chunks)


def test_tiny_chunks(tiny: Corpus) -> None:
    article = chunk_document(tiny.documents["tiny-article"])
    assert [(c.section, c.refs) for c in article] == [("Efficacy", (1,)), ("Safety", ())]
    # The title heading has no body of its own, so it joins the first section.
    assert article[0].text.startswith("# Tiny article about drug Z\n\n## Efficacy\n\n- Drug Z")
    assert article[1].text == "## Safety\n\nHeadache was the most common side effect."
    [source] = chunk_document(tiny.documents["tiny-source"])
    assert (source.section, source.refs, source.articles) == ("Findings", (), ("tiny-article",))


@pytest.mark.parametrize("limit", [MAX_CHUNK_CHARS, 200, 80])
def test_chunk_refs_are_the_markers_inside_them(real: Corpus, limit: int) -> None:
    article = real.article("ivig-ms")
    chunks = chunk_document(article, limit=limit)
    for chunk in chunks:
        inside = [m for m in article.ref_marks if chunk.start <= m.offset <= chunk.end]
        expected = tuple(dict.fromkeys(n for m in inside for n in m.refs))
        assert chunk.refs == expected, chunk.section
    # Every marker lands in exactly one chunk.
    for mark in article.ref_marks:
        holders = [c for c in chunks if c.start <= mark.offset <= c.end]
        assert len(holders) == 1, mark


def test_sentence_refs(real: Corpus) -> None:
    by_text = {s.text: s for s in split_sentences(real.article("ivig-ms"))}
    dosing = next(t for t in by_text if t.startswith("In studies showing some benefit"))
    assert dosing.endswith("0.4g/kg/day for 5 days to various monthly regimens")
    assert by_text[dosing].refs == (4,)
    costly = "IVIG is costly and has limited evidence compared to standard MS therapies"
    assert by_text[costly].refs == ()
    tolerate = next(t for t in by_text if t.startswith("For patients who cannot tolerate"))
    assert by_text[tolerate].refs == (2, 5)


# --- size limit --------------------------------------------------------------------------------


def _blocks(text: str) -> list[str]:
    """Top-level blocks of a chunk that are not headings (what _pieces may cut between)."""
    blocks = [b.strip() for b in _TOP_LEVEL_BLOCK.split(text)]
    return [b for b in blocks if b and not all(_HEADING_LINE.match(line) for line in b.split("\n"))]


@pytest.mark.parametrize("limit", [MAX_CHUNK_CHARS, 300])
def test_chunks_respect_the_limit_unless_indivisible(tmp_path: Path, limit: int) -> None:
    doc = _long_doc(tmp_path)
    chunks = chunk_document(doc, limit=limit)
    oversized = [c for c in chunks if len(c.text) > limit]
    assert oversized, "test setup: the huge paragraph must exceed the limit"
    for chunk in oversized:
        assert len(_blocks(chunk.text)) == 1, chunk.text[:80]
    by_section: dict[str | None, list[Chunk]] = {}
    for chunk in chunks:
        by_section.setdefault(chunk.section, []).append(chunk)
    assert set(by_section) == {"Paragraphs", "One huge paragraph", "Bullets"}
    assert len(by_section["Paragraphs"]) >= 2
    assert len(by_section["Bullets"]) >= 2
    assert [len(c.text) > limit for c in by_section["One huge paragraph"]] == [True]
    # Nothing is lost or duplicated: the pieces of a section tile its non-space text.
    for section_chunks in by_section.values():
        starts = [c.start for c in section_chunks]
        assert starts == sorted(starts)
        for a, b in zip(section_chunks, section_chunks[1:], strict=False):
            assert a.end < b.start and not doc.text[a.end : b.start].strip()


def test_no_chunk_is_only_a_heading(tmp_path: Path, real: Corpus) -> None:
    docs = [_long_doc(tmp_path), *real.documents.values()]
    for doc in docs:
        for limit in (MAX_CHUNK_CHARS, 300, 80):
            for chunk in chunk_document(doc, limit=limit):
                assert _blocks(chunk.text), (doc.id, limit, chunk.text)


def test_real_corpus_chunks_fit(real: Corpus) -> None:
    chunks = chunk_corpus(real)
    assert len(chunks) > 50
    assert max(len(c.text) for c in chunks) <= MAX_CHUNK_CHARS
    assert len({c.id for c in chunks}) == len(chunks)


# --- stable ids --------------------------------------------------------------------------------


def test_ids_are_stable_across_runs(real: Corpus) -> None:
    again = load_corpus(CORPUS)
    assert [c.id for c in chunk_corpus(real)] == [c.id for c in chunk_corpus(again)]
    first = [s.id for d in real.documents.values() for s in split_sentences(d)]
    second = [s.id for d in again.documents.values() for s in split_sentences(d)]
    assert first == second
    assert len(set(first)) == len(first)


def test_ids_change_only_where_text_changes(tmp_path: Path) -> None:
    before = load_corpus(write_tiny_corpus(tmp_path / "a"))
    edited = ARTICLE.replace("Headache was the most common", "Nausea was the most common")
    after = load_corpus(write_tiny_corpus(tmp_path / "b", article=edited))
    old_chunks = chunk_document(before.documents["tiny-article"])
    new_chunks = chunk_document(after.documents["tiny-article"])
    assert old_chunks[0].id == new_chunks[0].id  # Efficacy: untouched
    assert old_chunks[1].id != new_chunks[1].id  # Safety: edited
    old_sentences = split_sentences(before.documents["tiny-article"])
    new_sentences = split_sentences(after.documents["tiny-article"])
    assert [s.id for s in old_sentences[:2]] == [s.id for s in new_sentences[:2]]
    assert old_sentences[2].id != new_sentences[2].id
    assert [c.id for c in chunk_document(before.documents["tiny-source"])] == [
        c.id for c in chunk_document(after.documents["tiny-source"])
    ]


# --- sentence splitting ------------------------------------------------------------------------


def test_no_split_at_abbreviations_and_numbers(tmp_path: Path) -> None:
    expected = [
        "Some agents, e.g. Interferons, were compared.",
        "Results were published by Fazekas et al. 1997 in the Lancet.",
        "IVIG vs. IVMP was compared, i.e. Two infusions per month.",
        "The annual relapse rate was 0.52 with IVIG versus 1.26 with placebo (p = 0.0037).",
        "Dose was 0.4 g/kg (approx. 28 g) per day.",
        "A final sentence!",
        "Is this a question?",
        "Yes.",
    ]
    body = "## Text\n\n" + " ".join(expected[:5]) + "\n" + " ".join(expected[5:]) + "\n"
    doc = _doc(tmp_path, body)
    assert [s.text for s in split_sentences(doc)] == expected


def test_real_sentences_keep_numbers_whole(real: Corpus) -> None:
    texts = [s.text for d in real.documents.values() for s in split_sentences(d)]
    aims = [t for t in texts if "(p = 0.0037)" in t]
    assert aims == [
        "In the AIMS trial (Fazekas 1997), the annual relapse rate was 0.52 with IVIG versus "
        "1.26 with placebo (p = 0.0037)."
    ]
    meta = [t for t in texts if "p=0.00003" in t]
    assert len(meta) == 1 and meta[0].startswith("A meta-analysis of four double-blind trials")
    assert meta[0].endswith("(0.29 difference; p=2.1×10^-8)")
    for text in texts:
        assert not re.search(r"\b(e\.g|et al|vs|i\.e)\.$", text), text


def test_sentences_never_start_with_bullet_marker(real: Corpus, tiny: Corpus) -> None:
    for corpus in (real, tiny):
        for doc in corpus.documents.values():
            for sentence in split_sentences(doc):
                assert not sentence.text.startswith(("- ", "* ", "+ ")), sentence.text
                assert not _HEADING_LINE.match(sentence.text), sentence.text


def test_real_bullets_get_their_lead_in(real: Corpus) -> None:
    sentences = split_sentences(real.article("ivig-ms"))
    by_text = {s.text: s for s in sentences}
    monitored = by_text["If IVIG is used, patients should be monitored for:"]
    considered = by_text[
        "IVIG could be considered as a second-line option in specific circumstances:"
    ]
    with_lead = [(s.text, s.lead_in) for s in sentences if s.lead_in]
    assert with_lead == [
        (
            "For patients who cannot tolerate or have contraindications to standard "
            "disease-modifying therapies",
            considered.id,
        ),
        (
            "During pregnancy and breastfeeding when other immunomodulatory drugs are "
            "contraindicated",
            considered.id,
        ),
        ("For acute relapses when steroids are contraindicated", considered.id),
        ("Clinical response (relapse frequency, disability progression)", monitored.id),
        ("MRI activity", monitored.id),
        ("Adverse effects", monitored.id),
    ]
    assert monitored.lead_in is None and considered.lead_in is None


def test_lead_in_rules(tmp_path: Path) -> None:
    body = (
        "## Section\n\n"
        "Patients should be monitored for:\n"
        "- Relapses\n"
        "- Infusion reactions, such as:\n"
        "  - Headache\n"
        "- MRI activity\n\n"
        "After a blank line, a list still completes its lead-in:\n\n"
        "- Kidney function\n\n"
        "A plain paragraph ends the lead-in.\n"
        "- Unrelated bullet\n\n"
        "## Next\n\n"
        "- Bullet under a new heading\n"
    )
    sentences = split_sentences(_doc(tmp_path, body))
    by_text = {s.text: s for s in sentences}
    by_id = {s.id: s for s in sentences}
    lead = {s.text: by_id[s.lead_in].text if s.lead_in else None for s in sentences}
    assert lead == {
        "Patients should be monitored for:": None,
        "Relapses": "Patients should be monitored for:",
        "Infusion reactions, such as:": "Patients should be monitored for:",
        "Headache": "Infusion reactions, such as:",
        "MRI activity": "Patients should be monitored for:",
        "After a blank line, a list still completes its lead-in:": None,
        "Kidney function": "After a blank line, a list still completes its lead-in:",
        "A plain paragraph ends the lead-in.": None,
        "Unrelated bullet": None,
        "Bullet under a new heading": None,
    }
    assert by_text["Headache"].section == "Section"
    assert by_text["Bullet under a new heading"].section == "Next"
