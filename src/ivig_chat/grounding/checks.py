"""Vetoes of the support scorer: numbers, polarity, populations and named things.

Each check compares an answer sentence with the quote that should support it and returns the
problems found (an empty list when there are none). Text helpers shared with the scorer
(content words, clauses, folding) live here too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..answer.scope import zipf
from ..textutil import STOPWORDS, normalise, populations, words

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).replace("\u00d7", "x")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 10,000 -> 10000
    text = re.sub(r"(\d)\s+(?=(?:mg|g|ml|%)(?:/|\b|\s))", r"\1", text)  # 0.4 g/kg -> 0.4g/kg
    text = re.sub(
        r"(\d+(?:\.\d+)?)\s*x\s*10\s*\^?\s*(-?\d+)", lambda m: f"{m[1]}e{m[2]}", text
    )  # 2.1 x 10^-8 -> 2.1e-8
    return text


_NUMBER = re.compile(
    r"(?P<sign>(?<![\w)\].])-)?(?<![\w.])(?P<num>\d+(?:\.\d+)?(?:e-?\d+)?)"
    r"(?P<unit>%|mg/kg|g/kg|g/day|mg\b|g\b)?"
)


@dataclass(frozen=True)
class Number:
    value: float
    unit: str
    year: bool
    text: str


def numbers(text: str) -> list[Number]:
    """Numbers in a text, in order, with a dose/percent unit when one follows."""
    out = []
    for m in _NUMBER.finditer(_norm(text)):
        raw = (m["sign"] or "") + m["num"]
        try:
            value = float(raw)
        except ValueError:
            continue
        year = bool(re.fullmatch(r"(?:19|20)\d\d", m["num"])) and not m["sign"]
        out.append(Number(value, m["unit"] or "", year, raw + (m["unit"] or "")))
    return out


def number_problems(sentence: str, quote: str) -> list[str]:
    """Numbers of the sentence missing from the quote, unit mismatches, swapped order."""
    said, have = numbers(sentence), numbers(quote)
    values = {n.value for n in have}
    problems = []
    for n in said:
        if n.value not in values:
            problems.append(f"number {n.text} is not in the quote")
        elif n.unit and not any(h.value == n.value and h.unit in (n.unit, "") for h in have):
            problems.append(f"{n.text}: the quote gives this number with another unit")
    if problems:
        return problems
    order = [n.value for n in said if not n.year]
    sequence = iter(h.value for h in have if not h.year)
    # In order when the sentence's numbers are a subsequence of the quote's (repeats allowed).
    if len(set(order)) >= 2 and not all(any(v == h for h in sequence) for v in order):
        problems.append("numbers appear in a different order than in the quote (swapped?)")
    return problems


# --- tokens, clauses, polarity -------------------------------------------------------------

_CLAUSE_SPLIT = re.compile(
    r"\s*(?:[;:]|,(?!\d)|[.!?](?=\s+[A-Z(\[])|\bbut\b|\bwhereas\b|\bwhile\b|\bbecause\b|"
    r"\balthough\b|\bso that\b)\s*",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nothing|neither|nor|without|cannot|can't|cant|failed|fails?|"
    r"lack(?:ed|s|ing)?|absence|poorly|negative|unable|undetermined|unverified|unknown|"
    r"unclear|non-?\w+)\b|n't\b",
    re.IGNORECASE,
)


def content_words(text: str) -> list[str]:
    """Content words (letters, not stopwords), British and American -ise/-ize spellings merged."""
    return [
        _IZE.sub(r"\1is\2", w)
        for w in words(text)
        if any(c.isalpha() for c in w) and not _is_stop(w) and len(w) > 1 and not _NEG_WORD.match(w)
    ]


def same_stem(a: str, b: str) -> bool:
    """Equal stems, or one a prefix (6+ letters) of the other: randomis / randomisat."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 6 and long_.startswith(short)


def overlap(tokens: set[str], other: set[str]) -> int:
    return sum(1 for t in tokens if any(same_stem(t, o) for o in other))


_NEG_WORD = re.compile(r"^(?:not|no|never|none|nothing|neither|nor|without|cannot|cant)$")
_IZE = re.compile(r"^(\w{3,})iz(e|ed|es|ing|ation|ations)$")


def _is_stop(word: str) -> bool:
    return word in STOPWORDS


def clauses(text: str) -> list[str]:
    """Split at sentence and clause boundaries outside parentheses (. ; : , but, because...)."""
    masked = _mask_parentheses(text)
    pieces, last = [], 0
    for m in _CLAUSE_SPLIT.finditer(masked):
        if m.start() == m.end():
            continue
        pieces.append(text[last : m.start()])
        last = m.end()
    pieces.append(text[last:])
    return [p.strip() for p in pieces if p.strip()]


def _mask_parentheses(text: str) -> str:
    out, depth = [], 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
            out.append(ch)
            continue
        out.append("x" if depth and ch in ",;:" else ch)
    return "".join(out)


def negated(text: str) -> bool:
    return bool(_NEGATION.search(normalise(text)))


# --- populations and entities --------------------------------------------------------------

_SUBGROUPS = {
    "spms": re.compile(r"\b(?:secondary progressive|spms|sp)\b"),
    "ppms": re.compile(r"\b(?:primary progressive|ppms|pp)\b"),
}
_SETTING_PAIRS = (("acute", "chronic"),)

_TREATMENTS: dict[str, re.Pattern[str]] = {
    "steroids": re.compile(
        r"\b(?:steroids?|corticosteroids?|methylprednisolone|ivmp|prednisone|prednisolone)\b"
    ),
    "plasma exchange": re.compile(r"\b(?:plasma exchange|plasmapheresis|pex)\b"),
    "interferon": re.compile(r"\binterferons?(?:-beta)?\b"),
    "glatiramer": re.compile(r"\bglatiramer\b"),
    "natalizumab": re.compile(r"\bnatalizumab\b"),
    "fingolimod": re.compile(r"\bfingolimod\b"),
    "ocrelizumab": re.compile(r"\bocrelizumab\b"),
    "rituximab": re.compile(r"\brituximab\b"),
    "alemtuzumab": re.compile(r"\balemtuzumab\b"),
    "mitoxantrone": re.compile(r"\bmitoxantrone\b"),
    "azathioprine": re.compile(r"\bazathioprine\b"),
    "albumin": re.compile(r"\balbumin\b"),
}
# Capitalised words that are not names (sentence furniture, months, generic terms).
_NOT_NAMES = frozenset(
    """a an the in on of for and or to with by at as from after before during this that these
    those it its ivig ms mri edss ci or hr dvt pe mi iv ig iga igg flair t2 pmid doi wmd rct
    january february march april may june july august september october november december
    reference references article summary evidence note review trial study american academy
    neurology expanded disability status scale european federation neurological societies
    lancet neurology cochrane magnetic resonance imaging intravenous immunoglobulin multiple
    sclerosis relapsing remitting secondary progressive primary clinically isolated syndrome
    according because although however while when if since without neither nor adding one two
    three four five six seven eight nine ten""".split()
)
_AUTHOR_YEAR = re.compile(
    r"\b([A-Z][\w\u00c0-\u017f'-]+)(?: (?:and|&) [A-Z][\w\u00c0-\u017f'-]+)? ((?:19|20)\d\d)\b"
)
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9-]{2,}\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z\u00c0-\u017f][\w\u00c0-\u017f'-]*")
_GENERIC_ACRONYMS = frozenset(
    """ivig ms rrms spms ppms sp pp cis mri edss ivmp iv flair t2 dvt pe rct hr or ci mi iga igg
    pmid doi wmd dmt dmts jcv pml us eu uk ii iii""".split()
)


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \"'(*")
    return not before or before.endswith((".", ":", "!", "?", ";"))


def fold(text: str) -> str:
    low = normalise(text)
    return "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))


def population_problems(sentence: str, quote: str) -> list[str]:
    said, have = populations(sentence), populations(quote)
    problems = [f"names population '{p}' that the quote does not" for p in sorted(said - have)]
    low_s, low_q = normalise(sentence), normalise(quote)
    sub_s = {k for k, p in _SUBGROUPS.items() if p.search(low_s)}
    sub_q = {k for k, p in _SUBGROUPS.items() if p.search(low_q)}
    if sub_s and sub_q and not (sub_s & sub_q):
        problems.append(f"names {'/'.join(sorted(sub_s))}, the quote {'/'.join(sorted(sub_q))}")
    for a, b in _SETTING_PAIRS:
        for x, y in ((a, b), (b, a)):
            if (
                re.search(rf"\b{x}\b", low_s)
                and not re.search(rf"\b{x}\b", low_q)
                and re.search(rf"\b{y}\b", low_q)
            ):
                problems.append(f"says '{x}' where the quote says '{y}'")
    return problems


def entity_problems(
    sentence: str, quote: str, aliases: Mapping[str, str] | None = None
) -> list[str]:
    """Named things in the sentence (trials, author-years, names, treatments) not in the quote."""
    aliases = aliases or {}
    q_fold = fold(quote)
    q_words = set(re.findall(r"[a-z0-9]+", q_fold))
    problems: list[str] = []

    def named(term: str) -> bool:
        t = fold(term)
        if re.search(rf"(?<![a-z0-9]){re.escape(t)}(?![a-z0-9])", q_fold):
            return True
        expansion = aliases.get(t)
        return bool(expansion and expansion in q_fold)

    for m in _AUTHOR_YEAR.finditer(sentence):
        name, year = m.group(1), m.group(2)
        if name.lower() in _NOT_NAMES:
            continue
        if not (named(name) and year in q_words):
            problems.append(f"names {name} {year}, which the quote does not")
    for m in _ACRONYM.finditer(sentence):
        term = m.group(0)
        if term.lower() in _GENERIC_ACRONYMS or named(term):
            continue
        problems.append(f"names {term}, which the quote does not")
    for m in _CAPITALISED.finditer(sentence):
        term = m.group(0)
        if _sentence_start(sentence, m.start()) or term.lower() in _NOT_NAMES or named(term):
            continue
        if zipf(fold(term)) >= 4.0:
            continue  # an everyday word that happens to be capitalised
        problems.append(f"names {term}, which the quote does not")
    s_low, q_low = normalise(sentence), normalise(quote)
    for label, pattern in _TREATMENTS.items():
        if pattern.search(s_low) and not pattern.search(q_low):
            problems.append(f"names {label}, which the quote does not")
    return list(dict.fromkeys(problems))


def abbreviations(
    texts: Iterable[str], glossary: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Abbreviation -> expansion, from "Expanded Disability Status Scale (EDSS)" in texts."""
    found: dict[str, str] = {}
    pattern = re.compile(r"((?:[A-Za-z][\w-]*\s+){1,6}?)\(([A-Z][A-Za-z0-9]{1,7})\)")
    for text in texts:
        for m in pattern.finditer(text):
            abbr = m.group(2)
            letters = [c for c in abbr if c.isupper()]
            head = m.group(1).split()
            initials = [w[0].upper() for w in head]
            n = len(letters)
            if n and initials[-n:] == letters:
                found[abbr.lower()] = fold(" ".join(head[-n:]))
    for abbr, text in (glossary or {}).items():
        found.setdefault(abbr.lower(), fold(text.split(":")[0]))
    return found
