"""Does a quote support a sentence? An offline support scorer, and ALCE-style citation metrics.

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
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..answer.scope import zipf
from ..disclaimer import SEPARATOR
from ..textutil import normalise, populations, stem, words

Encode = Callable[[list[str]], np.ndarray]

# The midpoint of the widest best-agreement gap on evals/datasets/support_labels.jsonl, as
# reported by `ivig-chat eval --suite support` (best_threshold_on_labels); see evals/README.md.
DEFAULT_THRESHOLD = 0.674
WEIGHT_SIMILARITY = 0.5
WEIGHT_COVERAGE = 0.5

# --- patient glosses -----------------------------------------------------------------------


def strip_glosses(text: str, glossary: Mapping[str, str]) -> str:
    """Undo answer.plain.gloss: "IVIG (intravenous immunoglobulin: ...)" -> "IVIG"."""
    for term in sorted(glossary, key=len, reverse=True):
        text = text.replace(f"{term} ({glossary[term]})", term)
    return text


# --- claims ---------------------------------------------------------------------------------

_MARKERS = re.compile(r"(?:\s*\[\d+\])+")
_ONE_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Claim:
    """One claim unit of an answer: its text (glosses and markers removed) and its markers."""

    text: str
    markers: tuple[int, ...]


def answer_body(answer: str) -> str:
    """The answer without its disclaimer (everything before the last separator)."""
    return answer.rsplit(SEPARATOR, 1)[0] if SEPARATOR in answer else answer


def claims(answer: str, glossary: Mapping[str, str] | None = None) -> list[Claim]:
    """Claim units of an answer: each stretch of a line that ends in a group of [n] markers.

    Lines without markers (emergency guidance, refusals, abstentions, headings, the
    disclaimer) are not claims. Text after a line's last marker group is a claim with no
    markers if it holds words.
    """
    out: list[Claim] = []
    for line in answer_body(answer).split("\n"):
        if not _ONE_MARKER.search(line):
            continue
        pos = 0
        for match in _MARKERS.finditer(line):
            text = _clean_claim(line[pos : match.start()], glossary or {})
            numbers = tuple(dict.fromkeys(int(n) for n in _ONE_MARKER.findall(match.group(0))))
            if text:
                out.append(Claim(text, numbers))
            pos = match.end()
        rest = _clean_claim(line[pos:], glossary or {})
        if len(re.findall(r"[A-Za-z]{3,}", rest)) >= 3:
            out.append(Claim(rest, ()))
    return out


def _clean_claim(text: str, glossary: Mapping[str, str]) -> str:
    text = strip_glosses(text, glossary)
    text = re.sub(r"^[\s\-*+>#.;,]+", "", text).strip()
    return text.strip(" *")


# --- normalisation and numbers ------------------------------------------------------------

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


def _alpha_tokens(text: str) -> list[str]:
    """Content words (letters, not stopwords), British and American -ise/-ize spellings merged."""
    return [
        _IZE.sub(r"\1is\2", w)
        for w in words(text)
        if any(c.isalpha() for c in w) and not _is_stop(w) and len(w) > 1 and not _NEG_WORD.match(w)
    ]


def _same(a: str, b: str) -> bool:
    """Equal stems, or one a prefix (6+ letters) of the other: randomis / randomisat."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 6 and long_.startswith(short)


def _overlap(tokens: set[str], other: set[str]) -> int:
    return sum(1 for t in tokens if any(_same(t, o) for o in other))


_NEG_WORD = re.compile(r"^(?:not|no|never|none|nothing|neither|nor|without|cannot|cant)$")
_IZE = re.compile(r"^(\w{3,})iz(e|ed|es|ing|ation|ations)$")


def _is_stop(word: str) -> bool:
    from ..textutil import STOPWORDS

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


def _fold(text: str) -> str:
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
    q_fold = _fold(quote)
    q_words = set(re.findall(r"[a-z0-9]+", q_fold))
    problems: list[str] = []

    def named(term: str) -> bool:
        t = _fold(term)
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
        if zipf(_fold(term)) >= 4.0:
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
                found[abbr.lower()] = _fold(" ".join(head[-n:]))
    for abbr, text in (glossary or {}).items():
        found.setdefault(abbr.lower(), _fold(text.split(":")[0]))
    return found


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
        have = {stem(w) for w in _alpha_tokens(quote)}
        q_fold = _fold(quote)
        for abbr, expansion in self.aliases.items():
            if re.search(rf"\b{re.escape(abbr)}\b", q_fold):
                have.update(stem(w) for w in expansion.split())
            if expansion in q_fold:
                have.add(stem(abbr))

        def covered(word: str) -> bool:
            w = stem(word)
            if w in have or any(_same(w, h) for h in have):
                return True
            return any(stem(s) in have for s in self.synonyms.get(word, ()))

        tokens = _alpha_tokens(sentence)
        if not tokens:
            return 1.0, ()
        missing = tuple(dict.fromkeys(w for w in tokens if not covered(w)))
        lowest = 1.0 - len([w for w in tokens if not covered(w)]) / len(tokens)
        for clause in clauses(sentence):
            ctoks = _alpha_tokens(clause)
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
        q_sets = [{stem(w) for w in _alpha_tokens(c)} for c in q_clauses]
        groups: dict[int, list[tuple[str, bool]]] = {}
        for clause in clauses(sentence) or [sentence]:
            tokens = {stem(w) for w in _alpha_tokens(clause)}
            if not tokens:
                continue
            overlaps = [_overlap(tokens, q) for q in q_sets]
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


def best_threshold(
    scores: Sequence[float], gold: Sequence[int], idx: Sequence[int]
) -> tuple[float, float]:
    """The threshold with the best agreement on pairs idx, and that agreement.

    Every threshold between two neighbouring scores gives the same verdicts, so candidates are
    the gaps between distinct scores; ties go to the widest gap, and the threshold is its
    midpoint (the largest margin on both sides).
    """
    values = sorted({round(scores[i], 6) for i in idx} | {0.0, 1.0})
    best = (-1.0, -1.0, 0.5)
    for lo, hi in zip(values, values[1:], strict=False):
        t = (lo + hi) / 2
        accuracy = sum((scores[i] >= t) == bool(gold[i]) for i in idx) / max(len(idx), 1)
        if (accuracy, hi - lo) > best[:2]:
            best = (accuracy, hi - lo, t)
    return round(best[2], 3), best[0]


def calibrate(scorer: SupportScorer, labels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Agreement of the scorer with hand labels at its threshold, the best threshold on the
    labels and the leave-one-out agreement of choosing it that way."""
    scorer.prefetch(
        [strip_glosses(str(r["sentence"]), scorer.glossary) for r in labels]
        + [str(r["quote"]) for r in labels]
    )
    verdicts = [scorer.score(str(r["sentence"]), str(r["quote"])) for r in labels]
    gold = [int(r["label"]) for r in labels]
    scores = [v.score for v in verdicts]
    everyone = list(range(len(labels)))
    best, best_accuracy = best_threshold(scores, gold, everyone)
    # Leave-one-out: choose the threshold without pair i, then judge pair i with it.
    loo_hits = 0
    for i in everyone:
        t_i, _ = best_threshold(scores, gold, [j for j in everyone if j != i])
        loo_hits += (scores[i] >= t_i) == bool(gold[i])
    predicted = [s >= scorer.threshold for s in scores]
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    fp = sum(p and not g for p, g in zip(predicted, gold, strict=True))
    fn = sum((not p) and g for p, g in zip(predicted, gold, strict=True))
    kinds: dict[str, list[bool]] = {}
    rows = []
    for r, v, p, g in zip(labels, verdicts, predicted, gold, strict=True):
        kinds.setdefault(str(r.get("kind", "")), []).append(p == bool(g))
        rows.append(
            {
                "id": r["id"],
                "kind": r.get("kind", ""),
                "label": g,
                "predicted": int(p),
                "agrees": p == bool(g),
                "score": round(v.score, 4),
                "reason": v.reason,
            }
        )
    n = max(len(labels), 1)
    return {
        "pairs": len(labels),
        "threshold": scorer.threshold,
        "agreement": sum(p == bool(g) for p, g in zip(predicted, gold, strict=True)) / n,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "best_threshold_on_labels": best,
        "agreement_at_best_threshold": best_accuracy,
        "loo_agreement": loo_hits / n,
        "by_kind": {
            k: {"pairs": len(v), "accuracy": sum(v) / len(v)} for k, v in sorted(kinds.items())
        },
        "rows": rows,
    }


# --- faithfulness: the best evidence anywhere in the article's scope ------------------------


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
        self._tokens = [{stem(w) for w in _alpha_tokens(t)} for _, t in self.units]

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
        tokens = {stem(w) for w in _alpha_tokens(text)}
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
