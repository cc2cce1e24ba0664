"""Does the corpus cover a question at all? Term coverage, typo repair and similarity evidence.

A question names things; if a specific thing it names (a drug, a disease, a procedure) appears
nowhere in the article's corpus, the corpus cannot answer it, however close the embedding is.
Word rarity (wordfreq's Zipf scale) tells specific names from everyday words.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from ..textutil import NO_SYNONYMS, STOPWORDS, Synonyms, normalise, stem, words

# Words that say how someone asks, not what they ask about.
QUESTION_WORDS = frozenset(
    """ask asked answer question questions say says said explain describe mean means meaning
    tell show give find know think want need wondering wonder curious quick quickly
    use used using useful work works worked working help helps helped helpful good bad better
    best worse worst right wrong true false yes doctor doctors nurse neuro neurologist
    patient patients people person someone anyone everyone thing things something way ways
    like kind sort type types case cases time times long short often much many number
    recommend recommended recommendation evidence data proof show shown study studies
    article source sources paper papers research reference references cite cited summary
    option options choice consider considered possible possibly actually really probably
    maybe still even ever never always usually generally overall general specific
    mom dad wife husband son daughter friend sister brother mother father child
    im ive id dont doesnt isnt cant wont whats hows pt pts ahead go going look looks
    follow following followed consider considering big small large matter matters outcome
    outcomes result results finding findings effect effects benefit benefits role
    effective effectiveness efficacy data number numbers figure figures author authors
    authored wrote written publish published publication journal pmid doi ref refs""".split()
)

# Nouns that make the word before them the name of a condition ("Kawasaki disease").
CONDITION_NOUNS = frozenset(
    """disease diseases syndrome syndromes disorder disorders deficiency palsy anemia anaemia
    purpura neuropathy myopathy arthritis fever infection cancer gravis""".split()
)
# Endings of drug names (monoclonal antibodies, kinase inhibitors, S1P modulators...).
DRUG_SUFFIXES = ("mab", "nib", "imod", "fumarate", "mide", "cillin", "mycin", "vir", "statin")

_REFERENCE = re.compile(r"\b(?:ref(?:erence)?s?)\.?\s*#?\s*\d", re.IGNORECASE)
SPECIFIC_ZIPF = 3.6  # below this an unknown word names something specific (drug, disease)
EVERYDAY_ZIPF = 5.3  # at or above this an unknown word is everyday vocabulary


@lru_cache(maxsize=50_000)
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


@dataclass(frozen=True)
class Coverage:
    """How much of a question's vocabulary the corpus knows."""

    focus: tuple[str, ...]  # the words the question is about
    unknown_specific: tuple[str, ...]  # specific names the corpus never mentions
    unknown_other: tuple[str, ...]  # other words the corpus never mentions
    corrected: dict[str, str]  # typo -> corpus word
    named: tuple[str, ...] = ()  # unknown names of a condition or a drug: never context

    def off_topic(self, mentions_subject: bool) -> bool:
        """Whether the words the corpus lacks make the question one it cannot answer.

        A question about another drug, disease or topic names it where the article's subject
        would stand ("Does vitamin D reduce relapses?"). A question that names the subject may
        carry an unknown word as context ("...JCV positive..."), unless that word is most of
        what it asks about ("IVIG for myasthenia gravis dosing").
        """
        unknown = len(self.unknown_specific) + len(self.unknown_other)
        if not unknown:
            return False
        if self.named:
            return True
        known = len(self.focus) - unknown
        if not mentions_subject:
            return bool(self.unknown_specific) or known == 0 or unknown / len(self.focus) >= 0.5
        if not self.unknown_specific:
            return False
        share = len(self.unknown_specific) / len(self.focus)
        return known == 0 or share >= 0.5 or (len(self.focus) <= 4 and share >= 0.25)

    @property
    def ratio(self) -> float:
        if not self.focus:
            return 1.0
        missing = len(self.unknown_specific) + len(self.unknown_other)
        return 1.0 - missing / len(self.focus)


_FUNCTION_WORDS = sorted(w for w in STOPWORDS | QUESTION_WORDS if len(w) >= 3)


def _slip_of_function_word(word: str) -> bool:
    """A short unknown token one slip from a function word ("wht", "wat", "becuase", "shud")
    says how the question is asked, not what about: it is never another subject."""
    if len(word) > 7 or zipf(word) >= 3.0 or not word.isalpha():
        return False
    return bool(difflib.get_close_matches(word, _FUNCTION_WORDS, n=1, cutoff=0.8))


class Vocabulary:
    """The words of one article's corpus, for coverage checks and typo repair."""

    def __init__(
        self, texts: Iterable[str], subject: Iterable[str], synonyms: Synonyms = NO_SYNONYMS
    ) -> None:
        """subject: the terms naming what the article is about (its intervention); synonyms:
        question words -> corpus words they also match (knowledge/synonyms.yaml)."""
        self.synonyms = synonyms
        self.words: set[str] = set()
        texts_list = list(texts)
        for text in texts_list:
            self.words.update(words(text))
        self.stems = {stem(w) for w in self.words}
        # Proper names the corpus uses (authors, reviews, journals): a question naming one is
        # about the corpus even when it does not name the subject.
        self.names = {
            normalise(m.group(0))
            for text in texts_list
            for m in re.finditer(r"(?<=[a-z,;(] )[A-Z][a-z\u00e0-\u017f]{2,}\b", text)
            if zipf(normalise(m.group(0))) < 3.0
        }
        self.subject = {stem(w) for term in subject for w in words(term) if w not in STOPWORDS}
        self._by_length: dict[int, list[str]] = {}
        for w in self.words:
            if w.isalpha() and len(w) >= 4:
                self._by_length.setdefault(len(w), []).append(w)

    def mentions_subject(self, question: str) -> bool:
        """Whether the question names the article's subject (e.g. IVIG), one of its references
        ("ref 3") or a name its sources use ("Achiron", "Cochrane")."""
        if _REFERENCE.search(question):
            return True
        return any(stem(w) in self.subject or w in self.names for w in words(question))

    def knows(self, word: str) -> bool:
        """In the corpus itself, or through a synonym the corpus uses ("clots" -> thrombosis)."""
        if word in self.words or stem(word) in self.stems:
            return True
        return any(s in self.words or stem(s) in self.stems for s in self.synonyms.get(word, ()))

    def correct(self, word: str) -> str | None:
        """The corpus word a misspelt word most likely meant, if one is close enough."""
        if len(word) < 5 or not word.isalpha():
            return None
        pool = [w for n in range(len(word) - 2, len(word) + 3) for w in self._by_length.get(n, ())]
        # 0.85: one slip in a word of five or more letters ("efects", "relapes", "pregnent");
        # a rarer real word two letters away is not a typo ("tingly" is not "tiny").
        match = difflib.get_close_matches(word, pool, n=1, cutoff=0.85)
        return match[0] if match else None

    def coverage(self, question: str) -> Coverage:
        focus: list[str] = []
        specific: list[str] = []
        other: list[str] = []
        corrected: dict[str, str] = {}
        tokens = words(question)
        named: list[str] = []
        for w in dict.fromkeys(tokens):
            if w in STOPWORDS or w in QUESTION_WORDS or any(c.isdigit() for c in w) or len(w) < 2:
                continue
            if stem(w) in self.subject or _slip_of_function_word(w):
                continue
            focus.append(w)
            if self.knows(w):
                continue
            fixed = self.correct(w) if zipf(w) < 3.0 else None
            if fixed:
                corrected[w] = fixed
                continue
            frequency = zipf(w)
            position = tokens.index(w)
            follower = tokens[position + 1] if position + 1 < len(tokens) else ""
            if follower in CONDITION_NOUNS or (len(w) > 5 and w.endswith(DRUG_SUFFIXES)):
                named.append(w)
            if frequency >= EVERYDAY_ZIPF:
                focus.pop()  # everyday word: says little about the topic
            elif frequency < SPECIFIC_ZIPF:
                specific.append(w)
            else:
                other.append(w)
        return Coverage(tuple(focus), tuple(specific), tuple(other), corrected, tuple(named))

    def repair(self, question: str, coverage: Coverage) -> str:
        """The question with typos replaced by the corpus words they meant."""
        if not coverage.corrected:
            return question
        out = []
        for token in question.split():
            key = normalise(token).strip(".,;:!?()\"'")
            fixed = coverage.corrected.get(key)
            out.append(token.replace(token.strip(".,;:!?()\"'"), fixed) if fixed else token)
        return " ".join(out)
