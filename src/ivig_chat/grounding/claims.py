"""Claim units of an answer: the text before each group of ``[n]`` citation markers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..disclaimer import SEPARATOR


def strip_glosses(text: str, glossary: Mapping[str, str]) -> str:
    """Undo answer.plain.gloss: "IVIG (intravenous immunoglobulin: ...)" -> "IVIG"."""
    for term in sorted(glossary, key=len, reverse=True):
        text = text.replace(f"{term} ({glossary[term]})", term)
    return text


# --- claims ---------------------------------------------------------------------------------

_MARKERS = re.compile(r"(?:\s*\[\d+\])+")
_ONE_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Claim:
    """One claim unit of an answer: its text (glosses and markers removed) and its markers."""

    text: str
    markers: tuple[int, ...]


def answer_body(answer: str) -> str:
    """The answer without its disclaimer (everything before the last separator)."""
    return answer.rsplit(SEPARATOR, 1)[0] if SEPARATOR in answer else answer


def claims(answer: str, glossary: Mapping[str, str] | None = None) -> list[Claim]:
    """Claim units of an answer: each stretch of a line that ends in a group of [n] markers.

    Lines without markers (emergency guidance, refusals, abstentions, headings, the
    disclaimer) are not claims. Text after a line's last marker group is a claim with no
    markers if it holds words.
    """
    out: list[Claim] = []
    for line in answer_body(answer).split("\n"):
        if not _ONE_MARKER.search(line):
            continue
        pos = 0
        for match in _MARKERS.finditer(line):
            text = _clean_claim(line[pos : match.start()], glossary or {})
            numbers = tuple(dict.fromkeys(int(n) for n in _ONE_MARKER.findall(match.group(0))))
            if text:
                out.append(Claim(text, numbers))
            pos = match.end()
        rest = _clean_claim(line[pos:], glossary or {})
        if len(re.findall(r"[A-Za-z]{3,}", rest)) >= 3:
            out.append(Claim(rest, ()))
    return out


def _clean_claim(text: str, glossary: Mapping[str, str]) -> str:
    text = strip_glosses(text, glossary)
    text = re.sub(r"^[\s\-*+>#.;,]+", "", text).strip()
    return text.strip(" *")


# --- normalisation and numbers ------------------------------------------------------------
