"""Red-flag rules: the deterministic floor of triage (the semantic layer is in semantic.py).

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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

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
        "meningism",
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
        "collapse",
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
        "collapse",
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
    + _symptoms("collapse", _CONDITION, [r"\b(?:in|into) shock\b"])
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
    "meningism",
    "stroke",
    "seizure",
    "thrombosis",
    "kidney",
    "collapse",
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
    marker = _Symptom("meningism", _PLAIN, _MENINGISM_NECK)
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
        hits["meningism"] = meningism
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
