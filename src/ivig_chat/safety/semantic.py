"""Red-flag triage by meaning: the rules in red_flags.py are the floor, this layer generalises.

Two parts, both built from reviewed data at warm-up with the embedding model the process has:

* **Is it an emergency now?** A linear classifier over the message's sentence embedding, fitted
  on the labelled messages in ``knowledge/triage_examples.jsonl`` plus the presentations and
  non-emergencies of ``knowledge/red_flags.yaml``. Its decision threshold and regularisation are
  chosen by cross-validation (``scripts/calibrate_triage.py`` writes
  ``knowledge/triage_thresholds.yaml`` with the held-out figures). A new wording of the same
  meaning lands near the old ones without a new pattern.
* **Near-copies of a presentation.** A clause whose meaning is almost that of one reviewed
  presentation (``presentation`` threshold) is flagged even when the classifier is unsure.
* **Which emergency?** The message's sentences and clauses are compared with each category's
  presentations; combination categories (meningism, anaphylaxis) count only when enough sign
  groups are present, since one symptom alone is not that emergency. The category picks the
  guidance shown.

The caller embeds the message's units in the same batched call as the question
(:meth:`SemanticTriage.texts`), so triage adds no second model call.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..knowledge import RedFlagBank, TriageExample, TriageThresholds
from ..vector_cache import Encode, VectorCache

log = logging.getLogger(__name__)

MAX_UNITS = 24  # clauses compared per message; past that only the sentences are kept

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_CLAUSE = re.compile(
    r"\s*(?:,|;|:|\+|\s-\s|\s/\s|\band\b|\bbut\b|\balso\b|\bplus\b|\bwith\b)\s*", re.IGNORECASE
)
# A clause that opens by denying what follows ("no fever", "denies chest pain").
_DENIED = re.compile(r"^(?:no|not|nil|denies|denied|without|never|negative for)\b", re.I)
_WORD = re.compile(r"[^\W\d_]{2,}")


def units(message: str) -> list[str]:
    """The whole message, then its sentences and their clauses (what the bank is compared with)."""
    text = " ".join(message.split())
    if not _WORD.search(text):
        return []
    out = [text]
    sentences = [s.strip(" .,;:") for s in _SENTENCE.split(text) if s and s.strip(" .,;:")]
    for sentence in sentences:
        out.append(sentence)
        out.extend(p.strip(" .,;:?!") for p in _CLAUSE.split(sentence) if p and p.strip(" .,;:?!"))
    kept: list[str] = []
    seen: set[str] = set()
    for unit in out:
        key = unit.lower().strip(" ?!")
        if key in seen or not _WORD.search(unit):
            continue
        seen.add(key)
        kept.append(unit)
    if len(kept) > MAX_UNITS:
        kept = ([text] + [s for s in sentences if s.lower() != text.lower()])[:MAX_UNITS]
    return kept


@dataclass(frozen=True)
class SemanticFlag:
    category: str
    evidence: str  # the clause nearest to the category's presentations
    probability: float  # the classifier's probability that the message is an emergency


class LinearClassifier:
    """A fitted logistic regression, kept as plain arrays (sklearn only at fit time)."""

    def __init__(self, weights: np.ndarray, bias: float) -> None:
        self.weights = weights
        self.bias = bias

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, c: float) -> LinearClassifier:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
        model.fit(x, y)
        return cls(model.coef_[0].astype(np.float32), float(model.intercept_[0]))

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))


def training_set(
    bank: RedFlagBank, examples: Sequence[TriageExample]
) -> tuple[list[str], np.ndarray]:
    """Texts and labels (True = emergency) the classifier learns from."""
    texts = [e.text for e in examples]
    labels = [e.label == "emergency" for e in examples]
    for category in bank.categories:
        texts += category.presentations
        labels += [True] * len(category.presentations)
    texts += bank.not_emergencies.examples
    labels += [False] * len(bank.not_emergencies.examples)
    return texts, np.array(labels, dtype=bool)


class SemanticTriage:
    """Decides from unit vectors whether a message is an emergency now, and which one."""

    def __init__(
        self,
        bank: RedFlagBank,
        examples: Sequence[TriageExample],
        thresholds: TriageThresholds,
        encode: Encode,
        model_name: str = "",
        cache: VectorCache | None = None,
    ) -> None:
        self.bank = bank
        self.examples = list(examples)
        self.thresholds = thresholds
        self.encode = encode
        self.model_name = model_name
        self.cache = cache or VectorCache(None)
        self._classifier: LinearClassifier | None = None
        self._matrices: dict[object, np.ndarray] = {}

    def warm(self) -> None:
        self._ready()

    def _ready(self) -> LinearClassifier:
        if self._classifier is None:
            texts, labels = training_set(self.bank, self.examples)
            keys: list[object] = []
            bank_texts: list[str] = []
            for category in self.bank.categories:
                for text in category.presentations:
                    keys.append(category.id)
                    bank_texts.append(text)
                for group, signs in category.signs.items():
                    for text in signs:
                        keys.append((category.id, group))
                        bank_texts.append(text)
            vectors = self.cache.encode(texts + bank_texts, self.encode, self.model_name)
            grouped: dict[object, list[np.ndarray]] = {}
            for key, vector in zip(keys, vectors[len(texts) :], strict=True):
                grouped.setdefault(key, []).append(vector)
            self._matrices = {k: np.stack(v) for k, v in grouped.items()}
            self._classifier = LinearClassifier.fit(
                vectors[: len(texts)], labels, self.thresholds.regularisation
            )
        return self._classifier

    @staticmethod
    def texts(message: str) -> list[str]:
        """What to embed for this message (first the whole message)."""
        return units(message)

    def probability(self, message_vector: np.ndarray) -> float:
        return float(self._ready().probability(message_vector[None, :])[0])

    def closest_presentation(
        self, unit_texts: Sequence[str], vectors: np.ndarray
    ) -> tuple[float, str, str]:
        """(cosine, category, clause) of the unit nearest to any whole presentation."""
        self._ready()
        best: tuple[float, str, str] = (-2.0, "", "")
        for category in self.bank.categories:
            if not category.presentations:
                continue
            sims = (vectors @ self._matrices[category.id].T).max(axis=1)
            i = int(np.argmax(sims))
            if sims[i] > best[0]:
                best = (float(sims[i]), category.id, unit_texts[i])
        return best

    def nearest(self, vectors: np.ndarray) -> float:
        """Highest cosine of any unit to any presentation or sign of the bank."""
        self._ready()
        return max(float((vectors @ m.T).max()) for m in self._matrices.values())

    def category(self, unit_texts: Sequence[str], vectors: np.ndarray) -> tuple[str, str]:
        """The category whose presentations (or met sign combination) are nearest, and the
        clause that is nearest to it."""
        self._ready()
        denied = np.array([bool(_DENIED.match(u)) for u in unit_texts], dtype=bool)
        best: tuple[float, str, str] = (-2.0, "collapse", unit_texts[0])
        for category in self.bank.categories:
            if category.presentations:
                sims = np.where(denied, -1.0, (vectors @ self._matrices[category.id].T).max(axis=1))
                i = int(np.argmax(sims))
                if sims[i] > best[0]:
                    best = (float(sims[i]), category.id, unit_texts[i])
            if category.signs:
                found: dict[str, tuple[float, int]] = {}
                for group in category.signs:
                    matrix = self._matrices[(category.id, group)]
                    sims = np.where(denied, -1.0, (vectors @ matrix.T).max(axis=1))
                    i = int(np.argmax(sims))
                    if sims[i] >= self.thresholds.sign:
                        found[group] = (float(sims[i]), i)
                if found and category.combination_met(set(found)):
                    sim, i = max(found.values())
                    if sim > best[0]:
                        best = (sim, category.id, unit_texts[i])
        return best[1], best[2]

    def assess(self, message: str, vectors: np.ndarray | None = None) -> SemanticFlag | None:
        """vectors: rows for texts(message), if the caller already embedded them."""
        unit_texts = units(message)
        if not unit_texts:
            return None
        if vectors is None:
            vectors = self.encode(unit_texts)
        probability = self.probability(vectors[0])
        if probability < self.thresholds.probability:
            # A clause almost identical in meaning to a reviewed presentation is flagged even
            # when the whole message reads otherwise ("everyone would be better off ...").
            sim, category, clause = self.closest_presentation(unit_texts, vectors)
            if sim >= self.thresholds.presentation:
                return SemanticFlag(category, clause, probability)
            return None
        # Far from every presentation (a recipe, the weather): the classifier's side of a
        # hyperplane says little out there.
        if self.nearest(vectors) < self.thresholds.nearest:
            return None
        category, evidence = self.category(unit_texts, vectors)
        return SemanticFlag(category, evidence, probability)
