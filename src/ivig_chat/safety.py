"""Deterministic safety checks for user messages and retrieved passages.

Three concerns live here, all pure standard-library Python with no I/O:

* **Red flags** (:func:`detect_red_flag`): a message that describes a current or
  just-happened emergency (or thoughts of self-harm) gets emergency guidance first
  (:func:`urgent_guidance`). General questions about risks ("Can IVIG cause
  aseptic meningitis?") and chronic multiple-sclerosis symptoms are *not* flagged.
* **Manipulation** (:func:`detect_manipulation`): requests to drop the disclaimer,
  reveal the system prompt, override instructions or issue individual treatment
  orders get a short refusal (:func:`refusal_text`).
* **Planted instructions** (:func:`looks_like_instruction`): corpus text that
  addresses the model ("Ignore all previous instructions ...") so retrieval can
  drop or neutralise it.

Matching works on a normalised copy of the text (Unicode-folded, lower-case,
apostrophes removed so "can't" and "cant" are the same, whitespace collapsed).
Evidence spans are mapped back to the caller's original text.

Red-flag logic, in short: every symptom pattern has a *kind*:

``standalone``
    urgent on its own ("my throat is closing", "I can't breathe", "kill myself");
``plain``
    urgent with a personal/event cue before it in the same clause ("my patient
    has ...", "she's having ...", "pt c/o ...") or an acute time cue in the same
    sentence ("during the infusion", "right now") in a non-generic sentence;
``acute``
    symptoms that are common chronic MS complaints (one-sided numbness, vision
    loss, confusion, calf pain): need an acute cue ("suddenly", "today",
    "after the infusion", "went numb") as well;
``condition``
    names of conditions ("a stroke", "seizures", "a blood clot", "anaphylaxis"):
    a bare possessive is not enough ("my mum has kidney failure, can she have
    IVIG?"); they need an event verb ("is having", "just had", "I think") or an
    acute cue.

Hypothetical/generic wording right before the symptom ("can", "if", "risk",
"worried about", "I read"), negation ("no chest pain"), and chronic or past
background in the sentence ("for years", "since my diagnosis", "last year")
suppress a match, unless an acute cue ("right now", "suddenly", "today",
"during the infusion") overrides the background. A short statement with no
question or hedging ("coughing blood") counts as a report. Aseptic meningitis
is a combination of two of headache / stiff neck / fever / light sensitivity.
Self-harm ignores background and negation (only "I'm not suicidal" is honoured)
and wins over every other category, because its guidance also covers calling
emergency services.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "MANIPULATION_CATEGORIES",
    "RED_FLAG_CATEGORIES",
    "Audience",
    "Manipulation",
    "RedFlag",
    "detect_manipulation",
    "detect_red_flag",
    "looks_like_instruction",
    "refusal_text",
    "urgent_guidance",
]

Audience = Literal["clinician", "patient"]

RED_FLAG_CATEGORIES: Final[tuple[str, ...]] = (
    "anaphylaxis",
    "breathing",
    "chest_pain",
    "stroke",
    "meningitis",
    "thrombosis",
    "kidney",
    "seizure",
    "self_harm",
    "other_emergency",
)

MANIPULATION_CATEGORIES: Final[tuple[str, ...]] = (
    "disclaimer_removal",
    "prompt_extraction",
    "instruction_override",
    "treatment_order",
)


@dataclass(frozen=True)
class RedFlag:
    """A detected emergency: ``category`` is one of :data:`RED_FLAG_CATEGORIES`."""

    category: str
    evidence: str


@dataclass(frozen=True)
class Manipulation:
    """A detected manipulation attempt: ``category`` is one of
    :data:`MANIPULATION_CATEGORIES`."""

    category: str
    evidence: str


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

_APOSTROPHES: Final = frozenset(
    "'\u2018\u2019\u201a\u201b\u02b9\u02bb\u02bc\u02bd\u0060\u00b4\u2032\uff07"
)
_DASHES: Final = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_DOUBLE_QUOTES: Final = frozenset("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\uff02")


@dataclass(frozen=True)
class _Normalized:
    text: str
    origin: tuple[int, ...]  # origin[i] = index in ``source`` of text[i]
    source: str

    def original(self, start: int, end: int) -> str:
        """The caller's original text behind normalised span ``[start, end)``."""
        if start >= end or not self.text:
            return ""
        first = self.origin[start]
        last = self.origin[min(end, len(self.origin)) - 1]
        return self.source[first : last + 1].strip()


def _normalize(message: str) -> _Normalized:
    """Lower-case, accent-fold, drop apostrophes and format characters, unify
    dashes and quotes, and collapse whitespace (a run containing a line break
    becomes ``"\\n"``, otherwise ``" "``). Keeps an index map to the original."""
    chars: list[str] = []
    origin: list[int] = []
    pending_space: str | None = None
    pending_index = 0
    for index, raw in enumerate(message):
        if raw in _APOSTROPHES:
            continue
        for piece in unicodedata.normalize("NFKD", raw):
            if piece in _APOSTROPHES or unicodedata.combining(piece):
                continue
            category = unicodedata.category(piece)
            if piece.isspace() or category in ("Zs", "Zl", "Zp"):
                if pending_space is None:
                    pending_space, pending_index = " ", index
                if piece in "\n\r\u2028\u2029\x0b\x0c":
                    pending_space = "\n"
                continue
            if category in ("Cf", "Cc", "Cs", "Co", "Cn"):
                continue
            if piece in _DASHES:
                piece = "-"
            elif piece in _DOUBLE_QUOTES:
                piece = '"'
            for folded in piece.casefold():
                if unicodedata.combining(folded):
                    continue
                if pending_space is not None:
                    if chars:
                        chars.append(pending_space)
                        origin.append(pending_index)
                    pending_space = None
                chars.append(folded)
                origin.append(index)
    return _Normalized("".join(chars), tuple(origin), message)


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# ---------------------------------------------------------------------------
# Red flags: shared vocabulary
# ---------------------------------------------------------------------------

_CANT = r"(?:cant|cannot|can not|cnt|couldnt|could not|unable to|not able to)"
_BREATHE = r"br?e(?:a|e)?th?(?:e|ing|in)?"
_CHEST = r"(?:ch(?:e|ea)st|chets|chset)"
_POSS = r"(?:my|her|his|their|your|the)"
_SELF = r"(?:my|him|her|them|your|our)\s?(?:self|selves)"
_NOT_ABOUT_RISK = (
    r"(?!\s*(?:risks?|rates?|prevention|history|unit|survivors?|patients|trials?|studies|study"
    r"|threshold|disorder|medications?|meds|drugs?|data|statistics|prophylaxis|score))"
)

_PERSON: Final = _c(
    r"\b(?:i|im|ive|me|my|myself|we|us|our|he|hes|she|shes|they|theyre|theyve|him|her|his"
    r"|their|them|pt|pts|(?:my|our|the|this|that) (?:patients?|clients?|residents?)"
    r"|mine|husband|wife|partner|son|daughter|child|kid|baby|mom|mum|mother|dad|father|brother"
    r"|sister|boyfriend|girlfriend|fiance|fiancee|friend|grandma|grandmother|grandpa"
    r"|grandfather|aunt|uncle|neighbou?r|roommate|flatmate)\b"
    # Clinical vignettes: "68-year-old with crushing chest pain", "68yo man", "72 y/o".
    r"|\b\d{1,3}[- ]?(?:years?|yrs?|y)[- ]?(?:old|o)\b(?!\s+(?:patients|people|women|men"
    r"|adults|children|persons|individuals|and older|or older))|\b\d{1,3} ?y/o\b"
    r"|\b(?:presents?|presenting|presented) with\b"
)

# Present/just-happened event verbs; they make a condition name ("a seizure") an event.
_STRONG_EVENT: Final = _c(
    r"\b(?:is|are|am|was|were|im|shes|hes|theyre|keeps?|been|still|now)\s+"
    r"(?:still |now |suddenly |currently |just |really )?"
    r"(?:having|getting|experiencing|complaining|developing|showing|going into|gone into|in)\b"
    r"|\b(?:has|have|had|hes|shes|ive|weve|theyve) (?:just |suddenly |now )?"
    r"(?:developed|started|got|gotten|begun|gone into|went into)\b"
    r"|\bjust (?:had|got|started|developed|went|collapsed|fainted)\b"
    r"|\bc/o\b|\bcomplain(?:s|ed|ing)? (?:of|about)\b|\bbroke out\b"
    r"|\bstarted (?:having|getting|to)\b|\bgoing into\b|\bwent into\b"
    r"|\bi think\b|\bi believe\b|\blooks like\b|\bseems like\b|\bappears to be\b"
    # A time after a given infusion places the symptom in a real course of events.
    r"|\bday \d+ (?:after|post|following)\b|\b\d+ (?:hours?|hrs?|days?) (?:after|post|following)"
    r" (?:the |his |her |their |my )?(?:ivig|infusion|dose)\b|\bpost[- ]?infusion\b"
)

# Bare participles without a subject ("Patient having chest pain").
_WEAK_EVENT: Final = _c(
    r"\b(?:having|experiencing|complaining of|developed|developing|started|starting|getting"
    r"|got|suffering|showing)\b"
)

# Hypothetical / informational wording in the clause right before a symptom.
_HYPO: Final = _c(
    r"\b(?:can|could|would|might|may|will|should|if|whether|case|worried|worry|worries"
    r"|worrying|afraid|scared|concerned|concern|fear|fears|risks?|chances?|likelihood|history"
    r"|prevent|prevents|preventing|avoid|cause|causes|causing|sign|signs|recogni[sz]e|ever"
    r"|read|heard|hear|article|study|studies|trials?|evidence|research|data|learn|ask|asking"
    r"|asked|question|questions|wonder|wondering|curious|explain|information|info|tomorrow"
    r"|next|upcoming|future|later|incidence|rate|rates|know|understand|mean|means|meaning"
    r"|considering|consider)\b"
    r"|\b(?:about|regarding|re|such as|including)\s+(?:\S+\s+){0,2}$"
    r"|\b(?:symptoms?|effects?|things|reactions?|problems?|issues?|events?) like\s+(?:\S+\s+){0,2}$"
)
_HYPO_EXEMPT: Final = _c(r"\b(?:might|may|could) be\b|\bwould you\b")

# Sentence-level markers of a general information question.
_GENERIC: Final = _c(
    r"\b(?:can|could|does|do|did|will|would|might|may|is|are|should) "
    r"(?:ivig|it|immunoglobulins?|igg|infusions?|the (?:drug|treatment|infusion"
    r"|medication|medicine))\b"
    r"|\b(?:risks?|common(?:ly)?|frequen(?:t|tly|cy)|incidence|rare(?:ly)?|how often|how likely"
    r"|likelihood|chances?|side[- ]effects?|adverse|causes?|causing|associated|linked|reported"
    r"|studies|study|trials?|evidence|article|literature|research|data|patients|people|anyone"
    r"|someone|somebody|if|whether|in case|signs? of|symptoms? of|warning signs?"
    r"|monitor(?:ed|ing)?|prevent(?:ed|ion|s)?|avoid(?:ed)?|manage(?:d|ment)?|tomorrow"
    r"|next (?:week|time|month|infusion|dose)|upcoming|scheduled|planned|future|worried"
    r"|afraid|scared|concerned|dangerous|serious|known|typical|likely|expected|reason"
    r"|considering|consider|candidate|option|one patient|a patient|another patient|another"
    r"|participants?|subjects?|cases?)\b"
)

_ELIGIBILITY: Final = _c(
    r"\b(?:can|could|may|should) (?:i|he|she|they|we|my \w+|the patient|this patient) "
    r"(?:still |safely )?(?:have|get|take|receive|start|use|continue|be given|go on|try)\b"
    r"|\bcontraindicat\w*|\beligible\b|\bsafe (?:for|to|in|with)\b|\bsuitable\b"
    r"|\bis (?:ivig|it|igg) (?:safe|ok|okay|suitable|recommended|an option|appropriate)\b"
)

_CONDITIONAL: Final = _c(r"\b(?:if|whether|in case|what happens when|when (?:a |the )?patients?)\b")

# Acute time/event cues (sentence level).
_INFUSION = r"(?:ivig|igg|infusion|drip|immunoglobulin|treatment|dose|transfusion|iv)"
_DET = (
    r"(?:the |her |his |my |their |this |todays |yesterdays |last nights |last |our |your "
    r"|an |a )?"
)
_ACUTE: Final = _c(
    r"\b(?:right now|now|currently|at the moment|as we speak|this (?:morning|afternoon|evening)"
    r"|tonight|today|yesterday|last night|overnight"
    r"|(?:\d+|a|an|one|two|three|few|a few|couple of|a couple of|several) "
    r"(?:seconds?|minutes?|mins?|hours?|hrs?|h) ago"
    r"|mid[- ]?(?:infusion|drip|transfusion|dose)"
    r"|(?:during|after|since|following|post)[- ]"
    + _DET
    + r"(?:ivig |igg )?"
    + _INFUSION
    + r"|(?:(?:\d+|a few|few|several) (?:min|mins|minutes|hours?|hrs?) )?into "
    + _DET
    + r"(?:ivig |igg )?(?:infusion|drip|transfusion)"
    r"|on the (?:ivig )?drip|suddenly|sudden|all of a sudden|out of nowhere"
    r"|just now|just (?:started|happened|began)|this is happening)\b"
)
_ACUTE_IN_MATCH: Final = _c(r"\b(?:went|gone|suddenly|sudden|just|started|now)\b")

# Chronic or past background that makes a symptom non-urgent.
_BACKGROUND: Final = _c(
    r"\bfor (?:the (?:past|last) )?(?:many |several |a few |few |\d+ |two |three |four |five "
    r"|six |seven |eight |nine |ten |some )?(?:years?|months?|decades?|ages|a long time|a while"
    r"|yrs)\b"
    r"|\bsince (?:my|her|his|their|the) (?:\d{4} )?(?:diagnosis|relapse|ms|childhood|teens"
    r"|stroke|surgery|accident|injury|attack|palsy|bells palsy|pregnancy|last relapse)\b"
    r"|\bsince (?:diagnosis|childhood|birth|i was|he was|she was|\d{4})\b"
    r"|\bchronic(?:ally)?\b|\bon and off\b|\boff and on\b|\bcomes? and goes?\b|\balways\b"
    r"|\bsometimes\b|\bat times\b|\boccasionally\b|\bnow and (?:then|again)\b"
    r"|\b(?:i|she|he|they|we|you) (?:get|gets|tend to get|tends to get|suffer from|suffers from"
    r"|am prone to|is prone to)\b"
    r"|\bfrom time to time\b"
    r"|\busually\b|\boften\b|\bevery (?:time|infusion|day|morning|night|week|month)\b"
    r"|\beach (?:time|infusion)\b|\bafter (?:every|each) infusion\b"
    r"|\b(?:from|due to|because of|caused by|part of) (?:my |her |his |their |the )?ms\b"
    r"|\bms (?:symptoms?|related)\b"
    r"|\b(?:\d+|a|an|one|two|three|few|a few|several|many|couple of|a couple of) "
    r"(?:weeks?|months?|years?|decades?) ago\b"
    r"|\blast (?:week|month|year|spring|summer|autumn|fall|winter)\b|\bin (?:19|20)\d\d\b"
    r"|\bhistory of\b|\bprevious(?:ly)?\b|\bin the past\b|\blast time\b|\bused to\b"
    r"|\bbefore\b(?!\s+(?:the|my|her|his|their|this|that|an?|it|she|he|i|we|they|you"
    r"|starting|getting|having|taking|each|every|its|is|was))"
    r"|\bas a (?:child|kid|teen|teenager)\b|\bon exertion\b|\bwhen i (?:walk|exercise)\b"
    r"|\bclimbing stairs\b|\bwalking up\b"
)
_OVERRIDE: Final = _c(
    r"\b(?:right now|now|currently|at the moment|as we speak|suddenly|sudden|all of a sudden"
    r"|just|mid[- ]?infusion|today|tonight|this (?:morning|afternoon|evening)|last night"
    r"|yesterday|(?:minutes?|hours?) ago"
    r"|(?:during|after|since) (?:the|her|his|my|their|this|todays|yesterdays|last nights) "
    r"(?:ivig |igg )?(?:infusion|drip)"
    r"|(?:is|are|am|im|shes|hes|theyre) (?:now |suddenly |currently )?"
    r"(?:having|getting|experiencing|complaining|going into))\b"
)

_NEGATION: Final = _c(
    r"\b(?:no|not|without|denies|denied|denying|never|nor|neither|dont|doesnt|didnt|isnt"
    r"|arent|wasnt|werent|hasnt|havent|hadnt|free of|absence of|negative for|ruled out)\b"
)
_NEGATION_NOISE: Final = _c(r"\b(?:not sure|dont know|do not know|no idea|not certain)\b")
_SCOPE_BREAK: Final = _c(r"\b(?:and|but|although|though|however|yet|plus)\b")
_NOT_SUICIDAL: Final = _c(r"\b(?:not|never|no longer|isnt|arent|wasnt)\s+$")

_WHAT_TO_DO: Final = _c(
    r"\bwhat (?:should|do|can|must) (?:i|we) do\b|\bwhat do i do\b|\bwhat to do\b"
    r"|\bis (?:this|that|it) an emergency\b"
    r"|\bshould (?:i|we) (?:call|ring|phone|dial) (?:911|999|112|an ambulance|emergency|for help)"
    r"|\bshould (?:i|we|she|he|they) go to (?:the )?(?:er|ed|a&e|a and e|hospital|emergency)\b"
    r"|\b(?:do|does) (?:i|we|she|he|they) need to go to (?:the )?(?:er|ed|hospital|a&e"
    r"|emergency)\b|\bhelp\s*!"
)

_SENTENCE_END = re.compile(r"[.?!;\n]")
_CLAUSE_BREAK = re.compile(r"[,:;.?!\n()]|\s-\s|\bbut\b")

_STANDALONE: Final = "standalone"
_PLAIN: Final = "plain"
_ACUTE_ONLY: Final = "acute"
_CONDITION: Final = "condition"


@dataclass(frozen=True)
class _Symptom:
    category: str
    kind: str
    pattern: re.Pattern[str]


def _symptoms(category: str, kind: str, patterns: Iterable[str]) -> list[_Symptom]:
    return [_Symptom(category, kind, _c(p)) for p in patterns]


_RED_FLAG_SYMPTOMS: Final[tuple[_Symptom, ...]] = tuple(
    # --- self-harm -----------------------------------------------------------
    _symptoms(
        "self_harm",
        _STANDALONE,
        [
            r"\bkill?(?:ing)?\s?" + _SELF + r"\b",
            r"\b(?:end(?:ing)?|take|taking|took) (?:my|his|her|their|your) (?:own )?life\b",
            r"\bend(?:ing)? it all\b",
            r"(?<!dont )(?<!do not )(?<!doesnt )(?<!does not )(?<!never )(?<!didnt )"
            r"\b(?:want|wants|wanted|wanting|wish|wishes|wished|planning|plan) to die\b"
            r"|\b(?:wanna|wan na|wantto) die\b",
            r"\b(?:dont|do not|doesnt|does not|no longer|cant|cannot) (?:really )?(?:want|wish"
            r"|feel like)(?: to)? (?:live|be alive|be here any ?more|exist|go on|wake up"
            r"|keep going|carry on|keep living)\b",
            r"\b(?:go on|carry on|keep going) (?:living|any ?more)\b",
            r"\bno (?:reason|point|will) (?:to|in) (?:live|living|go on|going on|carry on"
            r"|keep going|be alive|being alive)\b",
            r"\b(?:not|isnt|aint|no longer) worth (?:living|it any ?more|being alive)\b",
            r"\bbetter off (?:dead|without me|without him|without her|gone)\b",
            # Intent is always self-harm; a bare "hurt myself" is not when it is clearly an
            # accident ("I hurt myself falling yesterday").
            r"\b(?:want|wants|wanted|going|gonna|thinking about|thoughts of|urges? to|planning"
            r"|plan|tempted|feel like|keep|might|afraid i will|afraid ill) (?:to )?(?:hurt"
            r"|hurting|harm|harming|cut|cutting|injure|injuring|burn|burning)\s?" + _SELF + r"\b",
            r"(?<!accidentally )\b(?:hurt|hurting|harm|harming|cut|cutting|injure|injuring|burn"
            r"|burning)\s?" + _SELF + r"\b(?!\s+(?:falling|when|while|by accident|accidentally"
            r"|shaving|cooking|at work|during|playing|lifting|exercising|in (?:a|the) fall"
            r"|on (?!purpose)\w+))",
            r"\bwish (?:i|he|she|they) (?:was|were) dead\b",
            r"\b(?:want|going|gonna|planning) to (?:kms|unalive)\b|\bunalive\s?" + _SELF,
            r"\b(?:suicide|crisis) (?:hot ?line|lifeline|helpline|line)\b",
            r"\b(?:thinking (?:of|about)|going to|gonna|want to|wants to|planning to|plan to) "
            r"(?:take|taking|swallow|swallowing) (?:all|a lot of|too many|a bunch of|a handful of)"
            r" (?:of )?(?:my |her |his |their |the )?(?:pills|tablets|meds|medications?)\b"
            r"|\b(?:thinking (?:of|about)|going to|gonna|want to|wants to|planning to) overdos",
            # Stockpiling or planning to take medication all at once, without the word suicide.
            r"\b(?:saving|saved|stockpiling|stockpiled|hoarding|hoarded|collecting|collected"
            r"|keeping) (?:up )?(?:all )?(?:my |her |his |their |the )?(?:pills|tablets|meds"
            r"|medications?)\b",
            r"\b(?:take|taking|swallow|swallowing) (?:them|all of them|it all|the lot|all my"
            r" (?:pills|tablets|meds)) (?:all )?at once\b",
            r"\bwhats? the point (?:any ?more|of (?:living|going on|it all|anything)"
            r"|in (?:living|going on))\b|\bwhats? the point\W*$",
            r"\b(?:cant|cannot|can not) (?:go on|do this any ?more|take (?:it|this) any ?more)"
            r"(?!\s+(?:with|treatment|therapy|ivig|infusions?))",
            r"\b(?:want|wants|wanted|going|gonna|planning|plan) to end it\b"
            r"(?!\s+(?:with|early|soon|and (?:start|switch|try)))",
            r"\b(?:thinking|thought|thoughts|think|thinks) (?:about|of) (?:suicide|killing "
            r"(?:my|him|her|them)|ending (?:my|his|her|their|it)|self[- ]?harm|dying)\b"
            r"(?!\s*(?:risk|rates?|prevention|research|data|statistics))",
        ],
    )
    + _symptoms(
        "self_harm",
        _PLAIN,
        [
            r"\bsu?ii?cid(?:e|al)\b(?!\s*(?:risk|rates?|prevention|data|statistics))",
            r"\bself[- ]?harm(?:ing)?\b",
            r"\boverdosed\b|\btook an overdose\b",
            r"\btook (?:too many|all (?:of )?(?:my|her|his|their|the)|a (?:bunch|handful) of) "
            r"(?:pills|tablets|meds|medications?)\b",
        ],
    )
    # --- anaphylaxis ----------------------------------------------------------
    + _symptoms(
        "anaphylaxis",
        _STANDALONE,
        [
            r"\bthroat (?:is |feels |keeps |has )?(?:so |really |very |getting |starting to "
            r"(?:feel )?)?(?:closing|closed|tightening|swelling|swelled|swollen|tight"
            r"|constricting|closing up)\b",
        ],
    )
    + _symptoms(
        "anaphylaxis",
        _PLAIN,
        [
            r"\bthroat (?:is |feels |feel )(?:so |really |very )?(?:weird|funny|strange|itchy"
            r"|scratchy|thick|tight|narrow)\b",
        ],
    )
    + _symptoms(
        "anaphylaxis",
        _PLAIN,
        [
            r"\b(?:tongue|lips?|mouth|face|eyes?|eyelids?) (?:is |are |feels |feel |looks |look "
            r"|has |have |keeps |started |starting )?(?:getting |going |to )?(?:swelling|swollen"
            r"|swelled|puffing|puffy|puffed)(?: up)?\b",
            r"\bswollen (?:tongue|lips?|throat|face|mouth)\b",
            r"\b(?:tongue|lip|lips|throat|facial) swelling\b",
            r"\bswelling (?:of|in) " + _POSS + r" (?:tongue|lips?|throat|face|mouth)\b",
            r"\bhives (?:all over|everywhere|over " + _POSS + r" (?:whole |entire )?body)\b"
            r"|\b(?:covered|broke out|breaking out|broken out) in hives\b"
            r"|\b(?:whole|full)[- ]body hives\b",
            r"\b(?:use|used|using|give|gave|giving|need|needs|inject|injected)\s+(?:my |her |his "
            r"|their |an |the )?(?:epi ?pen|auvi-?q|adrenaline|epinephrine)\b",
        ],
    )
    + _symptoms(
        "anaphylaxis",
        _CONDITION,
        [
            r"\bana(?:ph|f)\w*" + _NOT_ABOUT_RISK,
            r"\b(?:severe |serious |bad |major )?allergic reaction\b" + _NOT_ABOUT_RISK,
        ],
    )
    + _symptoms(
        "anaphylaxis",
        _ACUTE_ONLY,
        [
            r"\b" + _CANT + r" swallow\b|\b(?:trouble|difficulty|hard|struggling|problems?) "
            r"(?:to )?swallow(?:ing)?\b"
        ],
    )
    # --- breathing ------------------------------------------------------------
    + _symptoms(
        "breathing",
        _STANDALONE,
        [
            r"\b"
            + _CANT
            + r" (?:really |properly |even )?(?:"
            + _BREATHE
            + r"|get (?:enough |any )?(?:air|breath|"
            + _BREATHE
            + r")|catch (?:my|her|his"
            r"|their|a) " + _BREATHE + r")\b",
            r"\b(?:not|stopped|isnt|wasnt|is not|has stopped) " + _BREATHE + r"\b",
            r"\b(?:can|could) (?:barely|hardly|only just|not really) " + _BREATHE + r"\b",
            r"\b(?:struggling|fighting|gasping) (?:to |for )?(?:" + _BREATHE + r"|air)\b",
            r"\b(?:turning|turned|going|gone|lips are|lips) blue\b",
        ],
    )
    + _symptoms(
        "breathing",
        _PLAIN,
        [
            r"\bshort(?:ness)? (?:of|o) " + _BREATHE + r"\b",
            r"\b(?:difficulty|difficulties|trouble|problems?|hard time|struggle|struggles"
            r"|issues?|labou?red|labou?ring) (?:with )?" + _BREATHE + r"\b",
            r"\b(?:hard|difficult|painful) to " + _BREATHE + r"\b",
            r"\bbreathless(?:ness)?\b",
            r"\bwheez\w*",
            r"\bstridor\b|\brespiratory distress\b|\bdyspn?o?ea\b|\bgasping\b|\bchoking\b",
            r"\b" + _BREATHE + r" (?:is |has become |became |got |getting )?(?:very |really "
            r"|so )?(?:hard|difficult|laboured|labored|fast|rapid|shallow|noisy|weird|strange"
            r"|heavy)\b",
            r"(?<=c/o )sob\b|\b(?:pt|patient) (?:is |now |very |getting )?sob\b"
            r"|\bsob (?:and|during|after|on|mid|since|with)\b",
            r"\b(?:o2 |oxygen |spo2 )?(?:sats?|saturations?|spo2|oxygen(?: levels?)?) (?:are |is "
            r"|has |have |keep |keeps )?(?:dropping|dropped|falling|fell|low|very low|crashing"
            r"|tanking|down)\b|\bdesat\w*",
        ],
    )
    + _symptoms("breathing", _ACUTE_ONLY, [r"\bout of " + _BREATHE + r"\b"])
    # --- chest pain -----------------------------------------------------------
    + _symptoms(
        "chest_pain",
        _STANDALONE,
        [
            r"\b" + _CHEST + r" (?:really |still |so |is |keeps |kind of |kinda )*(?:hurts"
            r"|hurting|feels (?:tight|heavy|like|weird|crushed|funny)|is (?:tight|heavy|burning"
            r"|aching|killing me|pounding)|killing me|aches|burns)\b",
        ],
    )
    + _symptoms(
        "chest_pain",
        _PLAIN,
        [
            r"\b" + _CHEST + r" (?:pains?|tightness|pressure|discomfort|heaviness|ache|aching"
            r"|squeezing|burning|tight|hurt)\b",
            r"\b(?:pain|pains|pressure|tightness|heaviness|discomfort|squeezing|ache|burning) "
            r"(?:in|on|across|around) " + _POSS + r" " + _CHEST + r"\b",
            r"\btight(?:ness in the)? " + _CHEST + r"\b",
            r"\b(?:crushing|squeezing) (?:pain|feeling|sensation)\b",
            r"(?<=c/o )cp\b",
        ],
    )
    + _symptoms(
        "chest_pain",
        _CONDITION,
        [r"\bheart attack\b" + _NOT_ABOUT_RISK, r"\bangina\b", r"\b(?:stemi|nstemi|an mi)\b"],
    )
    # --- stroke ---------------------------------------------------------------
    + _symptoms(
        "stroke",
        _STANDALONE,
        [
            r"\bworst headache (?:of|in) (?:my|her|his|their|your) (?:life|lives)\b"
            r"|\bworst headache (?:ive|shes|hes|theyve|i have|she has|he has|they have) ever "
            r"(?:had|felt)\b",
            r"\b(?:my|her|his|their) (?:face|mouth|smile) (?:is |has |looks |seems |just "
            r"|suddenly )*(?:drooping|droopy|drooped|sagging|lopsided|crooked|dropping"
            r"|dropped|fallen)\b",
        ],
    )
    + _symptoms(
        "stroke",
        _PLAIN,
        [
            r"\b(?:face|mouth|lip) (?:is |feels |went |has gone )?(?:numb|weak|droopy|drooping"
            r"|drooped) (?:on|down) (?:one|the (?:left|right)|(?:my|her|his|their) (?:left"
            r"|right)) side\b",
            r"\b(?:face|mouth|smile|lip|eyelid) (?:is |has |looks |seems |went |started "
            r"|starting |to )*(?:drooping|droopy|drooped|droops|sagging|lopsided|crooked)\b",
            r"\b(?:drooping|droopy|sagging) (?:face|mouth|smile|eyelid|lip)\b|\bfacial droop\w*",
            r"\b(?:one|left|right) side of " + _POSS + r" (?:face|mouth) (?:is |has |went "
            r"|feels |looks )*(?:drooping|droopy|drooped|numb|weak|sagging|fallen"
            r"|paraly[sz]ed)\b",
            r"\b(?:slurred|slurring|garbled|jumbled) (?:speech|words|talking)\b"
            r"|\bspeech (?:is |sounds |became |has become |went |is getting )?(?:slurred"
            r"|garbled|jumbled|strange|weird)\b|\bslurring\b",
            r"\b" + _CANT + r" (?:speak|talk|get (?:her|his|my|their|the) words out"
            r"|form words)\b(?!\s+(?:to|about|for|with|english|french|spanish))"
            r"|\btalking (?:funny|strange|gibberish|nonsense)\b",
            r"\b(?:thunderclap headache|sudden(?:ly)? (?:severe |bad |terrible |excruciating "
            r"|awful |splitting )?headache|(?:severe|terrible|excruciating|awful|really bad"
            r"|horrible|splitting) headache (?:came on )?(?:suddenly|out of nowhere"
            r"|all of a sudden))\b",
            r"\bsudden(?:ly)? (?:onset (?:of )?)?(?:\w+ ){0,2}?(?:weakness|numbness|paralysis"
            r"|weak|numb|paraly[sz]ed|confus\w*|blind\w*|vision loss|loss of vision|lost "
            r"(?:my |her |his |their )?vision|" + _CANT + r" (?:see|speak|talk|move))\b",
        ],
    )
    + _symptoms(
        "stroke",
        _ACUTE_ONLY,
        [
            r"\b(?:arm|leg|hand|facial|face) (?:weakness|numbness|paralysis)\b",
            r"\b(?:weakness|numbness|paralysis) in (?:my|her|his|their|one|the) (?:left |right )?"
            r"(?:arm|hand|leg|face)\b",
            r"\b(?:numb|weak|paraly[sz]ed|drooping|droopy|limp) (?:on|down) (?:one|the (?:left"
            r"|right)|(?:my|her|his|their) (?:left|right)) side\b",
            r"\b(?:one|left|right) side (?:of " + _POSS + r" (?:body|face) )?(?:is |has |went "
            r"|feels |has gone |suddenly |just )*(?:weak|numb|paraly[sz]ed|dead|limp|heavy"
            r"|drooping)\b",
            r"\b(?:weakness|numbness|paralysis|tingling) (?:on|in|of) (?:one|the (?:left|right)"
            r"|(?:my|her|his|their) (?:left|right)|one side|(?:my|her|his|their) (?:whole )?side)",
            r"\b(?:my|her|his|their|the|left|right|one) (?:left |right )?(?:arm|leg|hand|foot) "
            r"(?:is |has |went |feels |has gone |just went |suddenly |just )*(?:weak|numb|limp"
            r"|dead|heavy|paraly[sz]ed|floppy|useless)\b",
            r"\b" + _CANT + r" (?:move|lift|feel) (?:my|her|his|their) (?:left |right )?"
            r"(?:arm|leg|hand|side)\b",
            r"\b(?:lost|losing|loss of) (?:the |my |her |his |their )?(?:vision|sight|eyesight)\b"
            r"|\b(?:went|gone|going) blind\b"
            r"|\b" + _CANT + r" see\b(?!\s+(?:how|why|what|the point|any|a difference|results"
            r"|improvement|the benefit|a change|that|it|this|where|whether|if))"
            r"|\bvision (?:went|has gone|is going|is|suddenly) (?:black|dark|dim|blurry|out|grey"
            r"|gray)\b|\bsudden(?:ly)? (?:blind|blurr?(?:ed|y) vision|double vision)\b",
            r"\b(?:suddenly |very |really |acutely )?(?:confused|disoriented|disorientated"
            r"|not making sense|making no sense|not herself|not himself)\b(?!\s+(?:about|by|with"
            r"|as to|regarding|over|why|what|how|whether|if|on|at))",
        ],
    )
    + _symptoms(
        "stroke",
        _CONDITION,
        [
            r"\b(?:a|an|another|the) (?:stroke|tia|mini[- ]?stroke|brain bleed|bleed on the "
            r"brain)\b" + _NOT_ABOUT_RISK,
            r"\bstroke[- ]?like symptoms\b|\bstroke (?:symptoms|signs)\b",
        ],
    )
    # --- meningitis (the headache + neck/fever/light combination is handled apart) --
    + _symptoms(
        "meningitis",
        _CONDITION,
        [r"\b(?:aseptic |viral |bacterial )?meningitis\b" + _NOT_ABOUT_RISK],
    )
    # --- thrombosis -----------------------------------------------------------
    + _symptoms(
        "thrombosis",
        _PLAIN,
        [
            r"\b(?:swollen|swelling|puffy) (?:and (?:red|painful|tender|hot|warm|sore) )?"
            r"(?:(?:left|right|one) )?(?:calf|leg|thigh)\b",
            r"\b(?:calf|leg|thigh) (?:is |are |feels |looks |has |got |has gotten |became "
            r"|went |been |getting )*(?:very |really |all |so )?(?:swollen|swelling|swelled"
            r"|puffy|puffed up)\b",
            r"\bswelling (?:in|of) (?:my|her|his|their|the|one) (?:(?:left|right) )?"
            r"(?:calf|leg|thigh)\b",
            r"\b(?:calf|leg|thigh)\b[^.?!;\n]{0,25}\b(?:its|is|and) (?:all |very |really )?"
            r"(?:swollen|swelling|puffy)\b",
            r"\bcough(?:ing|ed|s)? (?:up )?blood\b|\bh(?:a)?emoptysis\b"
            r"|\bblood when (?:i|she|he|they) cough",
        ],
    )
    + _symptoms(
        "thrombosis",
        _ACUTE_ONLY,
        [
            r"\b(?:painful|tender|sore|hot|red|warm) (?:and (?:swollen|red|hot|tender|painful) )?"
            r"(?:(?:left|right) )?calf\b",
            r"\bcalf (?:is |feels |keeps )*(?:really |very |so )?(?:painful|tender|sore|hurts"
            r"|hurting|red|hot|warm|aching)\b",
            r"\bpain in (?:my|her|his|their|the|one) (?:(?:left|right) )?calf\b",
        ],
    )
    + _symptoms(
        "thrombosis",
        _CONDITION,
        [
            r"\b(?:a |another )?blood clots?\b" + _NOT_ABOUT_RISK,
            r"\b(?:dvt|deep vein thrombosis|pulmonary embol\w*|thrombo(?:sis|embolism))\b"
            + _NOT_ABOUT_RISK,
            r"\bclot in " + _POSS + r" (?:leg|lung|lungs|calf|arm)\b",
        ],
    )
    # --- kidney ---------------------------------------------------------------
    + _symptoms(
        "kidney",
        _PLAIN,
        [
            r"\b(?:no|not|barely|hardly|very little|little|not much|not any|scant|no more) "
            r"(?:any )?(?:urine|pee|wee)\b",
            r"\b(?:havent|hasnt|have not|has not|not|cant|cannot|can not|unable to|barely|hardly"
            r"|didnt|did not|couldnt|could not|not been able to|havent been able to"
            r"|hasnt been able to) (?:really )?(?:peed|pee|peeing|urinated|urinate|urinating"
            r"|pass(?:ed|ing)? (?:any |much )?(?:urine|water)|made (?:any |much )?urine|wee"
            r"|weed|gone to the (?:toilet|bathroom|loo)|been to the (?:toilet|bathroom|loo))\b",
            r"\bstopped (?:peeing|urinating|making urine|producing urine|passing urine)\b",
            r"\b(?:urine|pee) output (?:is |has )?(?:dropped|very low|low|minimal|zero|nil"
            r"|stopped|decreased|down)\b",
            r"\b(?:anuri|oliguri)\w*",
        ],
    )
    + _symptoms(
        "kidney",
        _CONDITION,
        [
            r"\b(?:kidney|renal) failure\b|\bkidneys? (?:are |is )?(?:failing|shutting down"
            r"|shut down|stopped working)\b|\bacute kidney injury\b|\baki\b",
        ],
    )
    # --- seizure --------------------------------------------------------------
    + _symptoms(
        "seizure",
        _PLAIN,
        [
            r"\bs(?:ei|ie)zing\b|\bconvulsing\b",
            r"\b(?:is|shes|hes|im|theyre|started|keeps) (?:fitting|jerking and shaking)\b",
            r"\bhaving (?:a |another )?fit\b",
        ],
    )
    + _symptoms(
        "seizure",
        _CONDITION,
        [
            r"\b(?:a |another )?(?:s(?:ei|ie)zures?|convulsions?|epileptic fit|grand mal"
            r"|tonic[- ]clonic)\b" + _NOT_ABOUT_RISK,
        ],
    )
    # --- collapse, loss of consciousness, shock -------------------------------
    + _symptoms(
        "other_emergency",
        _STANDALONE,
        [
            r"\b(?:wont|will not|isnt|is not|not) wak(?:e|ing) up\b",
            r"\b(?:i think|i feel like|feels like|it feels like) (?:im|i am|shes|hes|she is|he is"
            r"|they are|theyre) dying\b",
            r"\b" + _CANT + r" (?:wake|rouse) (?:her|him|them|my \w+|the patient)(?: up)?\b",
            r"(?<!when )(?<!if )\bshould (?:i|we) (?:call|ring|phone|dial) (?:911|999|112"
            r"|an ambulance|emergency services)\b",
        ],
    )
    + _symptoms(
        "other_emergency",
        _PLAIN,
        [
            r"\bunresponsive\b|\bunconscious\b|\b(?:lost|losing|loss of) consciousness\b",
            r"\b(?:passed|passing|pass) out\b|\b(?:fainted|fainting)\b"
            r"|\b(?:feel|feels|feeling|felt|going to|gonna|about to) (?:very |really |so )?faint\b",
            r"\bcollaps(?:ed|ing|es)\b|\bblack(?:ed|ing) out\b|\b(?:went|is|gone) limp\b"
            r"|\bnot responding\b(?! to)",
            r"\b(?:bp|blood pressure) (?:is |has |keeps )?(?:dropping|dropped|crashing|crashed"
            r"|tanking|plummeting|falling|fell|very low|really low|bottoming out)\b"
            r"|\bhypotensi(?:ve|on)\b",
            r"\bcall(?:ed|ing)? (?:911|999|112|an ambulance)\b",
        ],
    )
    + _symptoms("other_emergency", _CONDITION, [r"\b(?:in|into) shock\b"])
)

# Aseptic meningitis is a *combination*: two of headache / stiff neck / fever /
# light sensitivity (at least one of them headache or stiff neck).
_MENINGISM_MARKERS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    (
        "headache",
        _c(
            r"\b(?:headaches?|head aches?|migraines?|head (?:is |really |so )*(?:pounding|killing"
            r"|splitting|hurts|hurting|throbbing))\b"
        ),
    ),
    (
        "neck",
        _c(
            r"\b(?:stiff neck|neck (?:is |feels |has gone |went |really |very |so )*(?:stiff"
            r"|rigid)|neck stiffness|" + _CANT + r" (?:bend|move|turn) " + _POSS + r" (?:neck"
            r"|head)|" + _CANT + r" touch " + _POSS + r" chin)\b"
        ),
    ),
    ("fever", _c(r"\b(?:fever|feverish|febrile|high temperature|temp of|pyrexia|burning up)\b")),
    (
        "light",
        _c(
            r"\b(?:light (?:hurts|sensitivity|sensitive|is hurting|bothers)|sensitiv(?:e|ity) to "
            r"(?:the )?light|photophobi\w*|" + _CANT + r" (?:stand|bear|tolerate) (?:the )?light)\b"
        ),
    ),
)
_MENINGISM_NECK: Final = _MENINGISM_MARKERS[1][1]

_ANAPHYLAXIS_CONTEXT: Final = _c(
    r"\b(?:hives|rash|itch\w*|allergic|anaph\w*|welts|flushed all over)\b"
    r"|\b(?:lips?|tongue|throat|face|mouth|eyes?)\b[^.?!\n]{0,20}\b(?:swell\w*|swollen|puff\w*)\b"
    r"|\b(?:swell\w*|swollen|puffy)\b (?:lips?|tongue|throat|face|mouth|eyes?)\b"
)

# First match wins among categories, after the refinements in _pick_category.
_CATEGORY_PRIORITY: Final[tuple[str, ...]] = (
    "self_harm",
    "anaphylaxis",
    "breathing",
    "chest_pain",
    "meningitis",
    "stroke",
    "seizure",
    "thrombosis",
    "kidney",
    "other_emergency",
)


@dataclass(frozen=True)
class _Context:
    window: str  # up to 8 words before the match, same clause
    sentence: str
    match_text: str
    after: str  # up to 4 words after the match, same clause
    sentence_prefix: str  # the sentence up to the match


_MAX_SENTENCE: Final = 600  # characters of context looked at on each side of a match
_MAX_EVIDENCE: Final = 200


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
        window, text[sent_start:sent_end], text[start:end], " ".join(after), text[sent_start:start]
    )


_BARE_REPORT_WORDS: Final = 8
_QUESTION_START: Final = _c(
    r"\s*(?:do|does|did|can|could|is|are|was|were|will|would|should|might|may|how|what|whats"
    r"|why|which|when|who)\b"
)
_QUERY_WORDS: Final = _c(
    r"\b(?:what|whats|how|why|when|which|who|does|do|did|is|are|was|were|can|could|would"
    r"|should|will|tell me|about|explain|info|information|summar\w*|show|list|define"
    r"|definition|meaning|with|vs|versus|ivig|igg|immunoglobulins?|ms|multiple sclerosis)\b"
)


def _is_bare_report(text: str) -> bool:
    return (
        "?" not in text
        and len(text.split()) <= _BARE_REPORT_WORDS
        and not _GENERIC.search(text)
        and not _HYPO.search(text)
        and not _QUERY_WORDS.search(text)
    )


def _negated(window: str) -> bool:
    cleaned = _NEGATION_NOISE.sub(" ", window)
    scope = _SCOPE_BREAK.split(cleaned)[-1]
    return bool(_NEGATION.search(" ".join(scope.split()[-5:])))


def _is_urgent(text: str, start: int, end: int, symptom: _Symptom) -> bool:
    ctx = _context(text, start, end)
    if symptom.category == "self_harm":
        # "I'm not suicidal" is the one negation honoured for self-harm.
        if _NOT_SUICIDAL.search(ctx.window) and "suicid" in ctx.match_text:
            return False
    elif _dismissed(text, start, end):
        return False
    if symptom.kind == _STANDALONE:
        # A quoted phrase in a question about wording ('What does "worst headache of my
        # life" mean?') is a mention, not an event. Self-harm is never dismissed.
        quoted = text[start - 1 : start] == '"' and text[end : end + 1] == '"'
        return symptom.category == "self_harm" or not (quoted and _HYPO.search(ctx.sentence))

    hypo = bool(_HYPO.search(_HYPO_EXEMPT.sub(" ", ctx.window)))
    generic = bool(_GENERIC.search(ctx.sentence))
    acute = bool(_ACUTE.search(ctx.sentence) or _ACUTE_IN_MATCH.search(ctx.match_text))
    strong_event = bool(_STRONG_EVENT.search(ctx.window))
    weak_event = bool(_WEAK_EVENT.search(ctx.window))
    person = bool(_PERSON.search(ctx.window) or _PERSON.search(ctx.match_text + " " + ctx.after))
    # A subject earlier in the sentence ("Patient developed rigors, hypotension and wheeze")
    # counts too, but only in a sentence that is not a general question.
    far_cue = symptom.kind != _CONDITION and bool(
        _PERSON.search(ctx.sentence_prefix)
        or _STRONG_EVENT.search(ctx.sentence_prefix)
        or _WEAK_EVENT.search(ctx.sentence_prefix)
    )
    asks_what_to_do = bool(_WHAT_TO_DO.search(text)) and not _CONDITIONAL.search(ctx.sentence)

    if symptom.kind == _ACUTE_ONLY and not acute:
        return False
    # A short statement with no question or hedging ("coughing blood", "slurred speech and
    # face drooping") is read as a report, not a search.
    if symptom.kind == _PLAIN and _is_bare_report(text):
        return True
    if symptom.kind == _CONDITION:
        # "my mum has kidney failure, can she take IVIG?" is background, not an event.
        informational = _GENERIC.search(text) or _ELIGIBILITY.search(text)
        cue = strong_event or (person and not informational)
    else:
        cue = person or strong_event
    if cue and not hypo:
        return True
    # Without a subject next to the symptom, a sentence shaped like a question ("Do
    # headaches and fever after IVIG mean ...?") is read as a general question.
    question = bool(_QUESTION_START.match(ctx.sentence))
    if (acute or weak_event or far_cue) and not (generic or question or hypo):
        return True
    return asks_what_to_do and not generic


def _meningism(text: str) -> tuple[int, int] | None:
    """Span covering a headache/neck/fever/light combination described as an event."""
    hits: dict[str, list[re.Match[str]]] = {}
    for name, pattern in _MENINGISM_MARKERS:
        found = [m for m in pattern.finditer(text) if not _dismissed(text, m.start(), m.end())]
        if found:
            hits[name] = found
    kinds = set(hits)
    if len(kinds) < 2 or not kinds & {"headache", "neck"}:
        return None
    marker = _Symptom("meningitis", _PLAIN, _MENINGISM_NECK)
    matches = sorted((m for found in hits.values() for m in found), key=lambda m: m.start())
    whole_message_acute = bool(_ACUTE.search(text)) and not (
        _GENERIC.search(text) or _HYPO.search(text) or _QUESTION_START.match(text)
    )
    if not whole_message_acute and not any(
        _is_urgent(text, m.start(), m.end(), marker) for m in matches
    ):
        return None
    start, end = matches[0].start(), matches[-1].end()
    if end - start > _MAX_EVIDENCE:
        return matches[0].start(), matches[0].end()
    return start, end


def _dismissed(text: str, start: int, end: int) -> bool:
    """Negated ("no fever") or chronic/past background ("headaches for years")."""
    ctx = _context(text, start, end)
    background = _BACKGROUND.search(ctx.sentence) and not _OVERRIDE.search(ctx.sentence)
    return bool(background) or _negated(ctx.window)


def _pick_category(hits: dict[str, tuple[int, int]], text: str) -> str:
    cats = set(hits)
    if "self_harm" in cats:
        return "self_harm"
    if "anaphylaxis" in cats:
        return "anaphylaxis"
    if "thrombosis" in cats and cats & {"breathing", "chest_pain"}:
        return "thrombosis"
    if "breathing" in cats and _ANAPHYLAXIS_CONTEXT.search(text):
        return "anaphylaxis"
    # Little urine, swollen legs and confusion after an infusion: kidney injury explains all
    # three; stroke guidance would send the reader the wrong way.
    if (
        {"kidney", "stroke"} <= cats
        and not cats & {"breathing", "chest_pain"}
        and not re.search(r"\b(?:face|arm|speech|slurr|droop)", text)
    ):
        return "kidney"
    for category in _CATEGORY_PRIORITY:
        if category in cats:
            return category
    raise AssertionError("unreachable: no category")  # pragma: no cover


def detect_red_flag(message: str) -> RedFlag | None:
    """Return a :class:`RedFlag` if ``message`` describes a current or
    just-happened emergency (or thoughts of suicide/self-harm), else ``None``.

    General information questions ("What is the risk of stroke with IVIG?") and
    chronic MS symptoms ("numbness in my legs for years") return ``None``.
    """
    norm = _normalize(message)
    text = norm.text
    if not text:
        return None
    hits: dict[str, tuple[int, int]] = {}
    for symptom in _RED_FLAG_SYMPTOMS:
        for found in symptom.pattern.finditer(text):
            if _is_urgent(text, found.start(), found.end(), symptom):
                span = (found.start(), found.end())
                previous = hits.get(symptom.category)
                if previous is None or span[0] < previous[0]:
                    hits[symptom.category] = span
                break
    meningism = _meningism(text)
    if meningism is not None:
        hits["meningitis"] = meningism
        # A "worst headache" that comes with meningism is reported as meningitis.
        stroke = hits.get("stroke")
        if stroke is not None and "headache" in text[stroke[0] : stroke[1]]:
            del hits["stroke"]
    if not hits:
        return None
    category = _pick_category(hits, text)
    if category == "anaphylaxis" and "anaphylaxis" not in hits:
        start, end = hits["breathing"]
    else:
        start, end = hits[category]
    return RedFlag(category=category, evidence=norm.original(start, end))


# ---------------------------------------------------------------------------
# Emergency guidance
# ---------------------------------------------------------------------------

_NUMBERS_PATIENT: Final = (
    "your local emergency number (for example **911** in the US, **112** in the EU or "
    "**999** in the UK)"
)
_NUMBERS_CLINICIAN: Final = (
    "the local emergency number (e.g. 911 in the US, 112 in the EU, 999 in the UK)"
)

_PATIENT_HEADLINE: Final[dict[str, str]] = {
    "anaphylaxis": "This could be a severe allergic reaction (anaphylaxis), which is an emergency.",
    "breathing": "Trouble breathing can be an emergency.",
    "chest_pain": "Chest pain can be an emergency.",
    "stroke": "These can be signs of a stroke, which is an emergency.",
    "meningitis": (
        "A severe headache with a stiff neck, fever or sensitivity to light needs urgent "
        "medical care."
    ),
    "thrombosis": "These can be signs of a blood clot, which needs emergency care.",
    "kidney": "Passing very little or no urine after an infusion needs urgent medical care.",
    "seizure": "A seizure needs urgent help.",
    "other_emergency": "This could be an emergency.",
}

_PATIENT_TIP: Final[dict[str, str]] = {
    "anaphylaxis": (
        "If the person has their own adrenaline (epinephrine) auto-injector, use it the way "
        "they were shown."
    ),
    "breathing": "Help them sit upright, loosen tight clothing and stay calm with them.",
    "chest_pain": "Stop what you are doing, sit down and rest while you wait for help.",
    "stroke": "Note the time the symptoms started; the emergency team will ask for it.",
    "meningitis": "Do not drive yourself; ask someone to stay with you.",
    "thrombosis": "Sit or lie still while you wait for help.",
    "kidney": "If you feel very unwell, do not wait for a routine appointment.",
    "seizure": (
        "Do not hold them down or put anything in their mouth. Move hard objects away, time "
        "the seizure and, once the jerking stops, turn them onto their side."
    ),
    "other_emergency": (
        "If they are unresponsive or not breathing normally, tell the call handler; they will "
        "guide you, including CPR if needed."
    ),
}

_CLINICIAN_LABEL: Final[dict[str, str]] = {
    "anaphylaxis": "suspected anaphylaxis",
    "breathing": "respiratory compromise",
    "chest_pain": "chest pain",
    "stroke": "possible stroke",
    "meningitis": "possible aseptic meningitis",
    "thrombosis": "possible thromboembolism",
    "kidney": "possible acute kidney injury",
    "seizure": "seizure",
    "other_emergency": "collapse or altered consciousness",
}

_CLINICIAN_TIP: Final[dict[str, str]] = {
    "anaphylaxis": "Manage as anaphylaxis according to your institution's anaphylaxis protocol.",
    "breathing": "Monitor oxygen saturation and escalate according to your protocol.",
    "chest_pain": "Follow your institution's chest pain pathway.",
    "stroke": "Record the time last known well and activate your stroke pathway.",
    "meningitis": "Arrange urgent medical assessment according to your protocol.",
    "thrombosis": "Assess for thromboembolism according to your institution's protocol.",
    "kidney": "Arrange urgent assessment of fluid status and renal function per protocol.",
    "seizure": "Protect from injury, time the seizure and follow your seizure protocol.",
    "other_emergency": (
        "Check responsiveness and breathing; start CPR if indicated and follow your "
        "resuscitation protocol."
    ),
}


def _self_harm_guidance(audience: Audience) -> str:
    if audience == "clinician":
        return (
            "**Take this seriously and act now.** If your patient, or anyone, is at immediate "
            "risk of harming themselves, do not leave them alone, remove access to means where it "
            "is safe to do so, and call emergency services on " + _NUMBERS_CLINICIAN + " or "
            "follow your institution's suicide-risk / crisis protocol.\n\n"
            "In the US, the **988 Suicide & Crisis Lifeline** (call or text **988**) offers "
            "24/7 crisis support; elsewhere, use your local crisis line or emergency number. "
            "If you are the one having these thoughts, please call or text 988 (US) or your "
            "local crisis line now.\n\n"
            "This chatbot cannot assess risk or provide crisis care."
        )
    return (
        "**I'm really sorry you're going through this. You deserve support right now, and you "
        "don't have to face it alone.**\n\n"
        "If you, or the person you are worried about, might act on these thoughts or are in "
        "immediate danger, call emergency services now on " + _NUMBERS_PATIENT + ".\n\n"
        "You can also reach a crisis line right now: in the US, call or text **988** (the 988 "
        "Suicide & Crisis Lifeline). Elsewhere, contact your local crisis line or emergency "
        "number. If you can, reach out to someone you trust and stay with them.\n\n"
        "This chatbot cannot provide crisis support, but the people at these services can, at "
        "any time of day or night."
    )


def urgent_guidance(flag: RedFlag, audience: Audience) -> str:
    """Markdown emergency guidance to show *first* in the answer for ``flag``."""
    category = flag.category if flag.category in _PATIENT_HEADLINE else "other_emergency"
    if flag.category == "self_harm":
        return _self_harm_guidance(audience)
    if audience == "clinician":
        return (
            f"**Possible emergency ({_CLINICIAN_LABEL[category]}): stop the infusion now if it "
            "is running and follow your institution's emergency protocol.**\n\n"
            "- Assess airway, breathing and circulation and call for help: your rapid-response "
            "or resuscitation team, or emergency services on " + _NUMBERS_CLINICIAN + " "
            "outside hospital.\n"
            f"- {_CLINICIAN_TIP[category]}\n"
            "- Do not wait for this chatbot: it summarises published evidence and cannot "
            "assess a patient."
        )
    return (
        f"**{_PATIENT_HEADLINE[category]} Call emergency services now** on "
        + _NUMBERS_PATIENT
        + ". Do not wait for this chatbot.\n\n"
        "- If an IVIG infusion is running, stop it or ask the nurse to stop it straight away.\n"
        f"- {_PATIENT_TIP[category]}\n"
        "- Tell the emergency team about the IVIG treatment, and stay with the person until "
        "help arrives.\n\n"
        "This chatbot cannot check symptoms or give emergency care."
    )


# ---------------------------------------------------------------------------
# Manipulation
# ---------------------------------------------------------------------------

_DISCLAIMER_NOUN = (
    r"(?:disclaimers?|safety (?:notes?|notices?|messages?|text|warnings?|info(?:rmation)?"
    r"|blurbs?|banners?)|(?:medical|legal) (?:notices?|boilerplate)|boilerplate|fine print"
    r"|(?:see|consult|talk to|ask) (?:a|your) doctor (?:line|bit|part|stuff|note|message))"
)
_REMOVE_VERB = (
    r"(?:without|minus|sans|no|skip|skipping|omit|omitting|drop|dropping|remove|removing"
    r"|leave out|leaving out|exclude|excluding|get rid of|cut|cut out|ditch|lose|strip"
    r"|strip out|suppress|hide|disable|turn off|switch off|ignore|disregard|forget|forget about"
    r"|stop (?:adding|including|giving|showing|putting|with|using)"
    r"|(?:dont|do not|never|stop) (?:include|add|give|show|put|attach|append|use|bother with"
    r"|bother including|need|want|mention|say))"
)
_FILLER = r"(?:(?:the|a|an|any|all|your|those|these|that|this|of|usual|standard|annoying|stupid"
_FILLER += r"|legal|medical|boring|extra|long|safety|usual|pesky|whole)\s+){0,4}"

_DISCLAIMER_PATTERNS: tuple[re.Pattern[str], ...] = (
    _c(r"\b" + _REMOVE_VERB + r"\s+" + _FILLER + _DISCLAIMER_NOUN + r"\b"),
    _c(r"\b" + _DISCLAIMER_NOUN + r"[- ]free\b|\bno " + _DISCLAIMER_NOUN + r"\b"),
    _c(
        r"\bpretend (?:that )?(?:the |there is no |theres no |there are no |you have no )?"
        + _DISCLAIMER_NOUN
        + r"\b|\bno more (?:warnings?|caveats?)\b(?!\s*(?:about|on|for|from|signs?))"
    ),
    _c(
        r"\b(?:skip|skipping|omit|omitting|drop|dropping|remove|removing|leave out|leaving out"
        r"|exclude|get rid of|cut out|ditch|strip|suppress|hide|disable|turn off"
        r"|stop (?:adding|including|giving|showing|putting)"
        r"|(?:dont|do not|never|stop) (?:include|add|give|show|put|attach|append|bother with))"
        r"\s+(?:(?:the|any|all|your|those|these|that|this|of|usual|standard|annoying|safety)\s+)"
        r"{1,3}(?:warnings?|caveats?)\b(?!\s*(?:signs?|symptoms?|labels?|letters?|about|on|for"
        r"|that|from))"
    ),
    _c(
        r"\b(?:answer|respond|reply|tell me|explain|write|say it|give (?:it to )?me|just tell"
        r"|talk)\b[^.?!\n]{0,40}\bwithout (?:(?:the|any|all|your|those|of)\s+){0,3}(?:warnings?"
        r"|caveats?|hedging|disclaimers?)\b"
    ),
)

# "Leave out the citations and warnings": removing any of the answer's safeguards.
_SAFEGUARD_REMOVAL: Final = _c(
    r"\b(?:leave out|leaving out|omit|omitting|drop|remove|skip|strip(?: out)?|without|no)\s+"
    r"(?:(?:the|any|all|your|its)\s+)?(?:(?:citations?|references?|sources?|warnings?"
    r"|caveats?|disclaimers?)\s*(?:,|and|or)\s*)+(?:the\s+)?(?:warnings?|caveats?|disclaimers?"
    r"|safety (?:notes?|info))\b"
)
_DISCLAIMER_PATTERNS = (*_DISCLAIMER_PATTERNS, _SAFEGUARD_REMOVAL)

_PROMPT_NOUN = (
    r"(?:prompts?|instructions?|rules|directives|configuration|config|system message"
    r"|programming|guardrails|constraints|preamble|initial message)"
)
_PROMPT_PATTERNS: Final[tuple[re.Pattern[str], ...]] = (
    _c(
        r"\b(?:reveal|show|print|repeat|display|output|share|leak|dump|list|recite|echo|paste"
        r"|copy|expose|disclose|give|tell|send|write out|spell out|read|translate|summari[sz]e"
        r"|paraphrase|rewrite|encode|quote)\b(?:\s+\S+){0,4}?\s+"
        r"(?:your|the system|the hidden|the initial|the original|the developer|the secret"
        r"|the internal|the underlying)\s+(?:\S+\s+){0,2}?" + _PROMPT_NOUN + r"\b"
    ),
    _c(
        r"\bwhat (?:is|are|was|were|s) your (?:\S+ ){0,2}?" + _PROMPT_NOUN + r"\b"
        r"|\bwhats your (?:\S+ ){0,2}?" + _PROMPT_NOUN + r"\b"
        r"|\bwhat (?:is|s|was) the (?:system|hidden|initial|original|developer|secret) "
        r"(?:prompt|message|instructions)\b|\bwhats the (?:system|hidden|initial|original"
        r"|developer) (?:prompt|message|instructions)\b"
    ),
    _c(
        r"\bwhat (?:were|have) you been (?:told|instructed|programmed|prompted)\b"
        r"|\bwhat were you (?:told|instructed|programmed|prompted)\b"
        r"|\bwhat (?:did|do) (?:they|your (?:developers|creators|makers|operators|owners)"
        r"|the developers|someone) (?:tell|instruct|program|prompt) you\b"
        r"|\bhow (?:were|are) you (?:programmed|instructed|prompted|configured)\b"
        r"|\b(?:system|initial|hidden|developer|original|secret) prompt\b(?![-\w])"
        r"|\byour (?:system|hidden|initial|original|secret|internal|developer) (?:\w+ )?"
        r"(?:message|messages|instructions|rules|prompt)\b"
        r"|\bwhat (?:rules|instructions|prompts?|guidelines|directives) (?:were|have|did) you "
        r"(?:been )?(?:given|told|trained|programmed|get|receive)\b"
    ),
    _c(
        r"\b(?:repeat|print|show|output|reveal|display|copy|echo)\s+(?:me\s+)?(?:everything"
        r"|all|the (?:text|words|content|message|messages)|what(?:ever)? (?:is|was|came|comes)"
        r"|the conversation)\s+(?:(?:written|that (?:is|was)|you were given|you received)\s+)?"
        r"(?:above|before (?:this|my)|prior to|so far|at the (?:start|beginning)"
        r"|from the (?:start|beginning))"
    ),
)

_OVERRIDE_OBJECT = (
    r"(?:instructions?|prompts?|rules|guidelines|directions|directives|constraints|restrictions"
    r"|guardrails|programming|training|context|messages?|commands?|settings|policies|policy"
    r"|guidance)"
)
_OVERRIDE_PATTERNS: tuple[re.Pattern[str], ...] = (
    _c(
        r"\b(?:ignore|disregard|forget|override|bypass|abandon|discard|neglect|dismiss|delete"
        r"|erase|reset|clear)\s+(?:about\s+)?(?:(?:all|any|every|each|of|the|your|my|these|those"
        r"|that|this)\s+){0,3}(?:(?:previous|prior|above|earlier|preceding|former|original"
        r"|initial|system|existing|current|safety|old|other|given|default|built-in|developer"
        r"|preset)\s+){1,2}" + _OVERRIDE_OBJECT + r"\b"
    ),
    _c(
        r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|every)\s+(?:of\s+)?)?"
        r"(?:your|all)\s+(?:instructions?|prompts?|rules|guidelines|programming|training"
        r"|restrictions|guardrails|constraints|policies)\b"
    ),
    _c(r"\bforget (?:everything|all) (?:you(?:ve| have| were)?|above|before|so far|previous)"),
    _c(
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:of\s+)?(?:the\s+"
        r"|what(?:s| is| was)?\s+)?(?:above|preceding|previous|prior|earlier)\b"
        r"(?![- ]?(?:mentioned|listed|side|symptoms?|results?|findings?|values?|data|tables?"
        r"|figures?|doses?|infusions?|reactions?|headaches?))"
    ),
    _c(
        r"\byou(?: are|re) now (?!(?:a |an |the )?(?:patient|candidate|eligible|ready|able|free to"
        r"|due|on|off|in remission|taking|receiving|being))(?:a|an|my|the|dan|no longer|free of"
        r"|unrestricted|unfiltered|uncensored|jailbroken|evil|in (?:developer|dev|god|admin|debug"
        r"|unrestricted|dan|jailbreak)|acting|playing|operating|called|named|known as|going to"
        r" (?:act|respond|answer|ignore|pretend))\b"
        r"|\b(?:game|scenario|story|roleplay) (?:where|in which) you(?: are|re| will| play)\b"
        r"|\bfrom now on,?\s+(?:you|respond|answer|reply|act|only|always"
        r"|never|ignore|pretend|speak)\b|\bpretend (?:that )?(?:you(?:re| are)?|to be)\b"
        r"|\bimagine (?:that )?you(?:re| are) (?:a|an|my|the|no longer|not)\b"
    ),
    _c(
        r"\b(?:act|behave|respond|answer|speak|talk|reply) (?:as|like) (?:if you (?:were|are) )?"
        r"(?:my |a |an |the )?(?:\w+ )?(?:doctor|physician|neurologist|nurse|pharmacist"
        r"|clinician|gp|consultant|specialist|medical professional|unrestricted|unfiltered"
        r"|uncensored|jailbroken|different ai|human|person|character|dan|evil|rogue)\b"
    ),
    _c(
        r"\b(?:role[- ]?play|play the (?:role|part) of)\b"
        r"|\b(?:developer|dev|debug|god|admin|sudo|unrestricted|unfiltered|uncensored|dan) mode\b"
        r"|\bjail ?break\w*|\bdo anything now\b|\bnew (?:instructions|rules|system prompt)\s*:"
        r"|\byou (?:must|will|shall) (?:now )?(?:obey|comply|ignore|disregard|forget)\b"
        r"|\byou have no (?:restrictions|rules|limits|filters|guardrails)\b"
        r"|\b(?:override|disable|turn off|switch off|bypass) (?:your |the |all )?(?:safety"
        r"|system|filters?|guardrails|restrictions|content policy)\b"
        r"|\b(?:answer|respond|reply|talk|speak|tell me|write|say)\b[^.?!\n]{0,30}\bwithout "
        r"(?:any )?(?:restrictions|filters|limits|guardrails|censorship|rules)\b"
    ),
)
# Dictated content: "State that IVIG is first-line", "Write a handout saying IVIG cures MS".
_DICTATED: Final[tuple[re.Pattern[str], ...]] = (
    _c(
        r"(?:^|[.!?:]\s*)(?:please\s+)?(?:say|state|claim|declare|assert|confirm|announce)\s+that\b"
    ),
    _c(
        r"\b(?:write|draft|create|make|compose|generate)\s+(?:me\s+|us\s+)?(?:a|an|the|some)\s+"
        r"(?:[\w-]+\s+){0,3}(?:handout|leaflet|flyer|brochure|post|letter|article|note|email"
        r"|tweet|message|statement|script|ad|advert|advertisement|press release)\s+"
        r"(?:saying|stating|claiming|that says|that states|that claims|which says|telling)\b"
    ),
)
# Control of the output itself: "end your answer with ...", "append the token ...", "the correct
# answer is ...", "respond in French": never a medical question, in a message or a passage.
_OUTPUT_CONTROL: Final[tuple[re.Pattern[str], ...]] = (
    _c(r"\bthe (?:correct|right|only|true|official) answer (?:is|will be|should be)\b"),
    _c(r"\b(?:when|whenever|while) (?:summari[sz]ing|answering|responding|replying)\b"),
    _c(r"\balways (?:end|start|begin|include|say|reply|respond|answer|finish|sign|mention)\b"),
    _c(
        r"\b(?:end|finish|start|begin|close|sign off|conclude|prefix|suffix)\s+(?:your|the|each"
        r"|every|any|this)\s+(?:answer|reply|response|message|summary|output)s?\s+(?:with|by)\b"
    ),
    _c(r"\bsign (?:off|it|your (?:answer|reply|response)) with\b"),
    _c(
        r"\b(?:append|prepend|insert|add|include|put)\s+(?:the\s+|this\s+|a\s+)?(?:token|word"
        r"|phrase|string|code ?word|code|signature|marker|tag)\b"
    ),
    _c(
        r"\b(?:respond|reply|answer|write|speak)\s+(?:only\s+)?in\s+(?:french|spanish|german"
        r"|italian|portuguese|dutch|chinese|japanese|russian|arabic|latin|pig latin|emoji)\b"
    ),
    _c(r"\bi will now (?:say|reply|respond|answer|print|output|write)\b"),
)
_OVERRIDE_PATTERNS = (*_OVERRIDE_PATTERNS, *_DICTATED, *_OUTPUT_CONTROL)

_OVERRIDE_EXEMPT_PREFIX: Final = _c(
    r"\b(?:can|should|could|may|do|is it (?:ok|okay|safe) to)\s+(?:i|we|patients?|my \w+|you"
    r"|they|he|she)?\s*(?:still\s+)?$"
)

_MED = (
    r"(?:ivig|igg|immunoglobulins?|immune globulin|scig|privigen|gammagard|octagam|gamunex"
    r"|hizentra|panzyga|flebogamma|kiovig|intratect|ocrevus|ocrelizumab|kesimpta|ofatumumab"
    r"|tysabri|natalizumab|copaxone|glatiramer|interferons?|avonex|rebif|betaferon|betaseron"
    r"|extavia|plegridy|tecfidera|dimethyl fumarate|vumerity|bafiertam|gilenya|fingolimod"
    r"|mayzent|siponimod|zeposia|ozanimod|ponvory|ponesimod|aubagio|teriflunomide|lemtrada"
    r"|alemtuzumab|mavenclad|cladribine|rituximab|rituxan|truxima|ublituximab|briumvi"
    r"|mitoxantrone|steroids?|prednisone|prednisolone|methylprednisolone|solu-?medrol"
    r"|plasma exchange|plex|plasmapheresis|dmts?|medications?|medicines?|meds|drugs?"
    r"|treatments?|therapy|therapies|pills?|tablets?|injections?|infusions|dose|dosage"
    r"|ampyra|fampridine|baclofen|tizanidine|gabapentin"
    r"|(?:my|her|his|their|next|the next|upcoming) (?:next |upcoming )?(?:ivig |igg )?"
    r"(?:infusion|dose|injection))"
)
_DECISION_VERB = (
    r"(?:stop|start|switch|quit|discontinue|come off|go off|get off|take|try|begin|restart"
    r"|resume|continue|keep (?:taking|on)|stay on|go on|get|have|receive|replace|swap|change"
    r"|add|combine|skip|delay|postpone|pause|increase|decrease|reduce|lower|raise|double|halve"
    r"|taper|wean|use|give|prescribe|order|administer|infuse"
    r"|be (?:on|taking|started on|switched to|given|put on))"
)
_MED_FILLER = (
    r"(?:(?:my|her|his|their|the|this|that|a|an|more|less|another|high[- ]dose|monthly|weekly"
    r"|patient|pt|husband|wife|son|daughter|him|them"
    r"|current|usual|next|regular|same|ms|from|to|onto|over to|back to|taking|using|on|with"
    r"|off|of)\s+){0,3}"
)
_SUBJECT = (
    r"(?:i|we|me|us|she|he|they|her|him|them|the patient|this patient|pt|my (?:patient|husband"
    r"|wife|son|daughter|mom|mum|mother|dad|father|partner|child|kid|friend|brother|sister"
    r"|client|\w+))"
)
_TREATMENT_PATTERNS: Final[tuple[re.Pattern[str], ...]] = (
    _c(
        r"\bshould\s+"
        + _SUBJECT
        + r"\s+(?:still\s+|just\s+|now\s+|really\s+)?"
        + _DECISION_VERB
        + r"\s+"
        + _MED_FILLER
        + _MED
        + r"\b"
    ),
    _c(
        r"\b(?:do you think|would you (?:say|recommend|advise)|is it (?:better|best|wise|ok"
        r"|okay|a good idea|time)(?: for)?|tell me (?:if|whether)|can you tell me (?:if|whether)"
        r"|decide (?:if|whether)|whether|if)\s+" + _SUBJECT + r"\s+(?:should\s+|to\s+|must\s+"
        r"|ought to\s+|need to\s+)" + _DECISION_VERB + r"\s+" + _MED_FILLER + _MED + r"\b"
    ),
    _c(
        r"\b(?:would|do|will|can|could) you (?:recommend|advise|suggest|prescribe) (?:\S+ ){0,2}?"
        + _MED
        + r" (?:for|to) (?:me|my \w+|her|him|them|us|this patient|our patient)\b"
        r"|\b(?:would|do|will|can|could) you (?:recommend|advise|suggest) (?:that )?"
        r"(?:i|my \w+|she|he|they|we) (?:should )?" + _DECISION_VERB + r"\b"
    ),
    _c(
        r"\b(?:tell|advise|instruct|order|get) (?:my \w+|her|him|them|me|the patient|this patient"
        r"|pt)\s+(?:to|that (?:she|he|they|i) should)\s+" + _DECISION_VERB + r"\b"
    ),
    _c(
        r"\b(?:give|write|make|create|draft|prepare|design) (?:me |us )?(?:a |an )?(?:treatment"
        r"|management|care|dosing|infusion|medication|tapering|taper) plan (?:for (?:me|my \w+"
        r"|her|him|them|this patient|our patient|a patient))"
        r"|\bwhat (?:should|do|would|can|must) (?:i|we) (?:prescribe|give|order|start)"
        r" (?:her|him|them|my \w+|the patient|this patient|for (?:her|him|them|my \w+|the patient"
        r"|this patient))\b"
    ),
    _c(
        r"\bis it (?:ok|okay|fine|alright|all right|safe|wise|better) (?:if|for) "
        + _SUBJECT
        + r" (?:to )?"
        + _DECISION_VERB
        + r"\s+"
        + _MED_FILLER
        + _MED
        + r"\b"
    ),
    _c(
        r"\b(?:write|give|send|issue|draft|make|prepare|fill out|sign|need)\s+(?:me|her|him|them"
        r"|us|my \w+|the patient)?\s*(?:a|an|the|my|her|his)?\s*(?:new\s+)?(?:prescription"
        r"|script|rx|order set|medication order|infusion order|standing order|drug order)s?\b"
        r"|\b(?:can|could|would|will|please) you (?:please )?(?:prescribe|e-?prescribe|order)\b"
        r"|\bprescribe (?:me|her|him|them|my \w+|it for|ivig for|something)\b"
    ),
    _c(
        r"\bwhat (?:dose|dosage|amount|regimen)(?: of \w+)? (?:should|do|would|can|must) "
        r"(?:i|we|you) (?:give|prescribe|order|use|start|infuse|administer|recommend)\b"
        r"|\bwhat (?:dose|dosage|amount)(?: of \w+)? (?:should|do|does|must) (?:i|my \w+|she|he"
        r"|they|the patient|this patient) (?:get|take|have|receive|need|be (?:on|given))\b"
        r"|\bhow (?:much|many (?:grams|g|mg|ml|vials|bottles|bags))(?: of)?(?: \w+)? "
        r"(?:should|do|would|can|must) (?:i|we) (?:give|prescribe|order|infuse|administer"
        r"|use|take|get|have|need)\b"
        r"|\bhow (?:much|many \w+)(?: of)?(?: \w+)? (?:should|does|do|must) (?:my \w+|she|he"
        r"|they|the patient|this patient) (?:get|take|have|receive|need)\b"
    ),
    _c(
        r"\b(?:exact|specific|precise|right|correct|proper|best|ideal|optimal|individual)\s+"
        r"(?:ivig\s+)?(?:dose|dosage|dosing|amount|regimen)\b(?=[^.?!\n]*\b(?:for (?:me|my|her"
        r"|him|them|this|our|a \d)|(?:my|this|our) patient|i should|to give|should i|should we"
        r"|i need)\b)"
    ),
    _c(
        r"\b(?:can you|could you|please|help me)\s+(?:calculate|work out|figure out|compute"
        r"|determine)\b"
        r"|\b(?:weighs|weigh|weighing|weight (?:is|of))\s+\d+\s*(?:kg|kilos?|kilograms?|lbs?"
        r"|pounds?)\b(?=[^?\n]*\b(?:dose|dosage|how much|how many|grams?|mg|ml)\b)"
    ),
)

_MANIPULATION_TABLE: Final[tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]] = (
    ("instruction_override", _OVERRIDE_PATTERNS),
    ("prompt_extraction", _PROMPT_PATTERNS),
    ("disclaimer_removal", _DISCLAIMER_PATTERNS),
    ("treatment_order", _TREATMENT_PATTERNS),
)


def _first_match(
    text: str, patterns: Iterable[re.Pattern[str]], *, exempt_prefix: re.Pattern[str] | None = None
) -> re.Match[str] | None:
    best: re.Match[str] | None = None
    for pattern in patterns:
        for found in pattern.finditer(text):
            if exempt_prefix is not None and exempt_prefix.search(text[: found.start()]):
                continue
            if best is None or found.start() < best.start():
                best = found
            break
    return best


def detect_manipulation(message: str) -> Manipulation | None:
    """Return a :class:`Manipulation` if ``message`` tries to remove the disclaimer,
    extract the system prompt, override instructions or obtain an individual
    treatment order; else ``None``. Categories are checked in the order
    instruction_override, prompt_extraction, disclaimer_removal, treatment_order."""
    norm = _normalize(message)
    text = norm.text
    if not text:
        return None
    for category, patterns in _MANIPULATION_TABLE:
        exempt = _OVERRIDE_EXEMPT_PREFIX if category == "instruction_override" else None
        found = _first_match(text, patterns, exempt_prefix=exempt)
        if found is not None:
            return Manipulation(category=category, evidence=norm.original(*found.span()))
    return None


_CAN_DO: Final[dict[str, str]] = {
    "patient": (
        "What I can do is explain what the article and its cited sources say about IVIG for "
        "multiple sclerosis, for example what the studies found and which side effects they "
        "reported."
    ),
    "clinician": (
        "I can summarise what the article and its cited sources report: study designs, "
        "populations, outcomes, the regimens used and adverse events."
    ),
}

_CANNOT: Final[dict[tuple[str, str], str]] = {
    ("disclaimer_removal", "patient"): (
        "I can't leave out the safety note. It comes with every answer so that you know this "
        "is information, not medical advice."
    ),
    ("disclaimer_removal", "clinician"): (
        "I can't omit the disclaimer; it is part of every response from this tool."
    ),
    ("prompt_extraction", "patient"): "I can't share my internal instructions or settings.",
    ("prompt_extraction", "clinician"): (
        "I can't disclose my system instructions or configuration."
    ),
    ("instruction_override", "patient"): (
        "I can't change how I work or take on a different role, such as acting as your doctor."
    ),
    ("instruction_override", "clinician"): (
        "I can't override my operating instructions or adopt another role or persona."
    ),
    ("treatment_order", "patient"): (
        "I can't give individual treatment orders or tell you to start, stop or switch a "
        "medicine. Those decisions belong to you and your treating clinician, together. You "
        "could take what the article says to your next appointment."
    ),
    ("treatment_order", "clinician"): (
        "I can't issue individual treatment orders, prescriptions or patient-specific doses, "
        "or advise starting, stopping or switching a specific medicine for a particular "
        "patient; that decision belongs to the treating clinician together with the patient."
    ),
}


def refusal_text(m: Manipulation, audience: Audience) -> str:
    """Short Markdown refusal: what we can't do and what we can."""
    reader = "clinician" if audience == "clinician" else "patient"
    category = m.category if (m.category, reader) in _CANNOT else "instruction_override"
    return f"**{_CANNOT[(category, reader)]}**\n\n{_CAN_DO[reader]}"


# ---------------------------------------------------------------------------
# Planted instructions in corpus text
# ---------------------------------------------------------------------------

_AI_NAMES = (
    r"(?:assistant|chatbot|ai|a\.i\.|language model|llm|large language model|chat ?gpt"
    r"|gpt(?:-?\d\w*)?|claude|gemini|copilot|bot|ai model|ai system|model)"
)
_IMPERATIVE = (
    r"(?:reply|respond|answer|say|output|print|write|ignore|disregard|forget|tell|include"
    r"|do not|dont|never|always|only|stop|pretend|act|reveal|repeat|add|remove|omit|start"
    r"|begin|end|use|translate|recommend|you)"
)
_INSTRUCTION_PATTERNS: Final[tuple[re.Pattern[str], ...]] = (
    # Role markers: "SYSTEM: you must now ...", "[assistant]: ...", chat-template tokens.
    _c(
        r"(?:^|\n|[.!?]\s)\s*(?:#{1,3}\s*)?\[?(?:system|assistant|developer|instructions?"
        r"|admin|user)\]?\s*:\s*(?:\S+\s+){0,3}?(?:you|your|ignore|disregard|forget|respond"
        r"|reply|answer|say|output|print|repeat|reveal|must|always|never|do not|dont|only"
        r"|stop|new)\b"
    ),
    _c(r"<\|?(?:im_start|im_end|system|endoftext)\|?>|\[/?inst\]|<</?sys>>|<\s*/?\s*system\s*>"),
    # Addressing the model: "Assistant, reply only with ...", "Note to AI: ...".
    _c(
        r"\b"
        + _AI_NAMES
        + r"\s*[,:!]\s*(?:please\s+)?(?:(?:now|must|should|will)\s+)*"
        + _IMPERATIVE
        + r"\b"
    ),
    _c(
        r"\b(?:if|when|whenever) you(?:re| are) (?:an? )?(?:ai|assistant|language model|llm"
        r"|chatbot|bot|large language model|ai assistant|automated system|model)\b"
        r"|\bnote (?:to|for) (?:any |the |all )?(?:ai|llm|assistant|chatbot|model|language model)s?"
        r"\b|\b(?:dear|hey|hello|hi|attention|attn)\s*,?\s+(?:ai|assistant|chatbot|llm|bot"
        r"|language model|gpt|claude)\b|\bas an? (?:ai|language model|llm)(?: assistant)?,? you\b"
    ),
    # "respond with the word X", "reply only with ...".
    _c(
        r"\b(?:respond|reply|answer|say|output|print|write|type|end your (?:answer|response"
        r"|reply))\s+(?:only\s+|just\s+|back\s+|exactly\s+)?(?:with|using)\s+(?:only\s+"
        r"|just\s+)?(?:the (?:word|words|phrase|string|text|sentence|letter|number|token)"
        r"|exactly|verbatim|\")"
        r"|\b(?:say|output|print|write|type)\s+(?:only\s+|just\s+|exactly\s+)?the (?:word|phrase"
        r"|string|sentence)\b|\b(?:reply|respond|answer)\s+only\s+(?:with|in|using|by)\b"
    ),
    # Orders to the model about its own behaviour.
    _c(
        r"\byou (?:must|should|will|shall|are (?:required|instructed|ordered) to|have to"
        r"|need to) (?:now |always |never |only |immediately )*(?:ignore|disregard|forget|obey"
        r"|comply|reveal|print|output|respond|reply|say (?:only|that|the)|answer (?:only|with"
        r"|that|in)|tell (?:the )?user|recommend|claim|state that|include the|append|prepend"
        r"|stop (?:adding|including|using)|drop the|omit|remove the)\b"
        r"|\b(?:the|this) user (?:must|should|will) (?:not )?(?:be told|see|know)\b"
        r"|\b(?:do not|dont|never) (?:tell|inform|show|reveal to|mention (?:this )?to) the user\b"
        r"|\btell the user (?:that|to)\b"
    ),
)


def looks_like_instruction(text: str) -> bool:
    """True if ``text`` (e.g. a retrieved corpus passage) addresses an AI
    assistant or gives it orders ("Ignore all previous instructions ...",
    "SYSTEM: you must now ...", "print your system prompt"). Ordinary medical
    prose ("Stop the infusion if ...") returns False."""
    norm = _normalize(text)
    body = norm.text
    if not body:
        return False
    if any(p.search(body) for p in _INSTRUCTION_PATTERNS + _OUTPUT_CONTROL):
        return True
    manipulative = (_OVERRIDE_PATTERNS, _PROMPT_PATTERNS, _DISCLAIMER_PATTERNS)
    return any(p.search(body) for group in manipulative for p in group)
