"""Which patient groups a question names (knowledge/populations.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivig_chat.answer.populations import PopulationCheck
from ivig_chat.knowledge import load_knowledge

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def check() -> PopulationCheck:
    return PopulationCheck(load_knowledge(REPO / "knowledge").populations.populations)


@pytest.mark.parametrize(
    "question",
    [
        "Is IVIG used in children with MS?",
        "what about in kids?",
        "my 12 year old has MS, can she have IVIG?",
        "is it safe for teenagers?",
        "what doses are used in paediatric MS as a rule?",
    ],
)
def test_a_question_about_young_patients_names_the_group(
    check: PopulationCheck, question: str
) -> None:
    assert [p.id for p in check.named(question)] == ["children"]


@pytest.mark.parametrize(
    "question",
    [
        "I had jaundice as a child and worry about hepatitis. Can IVIG pass on infections?",
        "when she was a teenager she had glandular fever, is IVIG ok for her?",
        "In my teens I had a blood clot; does that matter for IVIG?",
        "Back when I was a kid I had measles; can I be given IVIG now?",
    ],
)
def test_a_life_stage_used_as_a_time_is_not_the_group_asked_about(
    check: PopulationCheck, question: str
) -> None:
    assert check.named(question) == []
