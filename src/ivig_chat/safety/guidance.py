"""Emergency guidance shown first in an urgent answer, from knowledge/guidance.yaml."""

from __future__ import annotations

from ..knowledge import Guidance
from ..types import Audience
from .red_flags import RedFlag


def urgent_guidance(flag: RedFlag, audience: Audience, guidance: Guidance) -> str:
    """Markdown emergency guidance to show *first* in the answer for ``flag``."""
    numbers = getattr(guidance.emergency_numbers, audience)
    if flag.category == "self_harm":
        return str(getattr(guidance.self_harm, audience)).replace("{numbers}", numbers)
    entry = guidance.categories.get(flag.category) or guidance.categories[guidance.fallback]
    fields = {
        "{numbers}": numbers,
        "{headline}": entry.patient_headline,
        "{label}": entry.clinician_label,
        "{tip}": entry.patient_tip if audience == "patient" else entry.clinician_tip,
    }
    text = str(getattr(guidance.templates, audience))
    for placeholder, value in fields.items():
        text = text.replace(placeholder, value)
    return text
