"""Grounding: does an answer sentence say what its cited quote says?

The support scorer (:class:`SupportScorer`) and its vetoes are runtime code: an answerer that
writes its own sentences checks each against its citation here, and the evaluation suite
measures answers with the same scorer (evals/support.py calibrates it on labelled pairs).
"""

from .checks import abbreviations
from .claims import Claim, answer_body, claims, strip_glosses
from .scorer import DEFAULT_THRESHOLD, Best, Evidence, Support, SupportScorer

__all__ = [
    "DEFAULT_THRESHOLD",
    "Best",
    "Claim",
    "Evidence",
    "Support",
    "SupportScorer",
    "abbreviations",
    "answer_body",
    "claims",
    "strip_glosses",
]
