"""Follow-ups as people write them, through the real service, corpus and model.

Each conversation is written for this test (not taken from an evaluation set): a first turn
names (or leads the answer to) one study, and the follow-up names none. The answer must come
from that study: its citations quote sentences that name it, not another trial's.
"""

from __future__ import annotations

import pytest

from ivig_chat.compose import build_service, make_store
from ivig_chat.pipeline import build_pipeline
from ivig_chat.types import ChatRequest, ChatResponse

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def service(tmp_path_factory, embeddings):  # type: ignore[no-untyped-def]
    from ivig_chat.config import Settings

    root = tmp_path_factory.mktemp("follow-ups")
    settings = Settings(data_dir=root / "data")
    pipeline, _ = build_pipeline(settings, embeddings=embeddings)
    store = make_store(root / "conversations.sqlite3")
    yield build_service(settings, pipeline, store)
    store.close()


def converse(service, *messages: str) -> ChatResponse:  # type: ignore[no-untyped-def]
    conversation_id = None
    for message in messages:
        response = service.chat(ChatRequest(message, conversation_id))
        conversation_id = response.conversation_id
    return response  # type: ignore[no-any-return]


# Short follow-ups that name no study, in different shapes: ellipsis, a bare noun phrase,
# shorthand, a pronoun.
FOLLOW_UPS = ["and the dose?", "how many patients took part?", "n per arm?", "did it work?"]


@pytest.mark.parametrize("follow_up", FOLLOW_UPS)
def test_a_follow_up_is_answered_about_the_study_named_before(service, follow_up: str) -> None:  # type: ignore[no-untyped-def]
    response = converse(service, "What was the PRIVIG trial?", follow_up)
    assert response.status == "answered", response.answer[:300]
    assert "PRIVIG" in response.standalone_question
    assert "PRIVIG" in response.citations[0].quote, response.citations[0].quote


def test_the_study_can_come_from_the_answer_rather_than_the_question(service) -> None:  # type: ignore[no-untyped-def]
    first = converse(service, "which trial gave IVIG 1 g/kg monthly against albumin?")
    assert first.status == "answered"
    lead = first.citations[0].quote
    named = [name for name in ("ESIMS", "Pöhlau") if name in lead]
    assert named, lead
    response = converse(
        service,
        "which trial gave IVIG 1 g/kg monthly against albumin?",
        "how many patients were in it?",
    )
    assert named[0] in response.standalone_question
    assert named[0] in response.citations[0].quote


def test_going_back_two_turns(service) -> None:  # type: ignore[no-untyped-def]
    response = converse(
        service,
        "What did the AIMS trial find?",
        "And PRIVIG?",
        "going back to the first one, what was the relapse rate with placebo?",
    )
    assert "AIMS" in response.standalone_question
    assert "PRIVIG" not in response.standalone_question
    assert response.status == "answered"
    assert "AIMS" in response.citations[0].quote


def test_a_new_question_about_the_subject_is_not_tied_to_the_last_study(service) -> None:  # type: ignore[no-untyped-def]
    response = converse(service, "What was the PRIVIG trial?", "Is IVIG safe in pregnancy?")
    assert "PRIVIG" not in response.standalone_question
