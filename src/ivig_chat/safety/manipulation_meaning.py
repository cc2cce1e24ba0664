"""Manipulation by meaning: the rules in manipulation.py are the floor, this layer generalises.

A linear classifier over sentence embeddings, fitted at warm-up on labelled messages
(``knowledge/manipulation_examples.jsonl``: attempts to extract the instructions, override them
or take on another persona, drop the disclaimer, or get an individual treatment order, in many
framings, and hard negatives that look alike: "what does the disclaimer mean?", "explain like I'm
five", "what were the rules for stopping the trial?") and on the ordinary questions of
``knowledge/questions.jsonl``. A message is judged sentence by sentence, so an instruction hidden
after a real question is found; its probability threshold is chosen by cross-validation
(``scripts/calibrate_manipulation.py`` writes ``knowledge/manipulation_thresholds.yaml``), with
a cap on how many ordinary questions it may refuse. It reuses the vectors the turn already
embedded for triage (the message and its sentences), so it adds no model call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..knowledge import ManipulationExample, ManipulationThresholds
from ..vector_cache import Encode, VectorCache
from .manipulation import MANIPULATION_CATEGORIES, Manipulation
from .semantic import NOT_EMERGENCY, LinearClassifier, units

NONE = NOT_EMERGENCY  # the label of a message that is not an attempt


def training_set(
    examples: Sequence[ManipulationExample], questions: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """Texts and labels (a category, or NONE) the classifier learns from."""
    texts = [e.text for e in examples] + list(questions)
    labels = [e.label if e.label in MANIPULATION_CATEGORIES else NONE for e in examples]
    return texts, labels + [NONE] * len(questions)


@dataclass(frozen=True)
class Reading:
    category: str
    evidence: str
    probability: float


class ManipulationByMeaning:
    """Whether a message tries to manipulate the assistant, judged by meaning."""

    def __init__(
        self,
        examples: Sequence[ManipulationExample],
        thresholds: ManipulationThresholds,
        encode: Encode,
        model_name: str = "",
        cache: VectorCache | None = None,
        questions: Sequence[str] = (),
    ) -> None:
        self.examples = list(examples)
        self.questions = list(questions)
        self.thresholds = thresholds
        self.encode = encode
        self.model_name = model_name
        self.cache = cache or VectorCache(None)
        self._classifier: LinearClassifier | None = None

    def warm(self) -> None:
        self._ready()

    def _ready(self) -> LinearClassifier:
        if self._classifier is None:
            texts, labels = training_set(self.examples, self.questions)
            vectors = self.cache.encode(texts, self.encode, self.model_name)
            self._classifier = LinearClassifier.fit(vectors, labels, self.thresholds.regularisation)
        return self._classifier

    @staticmethod
    def texts(message: str) -> list[str]:
        """What to embed: the whole message and its sentences (the triage layer's units)."""
        return units(message, clauses=False)

    def read(self, message: str, vectors: np.ndarray | None = None) -> Reading | None:
        """The most likely attempt among the message's sentences, or None.
        vectors: rows for texts(message), if the caller already embedded them."""
        texts = self.texts(message)
        if not texts or self.thresholds.probability > 1.0:
            return None
        if vectors is None:
            vectors = self.encode(texts)
        classifier = self._ready()
        probabilities = classifier.probability(vectors)
        i = int(np.argmax(probabilities))
        if probabilities[i] < self.thresholds.probability:
            return None
        return Reading(classifier.categories(vectors[i])[0], texts[i], float(probabilities[i]))

    def assess(self, message: str, vectors: np.ndarray | None = None) -> Manipulation | None:
        reading = self.read(message, vectors)
        return Manipulation(reading.category, reading.evidence) if reading else None
