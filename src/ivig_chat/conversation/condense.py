"""Follow-ups: a message that leans on the conversation becomes a standalone question.

Deterministic and conservative: a self-contained question is kept as it is; a follow-up ("and
in progressive MS?", "how many patients were in it?", "and the dose?") is rewritten from the
earlier turns: the changed population swapped in, the pronoun replaced by the study the
conversation is about, or the user's words kept with the question they lean on. The study a
turn was about is the one its question names or, failing that, the one its answer led with
(``topic_of``), so "tell me about the SPMS trial" -> "and the dose?" is read as the dose of the
trial the answer was about. "Going back to the first one" points at an earlier turn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..textutil import STOPWORDS, normalise, words

_CONTINUATION = re.compile(
    r"^(?:and|but|also|so|then|what about|how about|same for|same in|and what about|"
    r"what if|ok(?:ay)?,? and|and for|and in)\b",
)
_ANAPHORA = re.compile(
    r"\b(?:it|its|it's|that|this|these|those|they|them|their|there|the same|the study|"
    r"the trial|the review|the paper|the meta-analysis|that study|that trial|this study|"
    r"this trial|he|she|the drug|the treatment|the dose|that dose|the results?|"
    r"(?:the|that|this) (?:\w+ ){1,2}(?:trial|study|review|paper))\b"
)
# Pointing words that cannot stand alone; "the study" or "the dose" may be a description
# ("the study comparing doses after delivery"), so they count only in a short message.
_POINTER = re.compile(
    r"\b(?:it|its|it's|these|those|they|them|their|the same|he|she|that one|"
    r"this one|that study|that trial|this study|this trial|that dose)\b(?! (?:is|was) (?:a|an)\b)"
)
DESCRIPTIVE = 5  # content words from which a "the study ..." question describes its own subject
# Populations and settings a follow-up may swap ("and in progressive MS?"), most specific first.
_SETTINGS = [
    r"relapsing[- ]remitting(?: ms| multiple sclerosis)?|rrms",
    r"secondary progressive(?: ms| multiple sclerosis)?|spms",
    r"primary progressive(?: ms| multiple sclerosis)?|ppms",
    r"progressive(?: ms| multiple sclerosis)?",
    r"(?:acute )?relapses?|flare[- ]?ups?|attacks?",
    r"pregnan(?:cy|t)|breast[- ]?feeding|post[- ]?partum|postpartum",
    r"clinically isolated syndrome|cis",
    r"optic neuritis",
    r"children|kids|paediatric|pediatric",
]
_SETTING_PATTERNS = [re.compile(r"\b(?:" + p + r")\b") for p in _SETTINGS]
_RELAPSE = 4  # index of the relapse pattern: an outcome as often as a setting


def _settings_in(text: str) -> list[tuple[int, int, int]]:
    """(pattern index, start, end) of each population or setting named in text."""
    low = normalise(text)
    found: list[tuple[int, int, int]] = []
    for i, pattern in enumerate(_SETTING_PATTERNS):
        for m in pattern.finditer(low):
            if not any(s <= m.start() < e for _, s, e in found):
                found.append((i, m.start(), m.end()))
    return found


def _swap_setting(base: str, follow_up: str) -> str | None:
    """Put the follow-up's population in place of the previous question's, if both name one."""
    new = _settings_in(follow_up)
    old = _settings_in(base)
    if not new or not old or len(_content_words(follow_up)) > 4:
        return None
    as_setting = re.match(r"^(?:in|for|during|with|on|after)\b", follow_up, re.IGNORECASE)
    if all(n[0] == _RELAPSE for n in new) and not as_setting:
        return None  # "relapse rates in each arm?" asks about an outcome, not a new setting
    populations = [o for o in old if o[0] != _RELAPSE] or old
    _, start, end = populations[0]
    replacement = re.sub(r"^(?:in|for|during|with|on)\s+", "", follow_up, flags=re.IGNORECASE)
    return f"{base[:start]}{replacement}{base[end:]}?"


# Named studies: "the AIMS trial", "Fazekas 1997", "Haas and Hommes 2007", "the Cochrane review".
_ACRONYM_STUDY = re.compile(r"\b(?:the )?[A-Z][A-Z0-9-]{2,}[A-Za-z]* (?:trial|study)\b")
_AUTHOR_YEAR = re.compile(
    r"\b[A-Z][a-zA-Z\u00c0-\u017f'-]+(?: (?:and|&) [A-Z][a-zA-Z\u00c0-\u017f'-]+)? (?:19|20)\d\d\b"
)
_REVIEW = re.compile(r"\b(?:the )?(?:Cochrane review|meta-analysis)\b")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9-]{2,}\b")
_MONTHS = frozenset(
    "january february march april may june july august september october november december the "
    "in of and".split()
)


def study_acronyms(texts: Sequence[str], exclude: Sequence[str] = ()) -> frozenset[str]:
    """Acronyms a corpus uses as study names ("the ESIMS trial"), so a bare "ESIMS" or "esims"
    in a question names that study; the article's subject and its populations excluded."""
    skip = {e.lower() for e in exclude}
    found = set()
    for text in texts:
        for m in _ACRONYM_STUDY.finditer(text):
            word = m.group(0).removeprefix("the ").split()[0]
            if word.lower() not in skip and not _settings_in(word):
                found.add(word)
    return frozenset(found)


def _studies(text: str, acronyms: frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """(position, name) of each study named in text, in order."""
    found: list[tuple[int, str]] = [(m.start(), m.group(0)) for m in _REVIEW.finditer(text)]
    for m in _ACRONYM_STUDY.finditer(text):
        word = m.group(0).removeprefix("the ").split()[0]
        # "the SPMS trial" names a population's trial, not a study: known acronyms only.
        if (word in acronyms) if acronyms else not _settings_in(word):
            found.append((m.start(), m.group(0)))
    for m in _AUTHOR_YEAR.finditer(text):
        if m.group(0).split()[0].lower() not in _MONTHS:
            found.append((m.start(), m.group(0)))
    if acronyms:
        lowered = {a.lower(): a for a in acronyms}
        for m in re.finditer(r"\b[A-Za-z][A-Za-z0-9-]{2,}\b", text):
            if m.group(0).lower() in lowered:
                found.append((m.start(), f"the {lowered[m.group(0).lower()]} trial"))
    # One name per place in the text: the longest that starts there.
    by_start: dict[int, str] = {}
    for start, name in sorted(found, key=lambda f: (f[0], -len(f[1]))):
        if not any(s <= start < s + len(n) for s, n in by_start.items()):
            by_start[start] = name
    return sorted(by_start.items())


def study_keys(text: str, acronyms: frozenset[str] = frozenset()) -> frozenset[str]:
    """The studies a text names, as comparable keys: a corpus acronym ("privig") or an author
    and year ("fazekas 2008"); "The PRIVIG trial (Fazekas 2008)" gives both."""
    lowered = {a.lower() for a in acronyms}
    keys = {
        m.group(0).lower()
        for m in re.finditer(r"\b[A-Za-z][A-Za-z0-9-]{2,}\b", text)
        if m.group(0).lower() in lowered
    }
    keys |= {
        m.group(0).lower()
        for m in _AUTHOR_YEAR.finditer(text)
        if m.group(0).split()[0].lower() not in _MONTHS
    }
    return frozenset(keys)


def names_study(text: str, acronyms: frozenset[str] = frozenset()) -> bool:
    return bool(_studies(text, acronyms))


def topic_of(
    question: str, lead_quote: str | None, acronyms: frozenset[str] = frozenset()
) -> str | None:
    """The study a turn was about: the one its question names, else the one its answer led with.
    Only a quote that names a single study settles it."""
    named = _studies(unwrap(question), acronyms)
    if named:
        return named[0][1]
    if lead_quote:
        in_quote = {name for _, name in _studies(lead_quote, acronyms)}
        first = _studies(lead_quote, acronyms)
        if first and len(in_quote) <= 2:  # "the ESIMS trial (Hommes 2004)" is one study
            return first[0][1]
    return None


def _content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and not w.isdigit()]


# "going back to the first one", "the earlier trial": a pointer to an earlier turn.
_BACK_REFERENCE = re.compile(
    r"^(?:(?:ok(?:ay)?|so|and|now),? )?(?:going |go |coming )?back to (?:the )?"
    r"(?P<which>first|earlier|original|previous|other|initial) (?:one|trial|study|question)"
    r"[,:;.]?\s*",
    re.IGNORECASE,
)


def is_follow_up(
    message: str,
    has_history: bool,
    subject: Sequence[str] = (),
    acronyms: frozenset[str] = frozenset(),
    topic: bool = False,
) -> bool:
    """Whether the message leans on the conversation to be understood.

    subject: how the article names its subject (a question naming it stands on its own more
    often). topic: the conversation is about a named study, so a short question that names
    none ("relapse rates in each arm?") is about that study.
    """
    if not has_history:
        return False
    text = normalise(message).strip()
    if _CONTINUATION.match(text) or _BACK_REFERENCE.match(message.strip()):
        return True
    names = names_study(message, acronyms)
    content = _content_words(text)
    if not names and (
        _POINTER.search(text) or (_ANAPHORA.search(text) and len(content) < DESCRIPTIVE)
    ):
        return True
    says_subject = any(re.search(rf"\b{re.escape(s.lower())}\b", text) for s in subject)
    if len(content) <= 2 and not says_subject:
        return True
    populations = [s for s in _settings_in(message) if s[0] != _RELAPSE]
    return topic and not names and not says_subject and not populations and len(content) <= 4


def _subject(history: Sequence[str], acronyms: frozenset[str] = frozenset()) -> str | None:
    """The study the previous questions were about, if one is named."""
    for question in reversed(history):
        named = _studies(question, acronyms)
        if named:
            return named[0][1]
    return None


_STUDY_NOUN = re.compile(
    r"\b(?:trials?|stud(?:y|ies)|reviews?|papers?|meta-?analys[ie]s|rcts?|cohorts?|guidelines?)\b"
)


def _about_a_study(question: str, acronyms: frozenset[str]) -> bool:
    """Whether a question names a study or asks about one ("the big trial in SPMS")."""
    return bool(_studies(question, acronyms)) or bool(_STUDY_NOUN.search(normalise(question)))


_WRAPPED = re.compile(r"^.*? \(follow-up to: (.+)\)$")


def unwrap(standalone: str) -> str:
    """The question a "... (follow-up to: Q)" standalone question leans on, else itself."""
    match = _WRAPPED.match(standalone)
    return unwrap(match.group(1)) if match else standalone


def condense(
    message: str,
    history: Sequence[str],
    topics: Sequence[str | None] = (),
    *,
    subject: Sequence[str] = (),
    acronyms: frozenset[str] = frozenset(),
) -> str:
    """A standalone question for retrieval; self-contained questions come back unchanged.

    history: earlier standalone questions of the conversation, oldest first. topics: the study
    each of those turns was about (topic_of), when known. subject: how the article names its
    subject. acronyms: the corpus's study acronyms (study_acronyms).
    """
    message = " ".join(message.split())
    if not history:
        return message
    back = _BACK_REFERENCE.match(message)
    target = len(history) - 1
    if back:
        which = back.group("which").lower()
        target = 0 if which in ("first", "original", "initial") else max(0, len(history) - 2)
        message = message[back.end() :].strip() or message
    known = list(topics) + [None] * (len(history) - len(topics))
    topic = known[target] or (_subject(history[: target + 1], acronyms) if back else None)
    if not back and not is_follow_up(
        message, True, subject, acronyms, topic=bool(known[target] or _subject(history, acronyms))
    ):
        return message
    previous = unwrap(history[target])
    if not back and not _about_a_study(previous, acronyms):
        # The answer led with a study, but the question was not about one ("what dose is
        # normally used?" -> "is there a recommended one?"): the follow-up leans on the
        # question, not on the study that happened to come first.
        topic = None
    study = topic or _subject(history[: target + 1], acronyms)
    text = message.rstrip("?.! ")
    stripped = re.sub(
        r"^(?:and|but|also|so|then|what about|how about|same for|same in|and what about|"
        r"ok(?:ay)?,? and|and for|and in)\b[ ,]*",
        "",
        text,
        flags=re.IGNORECASE,
    ).strip()
    base = previous.rstrip("?.! ")
    swapped = _swap_setting(base, stripped)
    if swapped:
        return swapped
    new_study, old_study = _studies(stripped, acronyms), _studies(base, acronyms)
    if new_study and old_study and len(_content_words(stripped)) <= 4:
        (start, old), (_, new) = old_study[0], new_study[0]
        return f"{base[:start]}{new}{base[start + len(old) :]}?"
    if study and not new_study:
        if _ANAPHORA.search(normalise(text)):
            rewritten = re.sub(
                r"\b(?:it|that one|this one|that study|that trial|this study|this trial|them|they|"
                r"the (?:study|trial)(?=\s*(?:[?.!,;]|$)))\b",
                study,
                text,
                count=1,
                flags=re.IGNORECASE,
            )
            if rewritten != text:
                return rewritten + "?"
        if topic:
            # The answer was about one study; the question names none: ask it about that one.
            return f"{stripped or text} in {study}?"
    # Otherwise keep the user's words and carry the previous question as context.
    return f"{stripped or text}? (follow-up to: {base}?)"
