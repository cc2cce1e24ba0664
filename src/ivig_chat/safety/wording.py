"""Reviewed wording (knowledge/*_rules.yaml) turned into regular expressions, normalised as
messages are, so a clinician writes plain words and the detectors get patterns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from .normalise import normalize

_PLACEHOLDER: Final = re.compile(r"\{([a-z_]+)\}")


def phrase(word: str) -> str:
    """One word or phrase as a regex: normalised like a message ("can't" -> "cant"), escaped."""
    text = normalize(word).text
    if not text:
        raise ValueError(f"{word!r} is empty once normalised")
    return re.escape(text).replace("\\ ", " ")


def normalised_words(words: Iterable[str]) -> list[str]:
    """The words as messages are matched; a word listed twice (once normalised) is an error."""
    out: list[str] = []
    for word in words:
        text = normalize(word).text
        if not text:
            raise ValueError(f"{word!r} is empty once normalised")
        if text in out:
            raise ValueError(f"{word!r} is listed twice")
        out.append(text)
    return out


def alternation(alternatives: Sequence[str]) -> str:
    return "(?:" + "|".join(alternatives) + ")"


def expand(pattern: str, fragments: Mapping[str, str]) -> str:
    """Replace each {name} with its fragment's regex; an unknown name is an error."""

    def one(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in fragments:
            known = ", ".join(sorted(fragments)) or "none defined"
            raise ValueError(f"unknown fragment {{{name}}} (known: {known})")
        return fragments[name]

    return _PLACEHOLDER.sub(one, pattern)


def checked(pattern: str) -> re.Pattern[str]:
    """Compile, turning a regex error into a message that says what is wrong and where."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid pattern ({exc}): {pattern}") from exc


def bounded_words(
    words: Sequence[str], patterns: Sequence[str], fragments: Mapping[str, str]
) -> str:
    """Whole-word matches of `words`, or any of `patterns` (with fragments expanded)."""
    parts = [r"\b" + alternation([phrase(w) for w in words]) + r"\b"] if words else []
    parts += [expand(p, fragments) for p in patterns]
    if not parts:
        raise ValueError("needs words or patterns")
    return "|".join(parts)
