"""decide(): a turn's status and body from what the checks and the answerer found (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivig_chat.answer.base import Draft
from ivig_chat.answer.scope import Coverage
from ivig_chat.corpus import Document
from ivig_chat.knowledge import load_knowledge
from ivig_chat.safety import Manipulation, ManipulationDetector, RedFlag
from ivig_chat.service.decision import PARTLY_COVERED, SOURCES_SAY, decide

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = load_knowledge(REPO / "knowledge")
REFUSALS = ManipulationDetector(KNOWLEDGE.manipulation_rules)
ARTICLE = Document(
    id="a",
    kind="article",
    title="An article",
    text="# An article\n\n## Dosing\n\n### Monitoring\n\nText.",
    path=Path("a.md"),
)
ANSWERED = Draft(status="answered", lines=["A cited sentence. [1]"])
ABSTAINED = Draft(status="abstained")


def run(**found: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {"red_flag": None, "manipulation": None, "draft": None}
    values.update(found)
    return decide(
        article=ARTICLE,
        audience="patient",
        guidance=KNOWLEDGE.guidance,
        refusals=REFUSALS,
        **values,  # type: ignore[arg-type]
    )


def test_an_emergency_comes_first_and_keeps_what_the_sources_say() -> None:
    flag = RedFlag("stroke", "face drooping")
    decision = run(
        red_flag=flag, draft=ANSWERED, manipulation=Manipulation("prompt_extraction", "x")
    )
    assert decision.status == "urgent"
    assert decision.body.index(SOURCES_SAY) > 0 and decision.body.endswith("A cited sentence. [1]")
    assert decision.cites
    assert run(red_flag=flag, draft=ABSTAINED).cites is False


@pytest.mark.parametrize("category", ["prompt_extraction", "treatment_order"])
def test_these_attempts_are_refused_even_when_the_question_was_answerable(category: str) -> None:
    decision = run(manipulation=Manipulation(category, "x"), draft=ANSWERED)
    assert decision.status == "refused"
    # A treatment order gets what the sources say beside the refusal; an extraction nothing.
    assert (SOURCES_SAY in decision.body) is (category == "treatment_order")
    assert decision.cites is (category == "treatment_order")


@pytest.mark.parametrize("category", ["instruction_override", "disclaimer_removal"])
def test_an_ignored_instruction_with_an_answerable_question_is_answered(category: str) -> None:
    assert run(manipulation=Manipulation(category, "x"), draft=ANSWERED).status == "answered"
    assert run(manipulation=Manipulation(category, "x"), draft=ABSTAINED).status == "refused"


def test_a_partly_covered_question_says_so_before_the_answer() -> None:
    coverage = Coverage(
        focus=("dose", "ocrelizumab"),
        unknown_specific=("ocrelizumab",),
        unknown_other=(),
        corrected={},
    )
    draft = Draft(status="answered", lines=["A cited sentence. [1]"], coverage=coverage)
    decision = run(draft=draft)
    assert decision.status == "answered"
    assert decision.body.startswith(PARTLY_COVERED)


def test_an_abstention_names_what_is_missing_and_what_the_article_covers() -> None:
    nothing_unknown = Coverage(
        focus=("dose", "children"), unknown_specific=(), unknown_other=(), corrected={}
    )
    draft = Draft(
        status="abstained", coverage=nothing_unknown, missing=("children and adolescents",)
    )
    decision = run(draft=draft)
    assert decision.status == "abstained" and not decision.cites
    assert "do not mention children and adolescents" in decision.body
    assert "Monitoring" in decision.body  # the article's sub-headings, as what it covers
