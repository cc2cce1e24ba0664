"""Is a question covered by the article's corpus? Decided from meaning and from what it names.

The evidence for one question is a handful of interpretable measures: how close its meaning is
to the nearest corpus sentence, how well the best sentence matches, which of its words the
corpus never uses, and, for each such word, how close in meaning it is to the corpus vocabulary
("drips" is near "infusion", "copay" is near nothing) and how much of the question's meaning it
carries (embedding the question without it), and how much nearer it is to reviewed answerable
questions than to reviewed out-of-scope ones (knowledge/questions.jsonl). A logistic model over
those measures, fitted and cross-validated on labelled questions by
``scripts/calibrate_coverage.py``, gives the probability that the corpus answers the question;
its weights and the held-out figures live in ``knowledge/coverage_model.yaml``. No rule about
any particular word or topic is written here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..knowledge import CoverageModel
from ..vector_cache import Encode, VectorCache
from .scope import Coverage, Vocabulary, zipf

FEATURES: tuple[str, ...] = (
    "top_dense",  # cosine of the question to its nearest corpus sentence
    "best_score",  # the answerer's combined score of its best sentence
    "best_lexical",  # share of the question's weighted terms the best sentence carries
    "unknown_specific",  # rare words the corpus never uses
    "unknown_named",  # unknown names of a drug or condition
    "mentions_subject",  # names the article's subject, a reference or a source's author
    "max_weight",  # most of the question's meaning that one unknown word carries
    "sum_weight",  # all of it
    "min_nearness",  # how far the least familiar unknown word is from the corpus vocabulary
    "min_zipf",  # how rare the rarest unknown word is in English
    "rare_unknown",  # unknown words rarer than everyday vocabulary
    "weighted_strangeness",  # sum over unknown words of weight x distance from the vocabulary
    "labelled_margin",  # nearness to reviewed answerable questions minus to out-of-scope ones
)


@dataclass(frozen=True)
class CoverageEvidence:
    values: dict[str, float]
    unknown: tuple[str, ...]  # the words the corpus lacks, heaviest first

    def vector(self) -> np.ndarray:
        return np.array([self.values[name] for name in FEATURES], dtype=np.float64)


class WordMeaning:
    """Meaning of single words against one corpus vocabulary (embedded once, cached on disk)."""

    def __init__(self, vocabulary: Vocabulary, encode: Encode, cache: VectorCache, model: str):
        self.encode = encode
        words = sorted(w for w in vocabulary.words if w.isalpha() and len(w) >= 3)
        self.matrix = cache.encode(words, encode, model) if words else np.zeros((0, 1))

    @staticmethod
    def texts(question: str, unknown: Sequence[str]) -> list[str]:
        """What measure() embeds: the words, the question, the question without each word."""
        if not unknown:
            return []
        variants = [
            " ".join(re.sub(rf"\b{re.escape(w)}\b", " ", question, flags=re.IGNORECASE).split())
            for w in unknown
        ]
        return [*unknown, question, *variants]

    def measure(
        self, question: str, unknown: Sequence[str], embedded: Mapping[str, np.ndarray]
    ) -> tuple[list[float], list[float]]:
        """(nearness to the vocabulary, share of the question's meaning) per unknown word.
        embedded: vectors the caller already has; the rest are embedded in one call."""
        if not unknown:
            return [], []
        vectors = lookup(self.texts(question, unknown), embedded, self.encode)
        words, whole, without = (
            vectors[: len(unknown)],
            vectors[len(unknown)],
            vectors[len(unknown) + 1 :],
        )
        nearness = (words @ self.matrix.T).max(axis=1) if self.matrix.shape[0] else words[:, 0] * 0
        weight = 1.0 - without @ whole
        return [float(x) for x in nearness], [float(x) for x in weight]


# Out-of-scope questions that are out of scope only because of a name the corpus lacks ("what did
# the ORATORIO trial find?") are not neighbours: their wording is that of a covered question
# ("what did the PRIVIG trial find?") and the name, which decides, barely moves a sentence
# embedding. The unknown-name measures judge them instead.
NAME_DEFINED_KINDS = frozenset({"named_trial", "other_drug", "supplement", "brand"})


def in_neighbour_bank(label: str, kind: str) -> bool:
    """Whether a reviewed question (knowledge/questions.jsonl) is a neighbour at run time."""
    return label == "answerable" or kind not in NAME_DEFINED_KINDS


class LabelledNeighbours:
    """Reviewed questions labelled answerable or out of scope (knowledge/questions.jsonl): a new
    wording of a labelled question's meaning lands near it, whatever words it uses."""

    def __init__(self, vectors: np.ndarray, answerable: Sequence[bool], k: int = 3) -> None:
        self.vectors = np.asarray(vectors, dtype=np.float32).reshape(len(answerable), -1)
        self.answerable = np.asarray(answerable, dtype=bool)
        self.k = k

    @classmethod
    def empty(cls) -> LabelledNeighbours:
        return cls(np.zeros((0, 1), dtype=np.float32), [])

    def margin(self, vector: np.ndarray) -> float:
        """Mean cosine to the k nearest answerable questions minus to the k nearest out-of-scope
        ones; 0.0 when either kind is missing."""
        if not self.answerable.any() or self.answerable.all():
            return 0.0
        sims = self.vectors @ vector
        return _top_mean(sims[self.answerable], self.k) - _top_mean(sims[~self.answerable], self.k)


def _top_mean(values: np.ndarray, k: int) -> float:
    return float(np.sort(values)[::-1][:k].mean())


def lookup(texts: Sequence[str], embedded: Mapping[str, np.ndarray], encode: Encode) -> np.ndarray:
    """Vectors for texts: those in embedded as they are, the others in one model call."""
    missing = list(dict.fromkeys(t for t in texts if t not in embedded))
    fresh = dict(zip(missing, encode(missing), strict=True)) if missing else {}
    return np.stack([embedded[t] if t in embedded else fresh[t] for t in texts])


def evidence(
    coverage: Coverage,
    mentions_subject: bool,
    top_dense: float,
    best_score: float,
    best_lexical: float,
    unknown: Sequence[str],
    nearness: Sequence[float],
    weight: Sequence[float],
    labelled_margin: float = 0.0,
) -> CoverageEvidence:
    rarity = [zipf(w) for w in unknown]
    order = sorted(range(len(unknown)), key=lambda i: -weight[i])
    values = {
        "top_dense": top_dense,
        "best_score": best_score,
        "best_lexical": best_lexical,
        "known_share": coverage.ratio,
        "unknown_specific": float(len(coverage.unknown_specific)),
        "unknown_other": float(len(coverage.unknown_other)),
        "unknown_named": float(len(coverage.named)),
        "mentions_subject": float(mentions_subject),
        "unknown_words": float(len(unknown)),
        "max_weight": max(weight, default=0.0),
        "sum_weight": float(sum(weight)),
        "min_nearness": min(nearness, default=1.0),
        "min_zipf": min(rarity, default=7.0),
        "rare_unknown": float(sum(1 for z in rarity if z < 4.5)),
        "weighted_strangeness": float(
            sum(w * (1 - n) for w, n in zip(weight, nearness, strict=True))
        ),
        "labelled_margin": labelled_margin,
    }
    return CoverageEvidence(values, tuple(unknown[i] for i in order))


def probability(model: CoverageModel, found: CoverageEvidence) -> float:
    """Probability that the corpus answers the question, from the calibrated model."""
    x = (found.vector() - np.array(model.mean)) / np.array(model.scale)
    z = float(x @ np.array(model.weights) + model.bias)
    return 1.0 / (1.0 + np.exp(-z))
