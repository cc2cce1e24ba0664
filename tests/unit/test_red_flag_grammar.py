"""The red-flag grammar on events that are over and on questions about conditions.

Each group holds wordings that share no phrase with each other, so a test fails if the rule
depends on one wording; each has an emergency twin that must still be caught.
"""

from __future__ import annotations

import pytest

from ivig_chat.safety import detect_red_flag


@pytest.mark.parametrize(
    "message",
    [
        # A past event with no quantifier before "ago".
        "Long ago my dad had a stroke during an IVIG course; is stroke a listed risk?",
        # "now" outside the symptom's clause says the problem is over.
        "I had a pulmonary embolism three years ago, fully recovered now. Is IVIG riskier for me?",
        "She had a seizure two years ago, she's fine now - does that rule out IVIG?",
        # A condition named in a question with no one in it.
        "onset of aseptic meningitis post IVIG, typically?",
        "renal failure post IVIG - usual timing?",
        "thrombosis post IVIG in the elderly?",
    ],
)
def test_events_that_are_over_and_questions_about_a_condition_are_not_flagged(
    message: str,
) -> None:
    assert detect_red_flag(message) is None


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("I had a clot years ago, but now my calf is swollen, red and hot", "thrombosis"),
        ("had headaches for years but now suddenly the worst headache of my life", "stroke"),
        ("my patient developed aseptic meningitis post infusion, what now?", "meningism"),
        ("she is having a seizure right now after her IVIG", "seizure"),
    ],
)
def test_their_emergency_twins_are_still_flagged(message: str, category: str) -> None:
    flag = detect_red_flag(message)
    assert flag is not None and flag.category == category
