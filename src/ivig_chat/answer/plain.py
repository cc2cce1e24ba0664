"""Plain-language glosses of abbreviations for the patient audience (the evidence is unchanged).

The terms and their glosses are reviewed data (knowledge/glossary.yaml); this module only
decides where a gloss goes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

_QUOTED = re.compile("\u201c[^\u201d]*\u201d")


@lru_cache(maxsize=8)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(
        r"(?<![\w/(])("
        + "|".join(re.escape(k) for k in sorted(terms, key=len, reverse=True))
        + r")(?![\w/])(?!\s*\()"
    )


def gloss(text: str, glossary: Mapping[str, str]) -> str:
    """Explain each abbreviation of the glossary at its first use in plain words.

    Left alone: a term inside parentheses ("(SP)" already defines it), inside a quoted title
    (cited, not explained), or whose expansion the text has already spelled out before it.
    """
    if not glossary:
        return text
    seen: set[str] = set()
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    low = text.lower()

    def explain(match: re.Match[str]) -> str:
        term = match.group(1)
        inside_quote = any(a <= match.start() < b for a, b in quoted)
        expansion = glossary[term].split(",")[0].split(":")[0].lower()
        if term in seen or inside_quote or expansion in low[: match.start()]:
            return term
        seen.add(term)
        return f"{term} ({glossary[term]})"

    return _pattern(tuple(sorted(glossary))).sub(explain, text)
