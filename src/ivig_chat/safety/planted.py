"""Planted instructions: corpus text that addresses the model, so retrieval can drop it."""

from __future__ import annotations

import re
from typing import Final

from .manipulation import ManipulationDetector, default_detector
from .normalise import compile_pattern as _c
from .normalise import normalize as _normalize

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


def looks_like_instruction(text: str, manipulation: ManipulationDetector | None = None) -> bool:
    """True if ``text`` (e.g. a retrieved corpus passage) addresses an AI
    assistant or gives it orders ("Ignore all previous instructions ...",
    "SYSTEM: you must now ...", "print your system prompt"). Ordinary medical
    prose ("Stop the infusion if ...") returns False."""
    norm = _normalize(text)
    body = norm.text
    if not body:
        return False
    if any(p.search(body) for p in _INSTRUCTION_PATTERNS):
        return True
    # The manipulation rules apply to passages too, except treatment orders: a source may well
    # discuss whether patients should switch treatment.
    detector = manipulation or default_detector()
    return any(p.search(body) for p in detector.patterns(except_category="treatment_order"))
