"""Tokens for lexical search and overlap: normalise, drop stopwords, stem, expand synonyms."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType

STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor
    not of off on once only or other ought our ours ourselves out over own same shan't she she'd
    she'll she's should shouldn't so some such than that that's the their theirs them themselves
    then there there's these they they'd they'll they're they've this those through to too under
    until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
    where's which while who who's whom why why's with won't would wouldn't you you'd you'll you're
    you've your yours yourself yourselves also just any anything tell know please thanks thank
    hi hello hey ok okay really get got much many may might will shall us s t ve re ll d""".split()
)


_TOKEN = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "×": "x", "–": "-", "—": "-"})


_COMPOUNDS = re.compile(r"\b(breast|post)[ -](feeding|fed|partum)\b")
_SIDE_EFFECTS = re.compile(r"\bside[ -]?effects?\b")


def normalise(text: str) -> str:
    """NFKC, lowercase, ASCII apostrophes and dashes, common split compounds joined."""
    low = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    if not low.isascii():  # "Pöhlau" and "Pohlau" are the same name to a reader
        low = "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))
    low = _SIDE_EFFECTS.sub("adverse effects", low)
    return _COMPOUNDS.sub(lambda m: m.group(1) + m.group(2), low)


@lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match plurals and common verb forms."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ness", ""),
        ("ational", "ate"),
        ("ations", "ate"),
        ("ation", "ate"),
        ("ings", ""),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("ly", ""),
        ("es", "e"),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: len(word) - len(suffix)] + repl
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if len(word) > 4 and word[-1] == word[-2] and word[-1] in "lptmgdnr":
        word = word[:-1]  # British doubling: "trialled" -> "trial", "labelled" -> "label"
    return word


def words(text: str) -> list[str]:
    """Lowercased word tokens, stopwords kept, possessive 's dropped ("Sorensen's")."""
    tokens = _TOKEN.findall(normalise(text).replace("-", " "))
    return [t[:-2] if t.endswith("'s") and len(t) > 3 else t for t in tokens]


def content_tokens(text: str) -> list[str]:
    """Stemmed tokens without stopwords: the vocabulary of lexical matching."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


Synonyms = Mapping[str, Sequence[str]]
NO_SYNONYMS: Synonyms = MappingProxyType({})


def query_tokens(text: str, synonyms: Synonyms = NO_SYNONYMS) -> list[str]:
    """content_tokens plus the synonyms (knowledge/synonyms.yaml) of each query word."""
    out: list[str] = []
    for w in words(text):
        if w in STOPWORDS:
            continue
        out.append(stem(w))
        out.extend(stem(s) for s in synonyms.get(w, ()))
    return out


# Patient groups a statement can be about; a sentence about another group does not answer.
POPULATIONS: dict[str, re.Pattern[str]] = {
    "rrms": re.compile(r"\b(?:relapsing[- ]remitting|rrms)\b"),
    "progressive": re.compile(r"\b(?:progressive|spms|ppms)\b"),
    "cis": re.compile(r"\b(?:clinically isolated|cis)\b"),
    "pregnancy": re.compile(r"\b(?:pregnan\w*|breastfeeding|postpartum|gestation)\b"),
    "optic": re.compile(r"\boptic neuritis\b"),
}


def populations(text: str) -> frozenset[str]:
    """Which patient groups a text names."""
    low = normalise(text)
    return frozenset(name for name, pattern in POPULATIONS.items() if pattern.search(low))
