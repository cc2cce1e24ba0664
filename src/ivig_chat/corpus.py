"""Read corpus/ into Document objects with metadata (no embedding here).

A corpus is a folder of articles (``articles/``) and the documents they rest on (``sources/``):
Markdown or plain text with YAML front matter, or PDF/HTML/any of those with a sidecar
``<file>.meta.yaml``. Articles mark their references explicitly as ``[ref:1,2]``; the served
text has the markers removed and keeps their positions in ``Document.ref_marks``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import ArticleNotFound, CorpusError, DocumentNotFound

Kind = Literal["article", "source", "note"]
KINDS: tuple[Kind, ...] = ("article", "source", "note")
TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
PDF_SUFFIXES = {".pdf"}
HTML_SUFFIXES = {".html", ".htm"}
SIDECAR_SUFFIX = ".meta.yaml"

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
# Explicit reference marker, with the one space before it that belongs to the marker.
_REF_MARKER = re.compile(r" ?\[ref:\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
_DOC_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class RefMark:
    """Where in the served text an article cites reference numbers."""

    offset: int
    refs: tuple[int, ...]


@dataclass(frozen=True)
class Document:
    """One corpus document: its served text and the metadata answers cite."""

    id: str
    kind: Kind
    title: str
    text: str
    path: Path
    ref: int | None = None
    citation: str | None = None
    url: str | None = None
    articles: tuple[str, ...] = ()
    ref_marks: tuple[RefMark, ...] = ()
    references: Mapping[int, str] = field(default_factory=dict)
    disclaimers: Mapping[str, str] = field(default_factory=dict)
    last_updated: str | None = None
    review_status: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for part in (self.id, self.kind, self.title, self.text, repr(sorted(self.meta.items()))):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    def refs_between(self, start: int, end: int) -> tuple[int, ...]:
        """Reference numbers whose markers fall inside [start, end]."""
        found: list[int] = []
        for mark in self.ref_marks:
            if start <= mark.offset <= end:
                found.extend(n for n in mark.refs if n not in found)
        return tuple(found)


@dataclass(frozen=True)
class Scope:
    """One article and the documents its answers may draw on, resolved once per turn and
    passed down (answerer, retriever, citations) instead of looking the article up again."""

    article: Document
    documents: tuple[Document, ...]  # the article first, then the sources it may cite

    @property
    def id(self) -> str:
        return self.article.id

    @property
    def doc_ids(self) -> frozenset[str]:
        return frozenset(d.id for d in self.documents)

    def source_for_ref(self, ref: int) -> Document | None:
        """The document the article's reference number ``ref`` points at, if in scope."""
        doc_id = self.article.references.get(ref)
        return next((d for d in self.documents if d.id == doc_id), None) if doc_id else None

    def ref_of(self, doc: Document) -> int | None:
        """The article's own reference number for ``doc``, if the article cites it."""
        return next((n for n, d in self.article.references.items() if d == doc.id), None)


@dataclass(frozen=True)
class Corpus:
    """All documents, with the lookups retrieval and answers need."""

    documents: Mapping[str, Document]

    def articles(self) -> list[Document]:
        return sorted(
            (d for d in self.documents.values() if d.kind == "article"), key=lambda d: d.id
        )

    def article(self, article_id: str) -> Document:
        doc = self.documents.get(article_id)
        if doc is None or doc.kind != "article":
            raise ArticleNotFound(f"No article with id {article_id!r}; see GET /v1/articles.")
        return doc

    def document(self, doc_id: str) -> Document:
        doc = self.documents.get(doc_id)
        if doc is None:
            raise DocumentNotFound(f"No document with id {doc_id!r}.")
        return doc

    def scope(self, article_id: str) -> list[Document]:
        """The article and every document it cites or that declares it belongs to it."""
        article = self.article(article_id)
        cited = set(article.references.values())
        return [article] + sorted(
            (
                d
                for d in self.documents.values()
                if d.id != article.id and (d.id in cited or article_id in d.articles)
            ),
            key=lambda d: d.id,
        )

    def scope_of(self, article_id: str) -> Scope:
        """The article (ArticleNotFound if there is none) with the documents in its scope."""
        return Scope(self.article(article_id), tuple(self.scope(article_id)))

    def source_for_ref(self, article_id: str, ref: int) -> Document | None:
        doc_id = self.article(article_id).references.get(ref)
        return self.documents.get(doc_id) if doc_id else None

    def ref_of(self, doc: Document, article_id: str) -> int | None:
        """The article's own reference number for ``doc``, if the article cites it."""
        for n, doc_id in self.article(article_id).references.items():
            if doc_id == doc.id:
                return n
        return None


def strip_reference_markers(text: str) -> tuple[str, tuple[RefMark, ...]]:
    """Remove ``[ref:n,m]`` markers; return the clean text and where each marker stood."""
    out: list[str] = []
    marks: list[RefMark] = []
    last = 0
    length = 0
    for match in _REF_MARKER.finditer(text):
        piece = text[last : match.start()]
        out.append(piece)
        length += len(piece)
        refs = tuple(int(n) for n in re.split(r"\s*,\s*", match.group(1).strip()))
        marks.append(RefMark(offset=length, refs=refs))
        last = match.end()
    out.append(text[last:])
    return "".join(out), tuple(marks)


def split_front_matter(raw: str, path: Path) -> tuple[dict[str, Any], str]:
    """Split YAML front matter from a text file's body."""
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(path, f"front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise CorpusError(path, "front matter must be a YAML mapping of keys to values")
    return meta, raw[match.end() :]


def read_pdf_text(path: Path) -> str:
    """Text of every page of a PDF, pages separated by blank lines."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as exc:
        raise CorpusError(path, f"unreadable PDF ({exc}); replace the file") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise CorpusError(path, "PDF has no extractable text (scanned image?); add a text version")
    return text


_BLOCK_TAGS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "td", "th")


def read_html_text(path: Path) -> tuple[str, str | None]:
    """Readable text of an HTML page as Markdown-ish blocks, and its <title>."""
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(path, f"unreadable HTML ({exc})") from exc
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        tag.decompose()
    title = " ".join(soup.title.get_text(" ", strip=True).split()) if soup.title else None
    body = soup.body or soup
    blocks: list[str] = []
    for element in body.find_all(_BLOCK_TAGS):
        if element.find_parent(_BLOCK_TAGS):
            continue  # nested block: its text is part of the enclosing one
        line = " ".join(element.get_text(" ", strip=True).split())
        if not line:
            continue
        name = element.name or ""
        if name.startswith("h") and len(name) == 2:
            line = "#" * int(name[1]) + " " + line
        elif name == "li":
            line = "- " + line
        blocks.append(line)
    text = "\n\n".join(blocks)
    if not text.strip():
        raise CorpusError(path, "HTML page has no readable text")
    return text, title


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _load_sidecar(path: Path) -> dict[str, Any]:
    sidecar = _sidecar(path)
    if not sidecar.exists():
        return {}
    try:
        meta = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise CorpusError(sidecar, f"sidecar metadata is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise CorpusError(sidecar, "sidecar metadata must be a YAML mapping")
    return meta


def _optional_str(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _int_or_none(value: Any, path: Path, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CorpusError(path, f"'{key}' must be a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError as exc:
        raise CorpusError(path, f"'{key}' must be a whole number, got {value!r}") from exc


def _build_document(path: Path, meta: Mapping[str, Any], body: str, default_kind: Kind) -> Document:
    doc_id = meta.get("id")
    if not doc_id:
        raise CorpusError(
            path,
            "missing front matter 'id' (add a YAML block, or a sidecar " + SIDECAR_SUFFIX + ")",
        )
    doc_id = str(doc_id)
    if not _DOC_ID.match(doc_id):
        raise CorpusError(path, f"id {doc_id!r} must be lowercase letters, digits, '.', '_' or '-'")
    kind = meta.get("kind", default_kind)
    if kind not in KINDS:
        raise CorpusError(path, f"kind {kind!r} must be one of {', '.join(KINDS)}")
    title = meta.get("title")
    if not title:
        raise CorpusError(path, "missing front matter 'title'")
    text, marks = strip_reference_markers(body.strip() + "\n")
    if not text.strip():
        raise CorpusError(path, "document has no text")
    references: dict[int, str] = {}
    raw_refs = meta.get("references") or {}
    if not isinstance(raw_refs, dict):
        raise CorpusError(path, "'references' must map reference numbers to document ids")
    for number, target in raw_refs.items():
        n = _int_or_none(number, path, "references")
        if n is None or not target:
            raise CorpusError(path, f"reference {number!r} must map a number to a document id")
        references[n] = str(target)
    disclaimers = meta.get("disclaimers") or {}
    if not isinstance(disclaimers, dict):
        raise CorpusError(path, "'disclaimers' must map an audience to its text")
    if kind == "article":
        for audience in ("clinician", "patient"):
            if not str(disclaimers.get(audience) or "").strip():
                raise CorpusError(path, f"article needs a '{audience}' disclaimer in 'disclaimers'")
        cited = {n for mark in marks for n in mark.refs}
        missing = sorted(cited - set(references))
        if missing:
            raise CorpusError(
                path, f"text cites reference(s) {missing} that 'references' does not map"
            )
    articles = meta.get("articles") or []
    if isinstance(articles, str):
        articles = [articles]
    return Document(
        id=doc_id,
        kind=kind,
        title=str(title),
        text=text,
        path=path,
        ref=_int_or_none(meta.get("ref"), path, "ref"),
        citation=_optional_str(meta, "citation"),
        url=_optional_str(meta, "url"),
        articles=tuple(str(a) for a in articles),
        ref_marks=marks,
        references=references,
        disclaimers={str(k): " ".join(str(v).split()) for k, v in disclaimers.items()},
        last_updated=_optional_str(meta, "last_updated"),
        review_status=_optional_str(meta, "review_status"),
        meta={k: v for k, v in meta.items() if k not in {"disclaimers", "references"}},
    )


def read_document(path: Path, default_kind: Kind = "source") -> Document:
    """Read one corpus file (Markdown, text, PDF or HTML) into a Document."""
    suffix = path.suffix.lower()
    sidecar_meta = _load_sidecar(path)
    if suffix in TEXT_SUFFIXES:
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CorpusError(path, f"cannot read as UTF-8 text ({exc})") from exc
        meta, body = split_front_matter(raw, path)
        meta = {**sidecar_meta, **meta}
    elif suffix in PDF_SUFFIXES:
        meta, body = sidecar_meta, read_pdf_text(path)
    elif suffix in HTML_SUFFIXES:
        body, html_title = read_html_text(path)
        meta = dict(sidecar_meta)
        if html_title and not meta.get("title"):
            meta["title"] = html_title
    else:
        raise CorpusError(path, f"unsupported file type {suffix!r}")
    if not meta:
        raise CorpusError(
            path, f"missing front matter: add a YAML block or a sidecar {_sidecar(path).name}"
        )
    return _build_document(path, meta, body, default_kind)


def _corpus_files(folder: Path) -> Iterable[Path]:
    supported = TEXT_SUFFIXES | PDF_SUFFIXES | HTML_SUFFIXES
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in supported:
            yield path


def load_corpus(corpus_dir: Path) -> Corpus:
    """Read and validate every document under corpus_dir; raise CorpusError on the first problem."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(corpus_dir, "corpus folder not found (set IVIG_CHAT_CORPUS_DIR)")
    documents: dict[str, Document] = {}
    for sub, default_kind in (("articles", "article"), ("sources", "source")):
        folder = corpus_dir / sub
        if not folder.is_dir():
            continue
        for path in _corpus_files(folder):
            doc = read_document(path, default_kind)  # type: ignore[arg-type]
            if doc.id in documents:
                raise CorpusError(path, f"id {doc.id!r} is also used by {documents[doc.id].path}")
            documents[doc.id] = doc
    corpus = Corpus(documents=documents)
    if not corpus.articles():
        raise CorpusError(corpus_dir / "articles", "no article found (need at least one)")
    for article in corpus.articles():
        for n, target in sorted(article.references.items()):
            if target not in documents:
                raise CorpusError(
                    article.path, f"reference {n} points to {target!r}, which no source defines"
                )
            # A cited source is in the article's scope (Corpus.scope) even without an
            # 'articles' entry; record it so the index's scope flags agree with Corpus.scope.
            cited = documents[target]
            if cited.kind != "article" and article.id not in cited.articles:
                documents[target] = replace(cited, articles=(*cited.articles, article.id))
    return Corpus(documents=documents)
