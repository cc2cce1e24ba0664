"""Document -> section chunks and sentences, each with reference numbers and char offsets.

Offsets index ``Document.text`` (the served text), so ``doc.text[start:end]`` is exactly the
chunk's or sentence's text: citation quotes are cut from the same string users can fetch.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .corpus import Corpus, Document

MAX_CHUNK_CHARS = 1200

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_BULLET = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+")
# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "vs",
    "etc",
    "et al",
    "al",
    "dr",
    "fig",
    "no",
    "approx",
    "cf",
    "mr",
    "mrs",
    "ms",
    "st",
    "jr",
    "sr",
    "inc",
    "ltd",
    "ref",
    "refs",
    "eur",
    "j",
    "neurol",
    "sci",
    "arch",
}
_SENTENCE_END = re.compile(r"[.!?](?:[\"')\]]*)(?=\s+[\"'(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class Chunk:
    """A section (or part of one) of a document: the unit of retrieval."""

    id: str
    doc_id: str
    kind: str
    title: str
    section: str | None
    text: str
    start: int
    end: int
    refs: tuple[int, ...]
    articles: tuple[str, ...]

    def embedding_text(self) -> str:
        """What gets embedded: the text with its document and section as context."""
        head = self.title if not self.section else f"{self.title} — {self.section}"
        return f"{head}\n{self.text}"


@dataclass(frozen=True)
class Sentence:
    """A sentence (or bullet) of a document: the unit of extractive answers and quotes."""

    id: str
    doc_id: str
    section: str | None
    text: str
    start: int
    end: int
    refs: tuple[int, ...]
    lead_in: str | None = None  # id of the "...:" sentence a bullet completes, if any


def _stable_id(*parts: object) -> str:
    digest = hashlib.sha1("\0".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return digest[:16]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sections(doc: Document) -> list[tuple[str | None, int, int]]:
    """(heading path, start, end) of each section; a heading with no body joins the next."""
    text = doc.text
    headings = list(_HEADING.finditer(text))
    bounds: list[tuple[str | None, int, int]] = []
    path: list[tuple[int, str]] = []
    first = headings[0].start() if headings else len(text)
    if text[:first].strip():
        bounds.append((None, 0, first))
    pending: int | None = None
    for i, match in enumerate(headings):
        level, name = len(match.group(1)), match.group(2).strip()
        path = [(lv, nm) for lv, nm in path if lv < level] + [(level, name)]
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        start = pending if pending is not None else match.start()
        body = text[match.end() : end]
        if not body.strip():
            pending = start
            continue
        pending = None
        shown = [nm for lv, nm in path if not (lv == 1 and nm == doc.title)]
        bounds.append((" > ".join(shown) or None, start, end))
    return [(name, *_trim(text, s, e)) for name, s, e in bounds if text[s:e].strip()]


def _has_body(text: str) -> bool:
    """True when text has a line other than a heading (a piece must not be a bare heading)."""
    return any(line.strip() and not _HEADING.match(line) for line in text.split("\n"))


def _pieces(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Split [start, end) at blank lines or top-level bullets so no piece exceeds limit."""
    if end - start <= limit:
        return [(start, end)]
    cuts = [start]
    for match in re.finditer(r"\n(?=\s*\n)|\n(?=[-*+] )", text[start:end]):
        cuts.append(start + match.end())
    cuts.append(end)
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for prev, cut in zip(cuts, cuts[1:], strict=False):
        if cut - piece_start > limit and prev > piece_start and _has_body(text[piece_start:prev]):
            pieces.append((piece_start, prev))
            piece_start = prev
    pieces.append((piece_start, end))
    return [_trim(text, s, e) for s, e in pieces if text[s:e].strip()]


def chunk_document(doc: Document, limit: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Chunks by section, each keeping its heading path, offsets and reference numbers."""
    chunks: list[Chunk] = []
    for section, s_start, s_end in sections(doc):
        for start, end in _pieces(doc.text, s_start, s_end, limit):
            text = doc.text[start:end]
            chunks.append(
                Chunk(
                    id=f"{doc.id}::{_stable_id(doc.id, section, text, doc.title)}",
                    doc_id=doc.id,
                    kind=doc.kind,
                    title=doc.title,
                    section=section,
                    text=text,
                    start=start,
                    end=end,
                    refs=doc.refs_between(start, end),
                    articles=(doc.id,) if doc.kind == "article" else doc.articles,
                )
            )
    return chunks


def chunk_corpus(corpus: Corpus, limit: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    return [c for doc in corpus.documents.values() for c in chunk_document(doc, limit)]


def _split_line(line: str, offset: int) -> Iterable[tuple[int, int]]:
    """Sentence spans within one line of prose, relative offsets made absolute."""
    start = 0
    for match in _SENTENCE_END.finditer(line):
        cut = match.end()
        before = line[start : match.start()].rstrip()
        word = re.split(r"[\s(]", before)[-1].lower() if before else ""
        if word.rstrip(".") in _ABBREVIATIONS or re.fullmatch(r"[a-z]", word):
            continue
        if re.search(r"\bet al$", before.lower()):
            continue
        yield offset + start, offset + cut
        start = cut
    yield offset + start, offset + len(line)


def split_sentences(doc: Document) -> list[Sentence]:
    """Every sentence and bullet of a document outside headings, with offsets and refs."""
    text = doc.text
    out: list[Sentence] = []
    section_of = sections(doc)
    lead_in_by_indent: dict[int, Sentence] = {}
    for section, s_start, s_end in section_of:
        pos = s_start
        for raw_line in text[s_start:s_end].split("\n"):
            line_start = pos
            pos += len(raw_line) + 1
            if not raw_line.strip():
                continue  # a blank line may separate a "...:" lead-in from its list
            if _HEADING.match(raw_line):
                lead_in_by_indent.clear()
                continue
            bullet = _BULLET.match(raw_line)
            indent = len(raw_line) - len(raw_line.lstrip())
            content_at = bullet.end() if bullet else indent
            if not bullet:
                lead_in_by_indent.clear()
            parent = None
            if bullet:
                for level in sorted(lead_in_by_indent, reverse=True):
                    if level < indent:
                        parent = lead_in_by_indent[level]
                        break
                for level in [lv for lv in lead_in_by_indent if lv >= indent]:
                    del lead_in_by_indent[level]
            for a, b in _split_line(raw_line[content_at:], line_start + content_at):
                a, b = _trim(text, a, b)
                if b - a < 3:
                    continue
                sentence = Sentence(
                    id=f"{doc.id}::{_stable_id(doc.id, a, text[a:b])}",
                    doc_id=doc.id,
                    section=section,
                    text=text[a:b],
                    start=a,
                    end=b,
                    refs=doc.refs_between(a, b),
                    lead_in=parent.id if parent else None,
                )
                out.append(sentence)
            if bullet and out and out[-1].text.endswith(":"):
                lead_in_by_indent[indent] = out[-1]
            elif not bullet and out and out[-1].text.endswith(":"):
                lead_in_by_indent[-1] = out[-1]
    return out
