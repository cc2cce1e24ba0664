"""Text normalisation shared by the safety detectors: folded, lower-case, with an index map back."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

_APOSTROPHES: Final = frozenset(
    "'\u2018\u2019\u201a\u201b\u02b9\u02bb\u02bc\u02bd\u0060\u00b4\u2032\uff07"
)
_DASHES: Final = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_DOUBLE_QUOTES: Final = frozenset("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\uff02")


@dataclass(frozen=True)
class Normalized:
    text: str
    origin: tuple[int, ...]  # origin[i] = index in ``source`` of text[i]
    source: str

    def original(self, start: int, end: int) -> str:
        """The caller's original text behind normalised span ``[start, end)``."""
        if start >= end or not self.text:
            return ""
        first = self.origin[start]
        last = self.origin[min(end, len(self.origin)) - 1]
        return self.source[first : last + 1].strip()


def normalize(message: str) -> Normalized:
    """Lower-case, accent-fold, drop apostrophes and format characters, unify
    dashes and quotes, and collapse whitespace (a run containing a line break
    becomes ``"\\n"``, otherwise ``" "``). Keeps an index map to the original."""
    chars: list[str] = []
    origin: list[int] = []
    pending_space: str | None = None
    pending_index = 0
    for index, raw in enumerate(message):
        if raw in _APOSTROPHES:
            continue
        for piece in unicodedata.normalize("NFKD", raw):
            if piece in _APOSTROPHES or unicodedata.combining(piece):
                continue
            category = unicodedata.category(piece)
            if piece.isspace() or category in ("Zs", "Zl", "Zp"):
                if pending_space is None:
                    pending_space, pending_index = " ", index
                if piece in "\n\r\u2028\u2029\x0b\x0c":
                    pending_space = "\n"
                continue
            if category in ("Cf", "Cc", "Cs", "Co", "Cn"):
                continue
            if piece in _DASHES:
                piece = "-"
            elif piece in _DOUBLE_QUOTES:
                piece = '"'
            for folded in piece.casefold():
                if unicodedata.combining(folded):
                    continue
                if pending_space is not None:
                    if chars:
                        chars.append(pending_space)
                        origin.append(pending_index)
                    pending_space = None
                chars.append(folded)
                origin.append(index)
    return Normalized("".join(chars), tuple(origin), message)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
