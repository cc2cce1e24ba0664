"""Safety checks on user messages and retrieved passages: detectors in code, knowledge in data.

* red flags: rules (``red_flags``, the floor) and meaning (``semantic``), combined by ``triage``;
* emergency guidance (``guidance``);
* manipulation (``manipulation``) and planted instructions in corpus text (``planted``).
"""

from .guidance import urgent_guidance
from .manipulation import (
    MANIPULATION_CATEGORIES,
    Manipulation,
    ManipulationDetector,
    detect_manipulation,
    question_without_instructions,
    refusal_text,
)
from .planted import looks_like_instruction
from .red_flags import RED_FLAG_CATEGORIES, RedFlag, RedFlagDetector, detect_red_flag
from .triage import Triage

__all__ = [
    "MANIPULATION_CATEGORIES",
    "RED_FLAG_CATEGORIES",
    "Manipulation",
    "ManipulationDetector",
    "RedFlag",
    "RedFlagDetector",
    "Triage",
    "detect_manipulation",
    "detect_red_flag",
    "looks_like_instruction",
    "question_without_instructions",
    "refusal_text",
    "urgent_guidance",
]
