"""Patient groups a question names that the corpus never mentions (knowledge/populations.yaml)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..knowledge import Population
from ..textutil import normalise

_AGE = re.compile(
    r"\b(\d{1,3})\s*-?\s*(?:years?|yrs?|y)\s*-?\s*old\b|\b(\d{1,3})\s*(?:yo|y/o|y\.o\.)\b"
    r"|\baged?\s+(\d{1,3})\b"
)
_OVER = re.compile(r"\b(?:over|above|older than|aged over)\s+(\d{2,3})\b")


def _pattern(terms: Iterable[str]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(normalise(t)) for t in terms), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


# A life stage used as a time ("I had jaundice as a child", "when she was a teenager", "in my
# teens") dates something in the person's past; it does not ask about that patient group.
_LIFE_STAGE_TIME = re.compile(
    r"\b(?:as an?|when (?:i|he|she|they|we|you) (?:was|were) (?:an?|little|still an?)|in (?:my|his"
    r"|her|their|our|your) (?:early |late )?)\s*(?=\w)"
)


def _without_life_stage_times(low: str, pattern: re.Pattern[str]) -> str:
    """low with each "as a child"-style time phrase cut out (the group word with it)."""
    out, last = [], 0
    for m in _LIFE_STAGE_TIME.finditer(low):
        term = pattern.match(low, m.end())
        if term:
            out.append(low[last : m.start()])
            last = term.end()
    out.append(low[last:])
    return " ".join(out)


class PopulationCheck:
    """Which known patient groups a text names, and which of them a corpus never mentions."""

    def __init__(self, populations: Iterable[Population]) -> None:
        self.populations = list(populations)
        self._patterns = {p.id: _pattern(p.terms) for p in self.populations}

    def named(self, text: str) -> list[Population]:
        low = normalise(text)
        ages = [int(next(g for g in m.groups() if g)) for m in _AGE.finditer(low)]
        over = [int(m.group(1)) for m in _OVER.finditer(low)]
        found = []
        for population in self.populations:
            pattern = self._patterns[population.id]
            by_term = bool(pattern.search(_without_life_stage_times(low, pattern)))
            by_age = (
                population.ages_below is not None and any(a < population.ages_below for a in ages)
            ) or (
                population.ages_above is not None
                and any(a >= population.ages_above for a in ages + over)
            )
            if by_term or by_age:
                found.append(population)
        return found

    def absent_from(self, corpus_texts: Iterable[str]) -> frozenset[str]:
        """Ids of the groups no corpus text names (by term or age)."""
        mentioned: set[str] = set()
        for text in corpus_texts:
            mentioned.update(p.id for p in self.named(text))
        return frozenset(p.id for p in self.populations) - mentioned
