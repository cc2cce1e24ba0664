"""The contract every conversation store backend keeps (issue 11): each test that takes `store`
runs once per backend in STORE_BACKENDS. A new backend (PostgreSQL, issue 12) adds its factory
there and must pass all of it; what only one backend can show (SQLite's file, its migration,
bytes on disk) stays in test_conversation.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import make_turn
from ivig_chat.conversation import ConversationStore, SQLiteConversationStore
from ivig_chat.errors import ConversationNotFound, FeedbackLimit, InvalidRequest, TurnNotFound

STORE_BACKENDS: dict[str, Callable[[Path], ConversationStore]] = {
    "sqlite": lambda folder: SQLiteConversationStore(folder / "conversations.sqlite3"),
}


@pytest.fixture(params=sorted(STORE_BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    backend = STORE_BACKENDS[request.param](tmp_path)
    yield backend
    backend.close()


def test_save_turn_creates_the_conversation(store: ConversationStore) -> None:
    with pytest.raises(ConversationNotFound):
        store.get("conv_a")
    store.save_turn("conv_a", "ivig-ms", make_turn(1))
    conversation = store.get("conv_a")
    assert conversation.id == "conv_a"
    assert conversation.article_id == "ivig-ms"
    assert conversation.audience == "clinician"
    assert [t.turn_id for t in conversation.turns] == ["turn_1"]
    assert conversation.turns[0] == make_turn(1)  # every field round-trips, unicode included


def test_turns_come_back_in_the_order_they_were_saved(store: ConversationStore) -> None:
    # ids and timestamps deliberately out of lexical order: order is insertion order
    for n, turn_id in zip((3, 1, 2), ("turn_z", "turn_a", "turn_m"), strict=True):
        store.save_turn("conv_a", "ivig-ms", make_turn(n, turn_id=turn_id))
    store.save_turn("conv_b", "ivig-ms", make_turn(9))
    turns = store.get("conv_a").turns
    assert [t.turn_id for t in turns] == ["turn_z", "turn_a", "turn_m"]
    assert [t.question for t in turns] == ["question 3?", "question 1?", "question 2?"]
    assert [t.turn_id for t in store.get("conv_b").turns] == ["turn_9"]


def test_as_dict_is_the_api_shape(store: ConversationStore) -> None:
    store.save_turn("conv_a", "ivig-ms", make_turn(1))
    store.save_turn("conv_a", "ivig-ms", make_turn(2, audience="patient"))
    data = store.get("conv_a").as_dict()
    assert set(data) == {"id", "article_id", "audience", "turns"}
    assert data["id"] == "conv_a"
    assert data["audience"] == "patient"  # the latest turn's audience
    assert [t["turn_id"] for t in data["turns"]] == ["turn_1", "turn_2"]
    assert set(data["turns"][0]) == {
        "turn_id",
        "question",
        "standalone_question",
        "status",
        "answer",
        "citations",
        "disclaimer",
        "suggested_questions",
        "audience",
        "created_at",
    }
    assert "versions" not in data["turns"][0]


def test_unknown_conversation_raises(store: ConversationStore) -> None:
    store.save_turn("conv_a", "ivig-ms", make_turn(1))
    with pytest.raises(ConversationNotFound, match="conv_missing"):
        store.get("conv_missing")
    assert ConversationNotFound.code == "conversation_not_found"


def test_feedback_is_stored_and_listed(store: ConversationStore) -> None:
    store.save_turn("conv_a", "ivig-ms", make_turn(1))
    store.save_turn("conv_a", "ivig-ms", make_turn(2, status="abstained"))
    assert store.feedback_rows() == []
    first = store.add_feedback("turn_1", "up", "helpful")
    second = store.add_feedback("turn_2", "down", None)
    assert first["turn_id"] == "turn_1" and first["rating"] == "up"
    assert first["comment"] == "helpful"
    assert first["id"].startswith("fb_") and first["id"] != second["id"]
    rows = store.feedback_rows()
    assert [(r["turn_id"], r["rating"], r["comment"]) for r in rows] == [
        ("turn_1", "up", "helpful"),
        ("turn_2", "down", ""),
    ]
    assert rows[0]["conversation_id"] == "conv_a"
    assert rows[0]["feedback_id"] == first["id"]
    assert rows[0]["standalone_question"] == "standalone question 1?"
    assert [r["status"] for r in rows] == ["answered", "abstained"]


def test_feedback_on_an_unknown_turn_raises(store: ConversationStore) -> None:
    store.save_turn("conv_a", "ivig-ms", make_turn(1))
    with pytest.raises(TurnNotFound, match="turn_missing"):
        store.add_feedback("turn_missing", "up", None)
    assert store.feedback_rows() == []


@pytest.mark.parametrize("rating", ["meh", "UP", "", "thumbs_up"])
def test_feedback_rating_is_validated(store: ConversationStore, rating: str) -> None:
    store.save_turn("conv_a", "ivig-ms", make_turn(1))
    with pytest.raises(InvalidRequest, match="rating"):
        store.add_feedback("turn_1", rating, None)
    assert store.feedback_rows() == []


def test_a_conversation_is_found_only_by_its_owner(store: ConversationStore) -> None:
    store.save_turn("conv_k", "ivig-ms", make_turn(1), owner="key:key_a")
    store.save_turn("conv_k", "ivig-ms", make_turn(2), owner="key:key_b")  # owner is kept
    store.save_turn("conv_n", "ivig-ms", make_turn(3), owner="anonymous")
    assert len(store.get("conv_k", owner="key:key_a").turns) == 2
    assert len(store.get("conv_k").turns) == 2  # no owner given (CLI): not checked
    for other in ("key:key_b", "anonymous"):
        with pytest.raises(ConversationNotFound):
            store.get("conv_k", owner=other)
        with pytest.raises(TurnNotFound):
            store.add_feedback("turn_1", "up", None, owner=other)
    with pytest.raises(ConversationNotFound):
        store.get("conv_n", owner="key:key_a")
    assert store.add_feedback("turn_1", "up", None, owner="key:key_a")["turn_id"] == "turn_1"
    assert store.add_feedback("turn_3", "up", None, owner="anonymous")["turn_id"] == "turn_3"


def test_feedback_per_turn_is_capped(store: ConversationStore) -> None:
    store.save_turn("conv_a", "ivig-ms", make_turn(1))
    store.add_feedback("turn_1", "up", None, max_per_turn=2)
    store.add_feedback("turn_1", "down", None, max_per_turn=2)
    with pytest.raises(FeedbackLimit):
        store.add_feedback("turn_1", "up", None, max_per_turn=2)
    assert len(store.feedback_rows()) == 2


def test_delete_removes_turns_and_feedback_for_the_owner_only(
    store: ConversationStore,
) -> None:
    store.save_turn("conv_a", "ivig-ms", make_turn(1), owner="key:key_a")
    store.save_turn("conv_b", "ivig-ms", make_turn(2), owner="key:key_a")
    store.add_feedback("turn_1", "up", "thanks")
    with pytest.raises(ConversationNotFound):
        store.delete("conv_a", owner="anonymous")
    store.delete("conv_a", owner="key:key_a")
    with pytest.raises(ConversationNotFound):
        store.get("conv_a")
    with pytest.raises(ConversationNotFound):
        store.delete("conv_a", owner="key:key_a")
    with pytest.raises(TurnNotFound):
        store.add_feedback("turn_1", "up", None)
    assert store.feedback_rows() == []
    assert [t.turn_id for t in store.get("conv_b").turns] == ["turn_2"]  # the other one stays
