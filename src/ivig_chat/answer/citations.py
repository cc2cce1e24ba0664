"""Citations numbered by first use; each quote is cut from the document's served text."""

from __future__ import annotations

from dataclasses import dataclass

from .. import types
from ..chunking import Sentence
from ..corpus import Scope


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    ref: int | None
    title: str
    section: str | None
    quote: str
    url: str | None
    start: int
    end: int

    def public(self) -> types.Citation:
        """The citation as the API returns it (types.Citation: the offsets stay inside)."""
        return types.Citation.model_validate(self, from_attributes=True)


class CitationList:
    """Hands out numbers by first use; the same quote cited twice keeps its number."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._documents = {d.id: d for d in scope.documents}
        self._by_span: dict[tuple[str, int, int], Citation] = {}

    def cite(self, sentence: Sentence) -> int:
        key = (sentence.doc_id, sentence.start, sentence.end)
        if key not in self._by_span:
            doc = self._documents[sentence.doc_id]
            quote = doc.text[sentence.start : sentence.end]
            self._by_span[key] = Citation(
                n=len(self._by_span) + 1,
                doc_id=doc.id,
                ref=self.scope.ref_of(doc),
                title=doc.title,
                section=sentence.section,
                quote=quote,
                url=doc.url,
                start=sentence.start,
                end=sentence.end,
            )
        return self._by_span[key].n

    def all(self) -> list[Citation]:
        return sorted(self._by_span.values(), key=lambda c: c.n)
