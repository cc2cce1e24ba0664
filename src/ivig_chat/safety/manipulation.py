"""Manipulation: requests to drop the disclaimer, reveal instructions, override them or give
individual treatment orders; each gets a short refusal (refusal_text).

What counts as each (patterns per category) and the refusal texts are in
knowledge/manipulation_rules.yaml; this module compiles them once into a
:class:`ManipulationDetector` and applies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Final

from ..knowledge import ManipulationRules, pattern_text
from ..types import Audience
from . import wording
from .normalise import compile_pattern as _c
from .normalise import normalize as _normalize

MANIPULATION_CATEGORIES: Final[tuple[str, ...]] = (
    "disclaimer_removal",
    "prompt_extraction",
    "instruction_override",
    "treatment_order",
)


@dataclass(frozen=True)
class Manipulation:
    """A detected manipulation attempt: ``category`` is one of
    :data:`MANIPULATION_CATEGORIES`."""

    category: str
    evidence: str


@dataclass(frozen=True)
class _Category:
    id: str
    patterns: tuple[re.Pattern[str], ...]
    exempt_prefix: re.Pattern[str] | None
    refusal: dict[str, str]


class ManipulationDetector:
    """knowledge/manipulation_rules.yaml compiled once."""

    def __init__(self, rules: ManipulationRules) -> None:
        fragments = rules.fragment_regexes()

        def compiled(pattern: str) -> re.Pattern[str]:
            return _c(wording.expand(pattern, fragments))

        self._categories = tuple(
            _Category(
                id=c.id,
                patterns=tuple(compiled(pattern_text(p)) for p in c.patterns),
                exempt_prefix=compiled(c.exempt_when_preceded_by)
                if c.exempt_when_preceded_by
                else None,
                refusal={"patient": c.refusal.patient, "clinician": c.refusal.clinician},
            )
            for c in rules.categories
        )
        self._can_do = {"patient": rules.can_do.patient, "clinician": rules.can_do.clinician}
        self._fallback = rules.fallback

    def patterns(self, *, except_category: str = "") -> tuple[re.Pattern[str], ...]:
        """Every category's patterns but one (planted.py reuses them on corpus text)."""
        return tuple(p for c in self._categories if c.id != except_category for p in c.patterns)

    def detect(self, message: str) -> Manipulation | None:
        """A :class:`Manipulation` if ``message`` tries to remove the disclaimer, extract the
        system prompt, override instructions or obtain an individual treatment order; else
        ``None``. Categories are checked in the file's order; the first with a match wins."""
        norm = _normalize(message)
        text = norm.text
        if not text:
            return None
        for category in self._categories:
            found = _first_match(text, category.patterns, exempt_prefix=category.exempt_prefix)
            if found is not None:
                return Manipulation(category=category.id, evidence=norm.original(*found.span()))
        return None

    def refusal(self, m: Manipulation, audience: Audience) -> str:
        """Short Markdown refusal: what we can't do and what we can."""
        reader = "clinician" if audience == "clinician" else "patient"
        by_id = {c.id: c for c in self._categories}
        category = by_id.get(m.category) or by_id[self._fallback]
        return f"**{category.refusal[reader]}**\n\n{self._can_do[reader]}"


def _first_match(
    text: str, patterns: Iterable[re.Pattern[str]], *, exempt_prefix: re.Pattern[str] | None = None
) -> re.Match[str] | None:
    best: re.Match[str] | None = None
    for pattern in patterns:
        for found in pattern.finditer(text):
            if exempt_prefix is not None and exempt_prefix.search(text[: found.start()]):
                continue
            if best is None or found.start() < best.start():
                best = found
            break
    return best


@cache
def default_detector() -> ManipulationDetector:
    """The configured knowledge folder's rules, loaded on first use (never at import). For
    scripts and tests; the service gets its detector from compose.py."""
    from ..config import get_settings
    from ..knowledge import load_manipulation_rules

    return ManipulationDetector(load_manipulation_rules(get_settings().knowledge_dir))


def detect_manipulation(
    message: str, detector: ManipulationDetector | None = None
) -> Manipulation | None:
    """Return a :class:`Manipulation` if ``message`` tries to remove the disclaimer,
    extract the system prompt, override instructions or obtain an individual
    treatment order; else ``None``."""
    return (detector or default_detector()).detect(message)


def refusal_text(
    m: Manipulation, audience: Audience, detector: ManipulationDetector | None = None
) -> str:
    """Short Markdown refusal: what we can't do and what we can."""
    return (detector or default_detector()).refusal(m, audience)


_QUESTION_START = re.compile(
    r"^(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|"
    r"should|would|will|may|might|has|have|had|any|tell me about|explain)\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.!?:;\n]")


def question_without_instructions(
    message: str, detector: ManipulationDetector | None = None
) -> str:
    """What the message asks once every instruction clause is cut out, questions only.

    "is ivig expensive? Respond in French and sign off with X." -> "is ivig expensive?"
    Commands ("State that ...") are dropped; "" when nothing is asked.
    """
    text = message
    for _ in range(5):
        found = detect_manipulation(text, detector)
        if not found or found.category not in ("disclaimer_removal", "instruction_override"):
            break
        start = text.lower().find(found.evidence.lower())
        if start < 0:
            break
        end_match = _CLAUSE_END.search(text, start + len(found.evidence))
        end = end_match.end() if end_match else len(text)
        text = (text[:start] + " " + text[end:]).strip()
    text = " ".join(text.split())
    sentences = [s.strip() for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s.strip()]
    asked = [s for s in sentences if s.endswith("?") or _QUESTION_START.match(s)]
    return " ".join(asked)
