"""Coverage from meaning, through the real service on the real corpus and model.

The questions are written for this test (not taken from the datasets the coverage model was
fitted on): plain and misspelt questions the corpus answers, and near neighbours it does not.
"""

from __future__ import annotations

import pytest

from ivig_chat.compose import build_service
from ivig_chat.conversation import SQLiteConversationStore
from ivig_chat.pipeline import build_pipeline
from ivig_chat.types import ChatRequest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COVERED = [
    "what did the big trial in secondary progressive ms show?",
    "whats the dose they used for acute relapses",
    "which side efects should i watch for with ivig",
    "is ivig in the neurology guidelines for ms?",
]
NOT_COVERED = [
    "what does a course of ivig cost in euros?",
    "is there any evidence for biotin supplements in ms?",
    "what ivig dose is used for children with ms?",
    "what were the results of the MOSAIC rituximab trial?",
]


@pytest.fixture(scope="module")
def service(tmp_path_factory, embeddings):  # type: ignore[no-untyped-def]
    from ivig_chat.config import Settings

    root = tmp_path_factory.mktemp("coverage")
    settings = Settings(data_dir=root / "data")
    pipeline, _ = build_pipeline(settings, embeddings=embeddings)
    store = SQLiteConversationStore(root / "conversations.sqlite3")
    built = build_service(settings, pipeline, store)
    assert built.answerer.coverage_model is not None  # the shipped model decides
    yield built
    store.close()


@pytest.mark.parametrize("question", COVERED)
def test_covered_questions_are_answered(service, question: str) -> None:  # type: ignore[no-untyped-def]
    response = service.prepare(ChatRequest(question)).response
    assert response.status == "answered", response.answer[:200]


@pytest.mark.parametrize("question", NOT_COVERED)
def test_near_neighbours_the_corpus_lacks_abstain(service, question: str) -> None:  # type: ignore[no-untyped-def]
    prepared = service.prepare(ChatRequest(question))
    assert prepared.response.status == "abstained", prepared.response.answer[:200]
    draft = prepared.draft
    assert draft is not None and draft.decided_by in ("population", "other_subject", "model")
    if draft.decided_by == "model":
        assert draft.covered is not None
        assert draft.covered < service.answerer.coverage_model.threshold


def test_an_absent_patient_group_is_named_in_the_abstention(service) -> None:  # type: ignore[no-untyped-def]
    response = service.prepare(ChatRequest("can my 9 year old get ivig for her ms?")).response
    assert response.status == "abstained"
    assert "do not mention children and adolescents" in response.answer


def test_it_under_the_article_means_the_articles_subject(service) -> None:  # type: ignore[no-untyped-def]
    response = service.prepare(ChatRequest("which patients might be offered it?")).response
    assert response.standalone_question == "which patients might be offered IVIG?"
    assert response.status == "answered"
