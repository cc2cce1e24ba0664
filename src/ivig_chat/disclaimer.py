"""Disclaimer enforcement: the one place every answer gets its audience's disclaimer."""

from __future__ import annotations

from .corpus import Document

SEPARATOR = "\n\n---\n\n"


def disclaimer_for(article: Document, audience: str) -> str:
    """The article's disclaimer for this audience (the corpus loader guarantees both exist)."""
    return article.disclaimers["patient" if audience == "patient" else "clinician"]


def enforce_disclaimer(answer: str, disclaimer: str) -> str:
    """The answer ending verbatim with the disclaimer, whatever the answer held before.

    Any copy of the disclaimer inside the body is removed first, so it appears exactly once,
    last, after a rule.
    """
    body = answer.replace(disclaimer, "").rstrip()
    while body.endswith("---"):
        body = body[:-3].rstrip()
    return f"{body}{SEPARATOR}{disclaimer}" if body else disclaimer
