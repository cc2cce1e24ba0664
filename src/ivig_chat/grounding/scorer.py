"""Does a quote support a sentence? The offline support scorer, used at run time and by evals.

The scorer (:class:`SupportScorer`) judges one answer sentence against one or more quotes:

``score = 0.5 * similarity + 0.5 * coverage`` (both 0..1), forced to 0 by any *veto*, and the
sentence counts as supported when ``score >= threshold``.

* **similarity**: cosine similarity of the sentence and the joined quotes under the project's
  embedding model (``pipeline.embeddings.encode``), clipped to 0..1.
* **coverage**: the share of the sentence's content words (stemmed, stopwords dropped; a word
  also counts when the quotes hold one of its synonyms from knowledge/synonyms.yaml or its
  abbreviation/expansion) found in the quotes, taken as the *lowest* coverage of the sentence's
  clauses: a sentence that adds a clause the quotes do not hold ("... and MRI lesions were also
  reduced") is not supported even if most of its words are.
* **vetoes** (any one makes the score 0):

  - *number*: a number, percentage, dose or p-value in the sentence that the quotes do not
    contain (``0.4g/kg`` = ``0.4 g/kg``, ``–``/``−`` = ``-``, ``×`` = ``x``, ``10,000`` =
    ``10000``, ``2.1 x 10^-8`` = ``2.1e-8``), a dose/percent unit that differs, or two numbers
    in swapped order (years excluded from the order check);
  - *negation*: a clause of the sentence and the clause of the quotes it aligns with (most
    shared content words) differ in polarity (not, no, without, neither, cannot, failed, never,
    none, poorly, negative, undetermined, unverified, non-...);
  - *population*: the sentence names a patient group (RRMS, progressive, SPMS vs PPMS, CIS,
    pregnancy, optic neuritis; acute vs chronic) that the quotes do not;
  - *entity*: the sentence names a trial acronym, an author-year ("Fazekas 1997"), a capitalised
    name or a treatment (steroids, plasma exchange, interferon, natalizumab, ...) that the quotes
    do not name.

Known weaknesses: it is lexical at heart, so a faithful paraphrase with new words and numbers
written as words ("two to three days" for "48–72 hours") leans on the embedding; polarity
is cue-based (antonyms such as "similar" vs "not different" can misfire); the swap check assumes
the sentence keeps the quote's order of numbers; an over-general sentence (no population where
the quote has one) is not vetoed. See evals/README.md.

Citation metrics (ALCE, Gao et al. 2023) on an answer: :func:`claims` splits the answer body
(before the disclaimer separator) into claim units, each the text before a group of ``[n]``
markers; text without markers (emergency guidance, refusals, abstentions, headings) is not a
claim. Citation recall = share of claims whose cited quotes jointly support them; citation
precision = share of (claim, citation) pairs where the citation supports the claim alone or is
needed (the other citations of the claim without it do not support it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..textutil import stem
from .checks import (
    clauses,
    content_words,
    entity_problems,
    fold,
    negated,
    number_problems,
    overlap,
    population_problems,
    same_stem,
)
from .claims import strip_glosses

Encode = Callable[[list[str]], np.ndarray]

# The midpoint of the widest best-agreement gap on evals/datasets/support_labels.jsonl, as
# reported by `ivig-chat eval --suite support` (best_threshold_on_labels); see evals/README.md.
DEFAULT_THRESHOLD = 0.674
WEIGHT_SIMILARITY = 0.5
WEIGHT_COVERAGE = 0.5


# --- the scorer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Support:
    """The verdict on one sentence against its quotes."""

    score: float
    supported: bool
    similarity: float
    coverage: float
    vetoes: tuple[str, ...] = ()
    uncovered: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        if self.vetoes:
            return "veto: " + "; ".join(self.vetoes)
        verdict = "supported" if self.supported else "not supported"
        detail = f"{verdict} (score {self.score:.2f}: similarity {self.similarity:.2f}, "
        detail += f"coverage {self.coverage:.2f}"
        if self.uncovered:
            detail += "; words not in the quote: " + ", ".join(self.uncovered[:6])
        return detail + ")"

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "supported": self.supported,
            "similarity": round(self.similarity, 4),
            "coverage": round(self.coverage, 4),
            "vetoes": list(self.vetoes),
            "reason": self.reason,
        }


@dataclass
class SupportScorer:
    """Support of a sentence by quotes: lexical coverage + embedding similarity + vetoes."""

    encode: Encode
    threshold: float = DEFAULT_THRESHOLD
    aliases: Mapping[str, str] = field(default_factory=dict)
    glossary: Mapping[str, str] = field(default_factory=dict)  # glosses added for patients
    synonyms: Mapping[str, Sequence[str]] = field(default_factory=dict)  # knowledge/synonyms
    version: str = "support-1"
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def prefetch(self, texts: Iterable[str]) -> None:
        """Embed texts not seen yet in one batch."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            for text, vector in zip(todo, self.encode(todo), strict=True):
                self._cache[text] = np.asarray(vector, dtype=np.float32)

    def seed(self, texts: Sequence[str], vectors: Sequence[Any]) -> None:
        """Reuse vectors already computed by the same model (e.g. the index's sentences)."""
        for text, vector in zip(texts, vectors, strict=True):
            self._cache.setdefault(text, np.asarray(vector, dtype=np.float32))

    def vector(self, text: str) -> np.ndarray:
        if text not in self._cache:
            self.prefetch([text])
        return self._cache[text]

    def similarity(self, a: str, b: str) -> float:
        return max(0.0, min(1.0, float(self.vector(a) @ self.vector(b))))

    def coverage(self, sentence: str, quote: str) -> tuple[float, tuple[str, ...]]:
        """Lowest clause coverage of the sentence by the quote, and the words not covered."""
        have = {stem(w) for w in content_words(quote)}
        q_fold = fold(quote)
        for abbr, expansion in self.aliases.items():
            if re.search(rf"\b{re.escape(abbr)}\b", q_fold):
                have.update(stem(w) for w in expansion.split())
            if expansion in q_fold:
                have.add(stem(abbr))

        def covered(word: str) -> bool:
            w = stem(word)
            if w in have or any(same_stem(w, h) for h in have):
                return True
            return any(stem(s) in have for s in self.synonyms.get(word, ()))

        tokens = content_words(sentence)
        if not tokens:
            return 1.0, ()
        missing = tuple(dict.fromkeys(w for w in tokens if not covered(w)))
        lowest = 1.0 - len([w for w in tokens if not covered(w)]) / len(tokens)
        for clause in clauses(sentence):
            ctoks = content_words(clause)
            if len(ctoks) >= 2:
                lowest = min(lowest, sum(covered(w) for w in ctoks) / len(ctoks))
        return lowest, missing

    def polarity_problems(self, sentence: str, quote: str) -> list[str]:
        """Clauses of the sentence whose polarity differs from the quote clause they restate.

        Each sentence clause aligns with the quote clause sharing most content words with it
        (strongly when they share at least two words and half of the sentence clause's). A
        quote clause is compared with the clauses aligned to it: negated if any of them is.
        Only a strongly aligned clause can raise a conflict, so "In PRIVIG, ..." does not
        clash with "The PRIVIG trial was negative".
        """
        q_clauses = clauses(quote) or [quote]
        q_sets = [{stem(w) for w in content_words(c)} for c in q_clauses]
        groups: dict[int, list[tuple[str, bool]]] = {}
        for clause in clauses(sentence) or [sentence]:
            tokens = {stem(w) for w in content_words(clause)}
            if not tokens:
                continue
            overlaps = [overlap(tokens, q) for q in q_sets]
            best = max(overlaps)
            if best == 0:
                continue
            strong = best >= 2 and best >= 0.5 * len(tokens)
            for i, o in enumerate(overlaps):
                if o == best:
                    groups.setdefault(i, []).append((clause, strong))
        problems = []
        for i, members in sorted(groups.items()):
            aligned = [c for c, is_strong in members if is_strong]
            if not aligned:
                continue
            mine = any(negated(c) for c, _ in members)
            theirs = negated(q_clauses[i])
            if mine != theirs:
                problems.append(
                    f"negation: '{aligned[0]}' is {'negated' if mine else 'affirmative'}, the "
                    f"quote's '{q_clauses[i]}' is {'negated' if theirs else 'affirmative'}"
                )
        return problems

    def vetoes(self, sentence: str, quote: str) -> list[str]:
        return (
            number_problems(sentence, quote)
            + self.polarity_problems(sentence, quote)
            + population_problems(sentence, quote)
            + entity_problems(sentence, quote, self.aliases)
        )

    def score(self, sentence: str, quotes: Sequence[str] | str) -> Support:
        """Support of sentence by the quotes taken together."""
        quote = quotes if isinstance(quotes, str) else " ".join(q.strip() for q in quotes)
        sentence = strip_glosses(sentence, self.glossary)
        if not quote.strip():
            return Support(0.0, False, 0.0, 0.0, ("no quote",))
        similarity = self.similarity(sentence, quote)
        coverage, missing = self.coverage(sentence, quote)
        raw = WEIGHT_SIMILARITY * similarity + WEIGHT_COVERAGE * coverage
        vetoes = tuple(self.vetoes(sentence, quote))
        score = 0.0 if vetoes else raw
        return Support(score, score >= self.threshold, similarity, coverage, vetoes, missing)


# --- calibration on labelled pairs ---------------------------------------------------------


@dataclass(frozen=True)
class Best:
    doc_id: str
    text: str
    support: Support


class Evidence:
    """Every sentence in an article's scope (and each "...:" lead-in with its list), searchable.

    A claim's best evidence is found among the ``candidates`` units nearest to it by embedding
    and the units sharing most content words with it, each then judged by the scorer.
    """

    def __init__(
        self, scorer: SupportScorer, units: Sequence[tuple[str, str]], candidates: int = 6
    ) -> None:
        self.scorer = scorer
        self.units = [(d, t) for d, t in dict.fromkeys(units) if t.strip()]
        self.candidates = candidates
        scorer.prefetch([t for _, t in self.units])
        self._matrix = (
            np.stack([scorer.vector(t) for _, t in self.units])
            if self.units
            else np.zeros((0, 1), dtype=np.float32)
        )
        self._tokens = [{stem(w) for w in content_words(t)} for _, t in self.units]

    @classmethod
    def from_corpus(cls, scorer: SupportScorer, corpus: Any, article_id: str) -> Evidence:
        from ..chunking import split_sentences

        units: list[tuple[str, str]] = []
        for doc in corpus.scope(article_id):
            sentences = split_sentences(doc)
            children: dict[str, list[str]] = {}
            for s in sentences:
                units.append((doc.id, s.text))
                if s.lead_in:
                    children.setdefault(s.lead_in, []).append(s.text.rstrip(" .;"))
            for s in sentences:
                if s.id in children:
                    units.append((doc.id, f"{s.text.rstrip()} " + "; ".join(children[s.id])))
        return cls(scorer, units)

    def best(self, claim: str) -> Best:
        if not self.units:
            return Best("", "", Support(0.0, False, 0.0, 0.0, ("empty corpus",)))
        text = strip_glosses(claim, self.scorer.glossary)
        sims = self._matrix @ self.scorer.vector(text)
        near = [int(i) for i in np.argsort(-sims)[: self.candidates]]
        tokens = {stem(w) for w in content_words(text)}
        lexical = sorted(range(len(self.units)), key=lambda i: -len(tokens & self._tokens[i]))[
            : self.candidates
        ]
        best: Best | None = None
        for i in dict.fromkeys(near + lexical):
            doc_id, unit = self.units[i]
            verdict = self.scorer.score(text, unit)
            if best is None or (verdict.supported, verdict.score) > (
                best.support.supported,
                best.support.score,
            ):
                best = Best(doc_id, unit, verdict)
        assert best is not None
        return best
