"""Red-flag triage by meaning: the rules in red_flags.py are the floor, this layer generalises.

Two parts, both built from reviewed data at warm-up with the embedding model the process has:

* **Is it an emergency now?** A linear classifier over the message's sentence embedding, fitted
  on the labelled messages in ``knowledge/triage_examples.jsonl``, the ordinary questions of
  ``knowledge/questions.jsonl`` and the presentations and non-emergencies of
  ``knowledge/red_flags.yaml``, and gated by distance to the presentations (far from all of
  them, a linear boundary says little). Its decision threshold and regularisation are
  chosen by cross-validation (``scripts/calibrate_triage.py`` writes
  ``knowledge/triage_thresholds.yaml`` with the held-out figures). A new wording of the same
  meaning lands near the old ones without a new pattern.
* **Near-copies of a presentation.** A clause whose meaning is almost that of one reviewed
  presentation (``presentation`` threshold) is flagged even when the classifier is unsure.
* **Self-harm** has a detector of its own (self-harm against everything else) with its own
  threshold: it is told in ways unlike any physical emergency, and a miss costs most.
* **Which emergency?** A second classifier, over the categories, fitted on the labelled
  emergencies and the presentations, ranks them; a combination category
  (meningism, anaphylaxis) is taken only when enough of its sign groups are present among the
  message's clauses, since one symptom alone is not that emergency. The category picks the
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
from ..textutil import content_tokens
from ..vector_cache import Encode, VectorCache

log = logging.getLogger(__name__)

MAX_UNITS = 24  # clauses compared per message; past that only the sentences are kept
# Fewer content words than this ("hello", "and the dose?", "thanks, bye!") carry too little
# meaning for a sentence embedding to judge: such a message is left to the rules, which know the
# short emergencies ("can't breathe", "chest pain").
MIN_CONTENT_WORDS = 3

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_CLAUSE = re.compile(
    r"\s*(?:,|;|:|\+|\s-\s|\s/\s|\band\b|\bbut\b|\balso\b|\bplus\b|\bwith\b)\s*", re.IGNORECASE
)
# A clause that opens by denying what follows ("no fever", "denies chest pain").
_DENIED = re.compile(r"^(?:no|not|nil|denies|denied|without|never|negative for)\b", re.I)
_WORD = re.compile(r"[^\W\d_]{2,}")


def units(message: str, clauses: bool = True) -> list[str]:
    """The whole message, then its sentences and (with clauses) their clauses: what the bank is
    compared with. Without clauses, what every message needs embedded; the clauses are needed
    only to name an emergency already found."""
    text = " ".join(message.split())
    if not _WORD.search(text):
        return []
    out = [text]
    sentences = [s.strip(" .,;:") for s in _SENTENCE.split(text) if s and s.strip(" .,;:")]
    for sentence in sentences:
        out.append(sentence)
        if clauses:
            parts = (p.strip(" .,;:?!") for p in _CLAUSE.split(sentence))
            out.extend(p for p in parts if p)
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


def has_enough_words(message: str) -> bool:
    """Whether the message says enough for the semantic layer to judge (MIN_CONTENT_WORDS)."""
    return len(content_tokens(message)) >= MIN_CONTENT_WORDS


@dataclass(frozen=True)
class SemanticFlag:
    category: str
    evidence: str  # the clause nearest to the category's presentations
    probability: float  # the classifier's probability that the message is an emergency


NOT_EMERGENCY = "none"  # the classifier's label for a message that is not an emergency


class LinearClassifier:
    """A fitted multinomial logistic regression over the emergency categories and "none", kept
    as plain arrays (sklearn only at fit time)."""

    def __init__(self, weights: np.ndarray, biases: np.ndarray, classes: Sequence[str]) -> None:
        self.weights = weights  # (classes, dimensions)
        self.biases = biases
        self.classes = list(classes)
        self._none = self.classes.index(NOT_EMERGENCY) if NOT_EMERGENCY in self.classes else -1

    @classmethod
    def fit(cls, x: np.ndarray, y: Sequence[str], c: float) -> LinearClassifier:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
        model.fit(x, np.asarray(y))
        weights, biases = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # one row: the log-odds of the second class
            weights = np.vstack([np.zeros_like(weights), weights])
            biases = np.concatenate([[0.0], biases])
        return cls(
            weights.astype(np.float32),
            biases.astype(np.float32),
            [str(k) for k in model.classes_],
        )

    def class_probabilities(self, x: np.ndarray) -> np.ndarray:
        z = x @ self.weights.T + self.biases
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Probability that each row is an emergency of any category."""
        if self._none < 0:
            return np.ones(len(x))
        return 1.0 - self.class_probabilities(x)[:, self._none]  # type: ignore[no-any-return]

    def categories(self, row: np.ndarray) -> list[str]:
        """Emergency categories, most probable first."""
        p = self.class_probabilities(row[None, :])[0]
        return [self.classes[i] for i in np.argsort(-p) if i != self._none]


EMERGENCY = "emergency"
SELF_HARM = "self_harm"


def as_detection(labels: Sequence[str]) -> list[str]:
    """Category labels folded to EMERGENCY / NOT_EMERGENCY, for the detector."""
    return [NOT_EMERGENCY if label == NOT_EMERGENCY else EMERGENCY for label in labels]


def as_self_harm(labels: Sequence[str]) -> list[str]:
    """Category labels folded to self_harm / NOT_EMERGENCY, for the self-harm detector."""
    return [label if label == SELF_HARM else NOT_EMERGENCY for label in labels]


def training_set(
    bank: RedFlagBank, examples: Sequence[TriageExample], questions: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """Texts and labels (a category, or NOT_EMERGENCY) the classifiers learn from; questions
    are ordinary questions about the article (knowledge/questions.jsonl), never emergencies."""
    texts = [e.text for e in examples] + list(questions)
    labels = [e.category if e.label == "emergency" else NOT_EMERGENCY for e in examples]
    labels += [NOT_EMERGENCY] * len(questions)
    for category in bank.categories:
        texts += category.presentations
        labels += [category.id] * len(category.presentations)
    texts += bank.not_emergencies.examples
    labels += [NOT_EMERGENCY] * len(bank.not_emergencies.examples)
    return texts, labels


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
        questions: Sequence[str] = (),
    ) -> None:
        self.bank = bank
        self.examples = list(examples)
        self.questions = list(questions)
        self.thresholds = thresholds
        self.encode = encode
        self.model_name = model_name
        self.cache = cache or VectorCache(None)
        self._detector: LinearClassifier | None = None  # emergency or not
        self._namer: LinearClassifier | None = None  # which category
        self._self_harm: LinearClassifier | None = None  # self-harm, against everything else
        self._matrices: dict[object, np.ndarray] = {}

    def warm(self) -> None:
        self._ready()

    def _ready(self) -> tuple[LinearClassifier, LinearClassifier, LinearClassifier]:
        if self._detector is None or self._namer is None or self._self_harm is None:
            texts, labels = training_set(self.bank, self.examples, self.questions)
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
            x = vectors[: len(texts)]
            c = self.thresholds.regularisation
            self._detector = LinearClassifier.fit(x, as_detection(labels), c)
            self._self_harm = LinearClassifier.fit(x, as_self_harm(labels), c)
            emergencies = [i for i, label in enumerate(labels) if label != NOT_EMERGENCY]
            self._namer = LinearClassifier.fit(x[emergencies], [labels[i] for i in emergencies], c)
        return self._detector, self._namer, self._self_harm

    @staticmethod
    def texts(message: str) -> list[str]:
        """What to embed for every message (first the whole message): it and its sentences."""
        return units(message, clauses=False) if has_enough_words(message) else []

    def probability(self, message_vector: np.ndarray) -> float:
        return float(self._ready()[0].probability(message_vector[None, :])[0])

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
        """The most probable category whose sign combination (if it has one) is present, and
        the clause nearest to it: one symptom alone does not make meningism or anaphylaxis."""
        namer = self._ready()[1]
        denied = np.array([bool(_DENIED.match(u)) for u in unit_texts], dtype=bool)
        ranked = namer.categories(vectors[0])
        for category_id in ranked:
            category = self.bank.category(category_id)
            if category.signs:
                found: dict[str, tuple[float, int]] = {}
                for group in category.signs:
                    matrix = self._matrices[(category.id, group)]
                    sims = np.where(denied, -1.0, (vectors @ matrix.T).max(axis=1))
                    i = int(np.argmax(sims))
                    if sims[i] >= self.thresholds.sign:
                        found[group] = (float(sims[i]), i)
                if not category.combination_met(set(found)):
                    continue
                return category.id, unit_texts[max(found.values())[1]]
            sims = (vectors @ self._matrices[category.id].T).max(axis=1)
            return category.id, unit_texts[int(np.argmax(sims))]
        return ranked[0], unit_texts[0]

    def assess(self, message: str, vectors: np.ndarray | None = None) -> SemanticFlag | None:
        """vectors: rows for texts(message), if the caller already embedded them."""
        sentence_texts = self.texts(message)
        if not sentence_texts:
            return None
        if vectors is None:
            vectors = self.encode(sentence_texts)
        probability = self.probability(vectors[0])
        if probability < self.thresholds.probability:
            # A sentence almost identical in meaning to a reviewed presentation is flagged even
            # when the whole message reads otherwise.
            sim, category, sentence = self.closest_presentation(sentence_texts, vectors)
            if sim >= self.thresholds.presentation:
                return SemanticFlag(category, sentence, probability)
            # Self-harm is told in ways unlike any physical emergency ("everyone would be
            # better off without me"): a detector of its own, with its own threshold.
            self_harm = float(self._ready()[2].probability(vectors[:1])[0])
            if self_harm >= self.thresholds.self_harm:
                return SemanticFlag(SELF_HARM, sentence_texts[0], self_harm)
            return None
        # Found: the clauses (embedded only now) say which emergency, and show the evidence.
        unit_texts = units(message)
        known = dict(zip(sentence_texts, vectors, strict=True))
        missing = [u for u in unit_texts if u not in known]
        if missing:
            known.update(zip(missing, self.encode(missing), strict=True))
        unit_vectors = np.stack([known[u] for u in unit_texts])
        # Far from every presentation (a recipe, the weather): the classifier's side of a
        # hyperplane says little out there.
        if self.nearest(unit_vectors) < self.thresholds.nearest:
            return None
        category, evidence = self.category(unit_texts, unit_vectors)
        return SemanticFlag(category, evidence, probability)
