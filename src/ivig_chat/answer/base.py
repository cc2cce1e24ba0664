"""What every answerer shares: the Draft it returns and the protocol the service calls.

Safety triage, manipulation checks and the turn's status are decided outside the answerer;
an answerer only finds (and cites) what the corpus says, or abstains with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..chunking import Sentence
from ..corpus import Scope
from ..retrieval import Hit
from .citations import Citation
from .coverage import CoverageEvidence
from .scope import Coverage


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    score: float
    dense: float
    lexical: float


@dataclass
class Draft:
    """What the answerer found, before audience wording and the disclaimer."""

    status: str  # "answered" | "abstained"
    lines: list[str] = field(default_factory=list)  # answer sentences with [n] markers
    citations: list[Citation] = field(default_factory=list)
    coverage: Coverage | None = None
    best: Scored | None = None
    reason: str = ""
    hits: list[Hit] = field(default_factory=list)
    retrieve_ms: float = 0.0
    evidence: CoverageEvidence | None = None
    covered: float | None = None  # the coverage model's probability, when one decided
    missing: tuple[str, ...] = ()  # names of what the question asks about that the corpus lacks
    decided_by: str = ""  # which coverage check decided: population, other_subject, model, rules
    understood: str = ""  # the question as answered (typos repaired, the article's subject named)
    facets: dict[str, float] = field(default_factory=dict)  # kinds of answer asked for, weighted


class Answerer(Protocol):
    """Finds what an article's corpus says about a standalone question (or abstains)."""

    version: str

    def warm(self, scope: Scope) -> None:
        """Build per-article state now instead of on the first question."""

    def texts_to_embed(self, question: str, scope: Scope, in_conversation: bool) -> list[str]:
        """Texts the answer will weigh, so the caller can embed them in its one batched call."""
        ...

    def answer(
        self,
        question: str,
        scope: Scope,
        vector: np.ndarray,
        focus: str | None = None,
        context: frozenset[str] = frozenset(),
        in_conversation: bool = False,
        embedded: Mapping[str, np.ndarray] | None = None,
    ) -> Draft: ...
