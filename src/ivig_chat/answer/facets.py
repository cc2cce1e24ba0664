"""What kind of answer a question asks for, and which sentences give that kind.

"Did that one work?" asks for a result; the sentences about the right study that give its design
or its journal do not answer it, however many words they share with the question. The facets
(result, size, dose, design, safety, ...) are reviewed data (knowledge/answer_facets.yaml): for
each, wordings of the request and shapes of an answering sentence. Both sides are compared by
meaning with the embedding model the process already has, so a new wording of the same request
lands near the old ones without a pattern:

* a question's facet weights come from its nearness to each facet's wordings (a softmax over the
  facets it is near enough to; none when it is near none: "tell me about the trial");
* a sentence's facet affinities are its nearness to each facet's answer shapes, standardised
  over the article's sentences (computed once per article).

The answerer adds ``weight x sum(question weight x sentence affinity)`` to a sentence's score.
The weight and the two shape parameters are chosen on labelled eval splits
(scripts/tune_facets.py); see evals/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..knowledge import AnswerFacets
from ..vector_cache import Encode, VectorCache


@dataclass(frozen=True)
class FacetSettings:
    weight: float = 0.08  # how much a full facet match adds to a sentence's score (0..1 scale)
    floor: float = 0.45  # a question nearer than this to none of a facet's wordings asks for none
    temperature: float = 0.05  # softmax temperature over the facets a question is near


class Facets:
    """The facet bank embedded once; question weights and sentence affinities from vectors."""

    def __init__(
        self,
        bank: AnswerFacets,
        encode: Encode,
        cache: VectorCache,
        model_name: str,
        settings: FacetSettings | None = None,
    ) -> None:
        self.ids = [f.id for f in bank.facets]
        self.settings = settings or FacetSettings()
        self._bank = bank
        self._encode = encode
        self._cache = cache
        self._model_name = model_name
        self._asks: list[np.ndarray] | None = None
        self._answers: list[np.ndarray] | None = None

    def _embedded(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        if self._asks is None or self._answers is None:
            asks = [t for f in self._bank.facets for t in f.asks]
            answers = [t for f in self._bank.facets for t in f.answers]
            ask_vectors = self._cache.encode(asks, self._encode, self._model_name)
            answer_vectors = self._cache.encode(answers, self._encode, self._model_name)
            self._asks, self._answers = [], []
            a = b = 0
            for f in self._bank.facets:
                self._asks.append(ask_vectors[a : a + len(f.asks)])
                self._answers.append(answer_vectors[b : b + len(f.answers)])
                a, b = a + len(f.asks), b + len(f.answers)
        return self._asks, self._answers

    def question_weights(self, vectors: Sequence[np.ndarray]) -> np.ndarray:
        """Weights over the facets (summing to 1, or all 0) for a question given by one or more
        vectors (the standalone question, and a follow-up's own words): a facet's nearness is
        that of its nearest wording to any of them."""
        asks, _ = self._embedded()
        if not vectors:
            return np.zeros(len(self.ids))
        q = np.stack(vectors)
        near = np.array([float((bank @ q.T).max()) for bank in asks])
        s = self.settings
        eligible = near >= s.floor
        if not eligible.any():
            return np.zeros(len(self.ids))
        logits = np.where(eligible, (near - near.max()) / s.temperature, -np.inf)
        weights = np.exp(logits)
        return np.asarray(weights / weights.sum())

    def sentence_affinities(self, matrix: np.ndarray) -> np.ndarray:
        """(sentences, facets): each sentence's nearness to each facet's answer shapes,
        standardised over the given sentences and clipped to -1..1 (one deviation below the
        mean to three above, scaled)."""
        _, answers = self._embedded()
        if len(matrix) == 0:
            return np.zeros((0, len(self.ids)))
        columns = []
        for bank in answers:
            near = (matrix @ bank.T).max(axis=1)
            z = (near - near.mean()) / (near.std() + 1e-6)
            columns.append(np.clip(z, -1.0, 3.0) / 3.0)
        return np.stack(columns, axis=1)

    def bonus(self, weights: np.ndarray, affinities: np.ndarray) -> np.ndarray:
        """What each sentence gains for a question with these facet weights."""
        if not weights.any():
            return np.zeros(len(affinities))
        return np.asarray(self.settings.weight * (affinities @ weights))
