"""Red-flag rules: the deterministic floor of triage (the semantic layer is in semantic.py).

A message that describes a current or just-happened emergency (or thoughts of self-harm) gets
emergency guidance first (:func:`urgent_guidance`). General questions about risks ("Can IVIG
cause aseptic meningitis?") and chronic multiple-sclerosis symptoms are *not* flagged.

The knowledge (symptom patterns per category, the cue vocabularies, which category wins) is in
knowledge/red_flag_rules.yaml, reviewed by a clinician; this module is the grammar that combines
it, compiled once into a :class:`RedFlagDetector`. Matching works on a normalised copy of the
text (see normalise.py); evidence spans are mapped back to the caller's original text.

Every symptom pattern has a *kind*:

``standalone``
    urgent on its own;
``plain``
    urgent with a personal/event cue before it in the same clause or an acute time cue in a
    sentence that is not a general question;
``acute``
    symptoms that are common chronic MS complaints: need an acute cue as well;
``condition``
    names of conditions: a bare possessive is not enough; they need an event verb or a person
    in a message that is not a question about risks or eligibility.

Hypothetical/generic wording right before the symptom, negation, and chronic or past background
in the sentence suppress a match, unless an acute cue overrides the background. A short
statement with no question or hedging counts as a report. A combination category (meningism)
needs `at_least` of its signs. A category marked `never_dismissed` (self-harm) ignores
background, negation and quotation, except its one denial ("I'm not suicidal").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final

from ..knowledge import ChooseRule, RedFlagRules, RuleCategory, WordList, pattern_text
from . import wording
from .normalise import compile_pattern as _c
from .normalise import normalize as _normalize

RED_FLAG_CATEGORIES: Final[tuple[str, ...]] = (
    "anaphylaxis",
    "breathing",
    "chest_pain",
    "stroke",
    "meningism",
    "thrombosis",
    "kidney",
    "haemolysis",
    "sepsis",
    "seizure",
    "collapse",
    "self_harm",
)


@dataclass(frozen=True)
class RedFlag:
    """A detected emergency: ``category`` is one of :data:`RED_FLAG_CATEGORIES`."""

    category: str
    evidence: str


_STANDALONE: Final = "standalone"
_PLAIN: Final = "plain"
_ACUTE_ONLY: Final = "acute"
_CONDITION: Final = "condition"

_SENTENCE_END = re.compile(r"[.?!;\n]")
_CLAUSE_BREAK = re.compile(r"[,:;.?!\n()]|\s-\s|\bbut\b")
_MAX_SENTENCE: Final = 600  # characters of context looked at on each side of a match
_MAX_EVIDENCE: Final = 200
_BARE_REPORT_WORDS: Final = 8


@dataclass(frozen=True)
class _Symptom:
    category: str
    kind: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class _Denial:
    before: re.Pattern[str]  # the denial words right before the match
    applies_to: str  # only for evidence containing this


@dataclass(frozen=True)
class _Combination:
    category: str
    signs: tuple[tuple[str, re.Pattern[str]], ...]
    at_least: int
    one_of: frozenset[str]
    replaces: str | None
    replaces_when: str


@dataclass(frozen=True)
class _Choice:
    category: str
    found: tuple[str, ...]
    with_any_of: frozenset[str]
    without_any_of: frozenset[str]
    text_matches: re.Pattern[str] | None
    text_lacks: re.Pattern[str] | None

    def applies(self, cats: set[str], text: str) -> bool:
        return (
            all(c in cats for c in self.found)
            and (not self.with_any_of or bool(cats & self.with_any_of))
            and not cats & self.without_any_of
            and (self.text_matches is None or bool(self.text_matches.search(text)))
            and (self.text_lacks is None or not self.text_lacks.search(text))
        )


@dataclass(frozen=True)
class _Context:
    window: str  # up to 8 words before the match, same clause
    sentence: str
    match_text: str
    after: str  # up to 4 words after the match, same clause
    sentence_prefix: str  # the sentence up to the match
    clause: str  # the match's clause
    asked: bool  # the sentence ends in a question mark


def _context(text: str, start: int, end: int) -> _Context:
    sent_start = max(0, start - _MAX_SENTENCE)
    for found in _SENTENCE_END.finditer(text, sent_start, start):
        sent_start = found.end()
    limit = min(len(text), end + _MAX_SENTENCE)
    found_end = _SENTENCE_END.search(text, end, limit)
    sent_end = found_end.start() if found_end else limit
    clause_start = sent_start
    for found in _CLAUSE_BREAK.finditer(text, sent_start, start):
        clause_start = found.end()
    words = text[clause_start:start].split()
    window = " ".join(words[-8:])
    if window:
        window += " "
    clause_end = _CLAUSE_BREAK.search(text, end, sent_end)
    after = text[end : clause_end.start() if clause_end else sent_end].split()[:4]
    return _Context(
        window,
        text[sent_start:sent_end],
        text[start:end],
        " ".join(after),
        text[sent_start:start],
        text[clause_start : clause_end.start() if clause_end else sent_end],
        text[sent_end : sent_end + 1] == "?",
    )


class RedFlagDetector:
    """knowledge/red_flag_rules.yaml compiled once; :meth:`detect` applies the grammar."""

    def __init__(self, rules: RedFlagRules) -> None:
        fragments = rules.fragment_regexes()
        v = rules.vocabularies

        def words(vocabulary: WordList) -> re.Pattern[str]:
            return _c(vocabulary.to_regex(fragments))

        self._person = words(v.person)
        self._strong_event = words(v.strong_event)
        self._weak_event = words(v.weak_event)
        self._hypo = words(v.hypothetical)
        self._hypo_exempt = words(v.hypothetical_exempt)
        self._generic = words(v.generic)
        self._eligibility = words(v.eligibility)
        self._conditional = words(v.conditional)
        self._acute = words(v.acute)
        self._acute_in_match = words(v.acute_in_match)
        self._background = words(v.background)
        self._override = words(v.background_override)
        self._override_in_clause = words(v.background_override_in_clause)
        self._negation = words(v.negation)
        self._negation_noise = words(v.negation_noise)
        self._scope_break = words(v.scope_break)
        self._what_to_do = words(v.what_to_do)
        self._query_words = words(v.query_words)
        # A sentence that opens with one of these words is a question.
        self._question_start = _c(r"\s*" + v.question_start.to_regex() + r"\b")

        self._symptoms = tuple(
            _Symptom(c.id, block.kind, _c(wording.expand(pattern_text(p), fragments)))
            for c in rules.categories
            for block in c.rules
            for p in block.patterns
        )
        self._never_dismissed = frozenset(c.id for c in rules.categories if c.never_dismissed)
        self._denials = {c.id: _denial(c) for c in rules.categories if c.denial is not None}
        self._combinations = tuple(_combination(c, fragments) for c in rules.categories if c.signs)
        self._choices = tuple(_choice(r, fragments) for r in rules.choose)
        self._precedence = tuple(rules.precedence)

    def detect(self, message: str) -> RedFlag | None:
        """A :class:`RedFlag` if ``message`` describes a current or just-happened emergency
        (or thoughts of suicide/self-harm), else ``None``."""
        norm = _normalize(message)
        text = norm.text
        if not text:
            return None
        hits: dict[str, tuple[int, int]] = {}
        for symptom in self._symptoms:
            for found in symptom.pattern.finditer(text):
                if self._is_urgent(text, found.start(), found.end(), symptom):
                    span = (found.start(), found.end())
                    previous = hits.get(symptom.category)
                    if previous is None or span[0] < previous[0]:
                        hits[symptom.category] = span
                    break
        for combination in self._combinations:
            combined = self._combination(text, combination)
            if combined is None:
                continue
            hits[combination.category] = combined
            replaced = hits.get(combination.replaces or "")
            if (
                replaced is not None
                and combination.replaces_when in text[replaced[0] : replaced[1]]
            ):
                del hits[combination.replaces or ""]
        if not hits:
            return None
        category, evidence_of = self._pick_category(hits, text)
        start, end = hits[evidence_of]
        return RedFlag(category=category, evidence=norm.original(start, end))

    # -- the grammar --------------------------------------------------------------------

    def _is_bare_report(self, text: str) -> bool:
        return (
            "?" not in text
            and len(text.split()) <= _BARE_REPORT_WORDS
            and not self._generic.search(text)
            and not self._hypo.search(text)
            and not self._query_words.search(text)
        )

    def _negated(self, window: str) -> bool:
        cleaned = self._negation_noise.sub(" ", window)
        scope = self._scope_break.split(cleaned)[-1]
        return bool(self._negation.search(" ".join(scope.split()[-5:])))

    def _dismissed(self, text: str, start: int, end: int) -> bool:
        """Negated ("no fever") or chronic/past background ("headaches for years")."""
        ctx = _context(text, start, end)
        background = self._background.search(ctx.sentence) and not (
            self._override.search(ctx.sentence) or self._override_in_clause.search(ctx.clause)
        )
        return bool(background) or self._negated(ctx.window)

    def _is_urgent(self, text: str, start: int, end: int, symptom: _Symptom) -> bool:
        ctx = _context(text, start, end)
        never_dismissed = symptom.category in self._never_dismissed
        if never_dismissed:
            denial = self._denials.get(symptom.category)
            if denial and denial.before.search(ctx.window) and denial.applies_to in ctx.match_text:
                return False
        elif self._dismissed(text, start, end):
            return False
        if symptom.kind == _STANDALONE:
            # A quoted phrase in a question about wording ('What does "worst headache of my
            # life" mean?') is a mention, not an event.
            quoted = text[start - 1 : start] == '"' and text[end : end + 1] == '"'
            return never_dismissed or not (quoted and self._hypo.search(ctx.sentence))

        hypo = bool(self._hypo.search(self._hypo_exempt.sub(" ", ctx.window)))
        generic = bool(self._generic.search(ctx.sentence))
        acute = bool(
            self._acute.search(ctx.sentence) or self._acute_in_match.search(ctx.match_text)
        )
        strong_event = bool(self._strong_event.search(ctx.window))
        weak_event = bool(self._weak_event.search(ctx.window))
        person = bool(
            self._person.search(ctx.window) or self._person.search(ctx.match_text + " " + ctx.after)
        )
        # A subject earlier in the sentence ("Patient developed rigors, hypotension and wheeze")
        # counts too, but only in a sentence that is not a general question.
        far_cue = symptom.kind != _CONDITION and bool(
            self._person.search(ctx.sentence_prefix)
            or self._strong_event.search(ctx.sentence_prefix)
            or self._weak_event.search(ctx.sentence_prefix)
        )
        asks_what_to_do = bool(self._what_to_do.search(text)) and not self._conditional.search(
            ctx.sentence
        )

        if symptom.kind == _ACUTE_ONLY and not acute:
            return False
        # A short statement with no question or hedging ("coughing blood", "slurred speech and
        # face drooping") is read as a report, not a search.
        if symptom.kind == _PLAIN and self._is_bare_report(text):
            return True
        if symptom.kind == _CONDITION:
            # "my mum has kidney failure, can she take IVIG?" is background, not an event.
            informational = self._generic.search(text) or self._eligibility.search(text)
            cue = strong_event or (person and not informational)
        else:
            cue = person or strong_event
        if cue and not hypo:
            return True
        # Without a subject next to the symptom, a sentence shaped like a question ("Do
        # headaches and fever after IVIG mean ...?") is read as a general question.
        question = bool(self._question_start.match(ctx.sentence))
        if symptom.kind == _CONDITION and ctx.asked and not person:
            # A condition named in a question with no one in it ("timing of aseptic meningitis
            # post IVIG?") asks about the condition; it reports no event.
            question = True
        if (acute or weak_event or far_cue) and not (generic or question or hypo):
            return True
        return asks_what_to_do and not generic

    def _combination(self, text: str, combination: _Combination) -> tuple[int, int] | None:
        """Span covering a combination of signs (meningism) described as an event."""
        hits: dict[str, list[re.Match[str]]] = {}
        for name, pattern in combination.signs:
            found = [
                m for m in pattern.finditer(text) if not self._dismissed(text, m.start(), m.end())
            ]
            if found:
                hits[name] = found
        kinds = set(hits)
        if len(kinds) < combination.at_least or (
            combination.one_of and not kinds & combination.one_of
        ):
            return None
        marker = _Symptom(combination.category, _PLAIN, combination.signs[0][1])
        matches = sorted((m for found in hits.values() for m in found), key=lambda m: m.start())
        whole_message_acute = bool(self._acute.search(text)) and not (
            self._generic.search(text)
            or self._hypo.search(text)
            or self._question_start.match(text)
        )
        if not whole_message_acute and not any(
            self._is_urgent(text, m.start(), m.end(), marker) for m in matches
        ):
            return None
        start, end = matches[0].start(), matches[-1].end()
        if end - start > _MAX_EVIDENCE:
            return matches[0].start(), matches[0].end()
        return start, end

    def _pick_category(self, hits: dict[str, tuple[int, int]], text: str) -> tuple[str, str]:
        """The category to report and the category whose evidence to show."""
        cats = set(hits)
        for choice in self._choices:
            if choice.applies(cats, text):
                shown = choice.category if choice.category in hits else choice.found[0]
                return choice.category, shown
        for category in self._precedence:
            if category in cats:
                return category, category
        raise AssertionError("unreachable: the loader checks every category is ranked")


def _denial(category: RuleCategory) -> _Denial:
    assert category.denial is not None
    words = wording.normalised_words(category.denial.words)
    before = r"\b" + wording.alternation([wording.phrase(w) for w in words]) + r"\s+$"
    return _Denial(_c(before), category.denial.applies_to)


def _combination(category: RuleCategory, fragments: dict[str, str]) -> _Combination:
    assert category.at_least is not None
    return _Combination(
        category=category.id,
        signs=tuple((name, _c(w.to_regex(fragments))) for name, w in category.signs.items()),
        at_least=category.at_least,
        one_of=frozenset(category.one_of),
        replaces=category.replaces.category if category.replaces else None,
        replaces_when=category.replaces.when_evidence_contains if category.replaces else "",
    )


def _choice(rule: ChooseRule, fragments: dict[str, str]) -> _Choice:
    return _Choice(
        category=rule.category,
        found=tuple(rule.found),
        with_any_of=frozenset(rule.with_any_of),
        without_any_of=frozenset(rule.without_any_of),
        text_matches=_c(rule.text_matches.to_regex(fragments)) if rule.text_matches else None,
        text_lacks=_c(rule.text_lacks.to_regex(fragments)) if rule.text_lacks else None,
    )


@cache
def default_detector() -> RedFlagDetector:
    """The configured knowledge folder's rules, loaded on first use (never at import). For
    scripts and tests; the service gets its detector from compose.py."""
    from ..config import get_settings
    from ..knowledge import load_red_flag_rules

    return RedFlagDetector(load_red_flag_rules(get_settings().knowledge_dir))


def detect_red_flag(message: str, detector: RedFlagDetector | None = None) -> RedFlag | None:
    """Return a :class:`RedFlag` if ``message`` describes a current or
    just-happened emergency (or thoughts of suicide/self-harm), else ``None``.

    General information questions ("What is the risk of stroke with IVIG?") and
    chronic MS symptoms ("numbness in my legs for years") return ``None``.
    """
    return (detector or default_detector()).detect(message)
