"""The SQLite conversation store (in a temp folder) and deterministic follow-up condensing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import make_turn
from ivig_chat.conversation import (
    SQLiteConversationStore,
    condense,
    is_follow_up,
    study_acronyms,
    topic_of,
    unwrap,
)
from ivig_chat.errors import ConversationNotFound

WRAP = "(follow-up to:"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "conversations.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[SQLiteConversationStore]:
    s = SQLiteConversationStore(db_path)
    yield s
    s.close()


# --- store -----------------------------------------------------------------------------------


def test_the_sqlite_file_and_its_folders_are_created(
    store: SQLiteConversationStore, db_path: Path
) -> None:
    assert db_path.is_file()  # parent folders are created


def test_a_turn_id_is_stored_once(store: SQLiteConversationStore) -> None:
    store.save_turn("conv_a", "ivig-ms", make_turn(1))
    with pytest.raises(sqlite3.IntegrityError):
        store.save_turn("conv_a", "ivig-ms", make_turn(1))
    assert len(store.get("conv_a").turns) == 1  # the failed insert was rolled back


def test_data_survives_closing_and_reopening(db_path: Path) -> None:
    first = SQLiteConversationStore(db_path)
    first.save_turn("conv_a", "ivig-ms", make_turn(1))
    first.save_turn("conv_a", "ivig-ms", make_turn(2))
    first.add_feedback("turn_2", "down", "too long")
    first.close()

    reopened = SQLiteConversationStore(db_path)
    try:
        turns = reopened.get("conv_a").turns
        assert [t.turn_id for t in turns] == ["turn_1", "turn_2"]
        assert turns[1] == make_turn(2)
        assert [(r["turn_id"], r["comment"]) for r in reopened.feedback_rows()] == [
            ("turn_2", "too long")
        ]
        reopened.save_turn("conv_a", "ivig-ms", make_turn(3))  # appends after the old turns
        assert [t.turn_id for t in reopened.get("conv_a").turns] == ["turn_1", "turn_2", "turn_3"]
    finally:
        reopened.close()


def test_a_database_from_before_owners_is_migrated(db_path: Path) -> None:
    """Conversations stored before API keys existed become anonymous ones."""
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as old:
        old.execute(
            "CREATE TABLE conversations (id TEXT PRIMARY KEY, article_id TEXT NOT NULL, "
            "audience TEXT NOT NULL, created_at TEXT NOT NULL)"
        )
        old.execute("INSERT INTO conversations VALUES ('conv_old', 'ivig-ms', 'clinician', 'x')")
    store = SQLiteConversationStore(db_path)
    try:
        assert store.get("conv_old", owner="anonymous").id == "conv_old"
        with pytest.raises(ConversationNotFound):
            store.get("conv_old", owner="key:key_a")
    finally:
        store.close()


def test_purge_deletes_what_started_before_the_cut_off(
    store: SQLiteConversationStore, db_path: Path
) -> None:
    secret = "does my neighbour Jane Roe at 555-0100 need IVIG?"
    store.save_turn("conv_old", "ivig-ms", make_turn(1, question=secret))
    store.save_turn("conv_old", "ivig-ms", make_turn(2, created_at="2025-03-01T00:00:00.000+00:00"))
    store.add_feedback("turn_1", "down", secret)
    store.save_turn("conv_new", "ivig-ms", make_turn(3, created_at="2025-02-01T00:00:00.000+00:00"))
    # conv_old started on 2025-01-01 (its later turn does not keep it); conv_new on 2025-02-01
    assert store.purge("2025-01-15T00:00:00.000+00:00") == 1
    with pytest.raises(ConversationNotFound):
        store.get("conv_old")
    assert [t.turn_id for t in store.get("conv_new").turns] == ["turn_3"]
    assert store.feedback_rows() == []
    assert store.purge("2025-01-15T00:00:00.000+00:00") == 0
    # Not merely unlinked: the text is gone from the database file and its write-ahead log.
    files = [p for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
    assert all(secret.encode() not in p.read_bytes() for p in files)


# --- condense --------------------------------------------------------------------------------

RRMS = "Does IVIG reduce relapse rates in RRMS?"
AIMS = "What did the AIMS trial show?"


@pytest.mark.parametrize(
    "question",
    [
        "Does IVIG help in secondary progressive MS?",
        "What IVIG doses were used in MS studies?",
        "What did the meta-analysis of IVIG trials in relapsing-remitting MS find?",
        "Is IVIG in the MS treatment guidelines?",
    ],
)
def test_self_contained_questions_are_unchanged(question: str) -> None:
    assert condense(question, [RRMS]) == question
    assert condense(question, []) == question


def test_no_history_is_never_a_follow_up() -> None:
    assert is_follow_up("and in progressive MS?", has_history=False) is False
    assert is_follow_up("how many patients were in it?", has_history=False) is False
    assert condense("and in progressive MS?", []) == "and in progressive MS?"
    assert condense("  how many   patients were in it? ", []) == "how many patients were in it?"


def test_follow_ups_with_history() -> None:
    assert is_follow_up("and in progressive MS?", has_history=True) is True
    assert is_follow_up("how many patients were in it?", has_history=True) is True
    assert is_follow_up("Does IVIG help in secondary progressive MS?", has_history=True) is False


def test_changed_population_replaces_the_old_one() -> None:
    standalone = condense("and in progressive MS?", [RRMS])
    assert standalone == "Does IVIG reduce relapse rates in progressive MS?"
    assert "progressive" in standalone.lower()
    assert "rrms" not in standalone.lower()
    assert "relapsing" not in standalone.lower()


def test_pronoun_is_replaced_by_the_named_study() -> None:
    standalone = condense("how many patients were in it?", [AIMS])
    assert "AIMS" in standalone
    assert standalone == "how many patients were in the AIMS trial?"
    assert WRAP not in standalone


def test_the_study_is_found_further_back_in_history() -> None:
    history = [AIMS, "Was it randomised? (follow-up to: What did the AIMS trial show?)"]
    assert "AIMS" in condense("what dose did they use?", history)


def test_nested_follow_ups_do_not_nest() -> None:
    history = ["Is there evidence for IVIG in clinically isolated syndrome?"]
    second = condense("was it well tolerated?", history)
    assert second == (
        "was it well tolerated? (follow-up to: "
        "Is there evidence for IVIG in clinically isolated syndrome?)"
    )
    history.append(second)
    third = condense("how long was treatment?", history)
    assert third.count(WRAP) == 1
    assert third == (
        "how long was treatment? (follow-up to: "
        "Is there evidence for IVIG in clinically isolated syndrome?)"
    )
    history.append(third)
    fourth = condense("and why?", history)
    assert fourth.count(WRAP) == 1
    assert unwrap(fourth) == "Is there evidence for IVIG in clinically isolated syndrome?"


# --- the study a conversation is about -----------------------------------------------------

ACRONYMS = study_acronyms(
    [
        "In the AIMS trial (Fazekas 1997), the relapse rate fell.",
        "The ESIMS trial (Hommes 2004) found no benefit; the RRMS trial and the IVIG trial ...",
        "The PRIVIG trial (Fazekas 2008) compared two doses.",
    ],
    exclude=["IVIG"],
)
ESIMS_LEAD = "In the ESIMS trial (Hommes 2004), IVIG gave no benefit on time to progression."


def test_study_acronyms_come_from_the_corpus_without_populations_or_the_subject() -> None:
    assert {"AIMS", "ESIMS", "PRIVIG"} == ACRONYMS


def test_a_turn_is_about_the_study_its_question_names_else_the_one_its_answer_led_with() -> None:
    assert topic_of("what did PRIVIG find?", None, ACRONYMS) == "the PRIVIG trial"
    assert topic_of("tell me about the SPMS trial", ESIMS_LEAD, ACRONYMS) == "the ESIMS trial"
    assert topic_of("does IVIG help in SPMS?", "IVIG is costly.", ACRONYMS) is None
    many = "The AIMS trial, the ESIMS trial and the PRIVIG trial differed."
    assert topic_of("which trials were there?", many, ACRONYMS) is None


@pytest.mark.parametrize(
    "follow_up",
    ["and the dose?", "relapse rates in each arm?", "n per arm?", "how big was it?"],
)
def test_a_short_follow_up_is_asked_about_the_study_the_answer_was_about(follow_up: str) -> None:
    standalone = condense(
        follow_up, ["tell me about the SPMS trial"], ["the ESIMS trial"], acronyms=ACRONYMS
    )
    assert "ESIMS" in standalone
    assert WRAP not in standalone


def test_going_back_to_the_first_one_points_at_the_first_turn() -> None:
    history = ["What did the AIMS trial show?", "And the PRIVIG trial?"]
    topics = ["the AIMS trial", "the PRIVIG trial"]
    standalone = condense(
        "going back to the first one, what was the relapse rate?",
        history,
        topics,
        acronyms=ACRONYMS,
    )
    assert "AIMS" in standalone and "PRIVIG" not in standalone
    assert standalone.lower().startswith("what was the relapse rate")


def test_a_question_that_describes_its_study_stands_on_its_own() -> None:
    question = "what did the study comparing two doses after delivery find?"
    assert condense(question, ["Can IVIG be used in pregnancy?"], [None]) == question
    assert condense(question, ["Can IVIG be used in pregnancy?"], ["Haas and Hommes 2007"]) == (
        question
    )


def test_a_new_question_naming_the_subject_is_not_tied_to_the_last_study() -> None:
    question = "Is IVIG expensive?"
    assert (
        condense(
            question,
            ["What did AIMS show?"],
            ["the AIMS trial"],
            subject=["IVIG"],
            acronyms=ACRONYMS,
        )
        == question
    )


@pytest.mark.parametrize("follow_up", ["so is there a recommended one?", "is it standard?"])
def test_a_follow_up_to_a_question_about_no_study_leans_on_the_question(follow_up: str) -> None:
    # The answer led with a review, but the user asked about doses, not about that review.
    standalone = condense(
        follow_up,
        ["what dose is normally used for IVIG in MS?"],
        ["Storch-Hagenlocher 2009"],
        acronyms=ACRONYMS,
    )
    assert "Storch-Hagenlocher" not in standalone
    assert "dose" in standalone


def test_study_keys_name_a_study_by_acronym_or_author_and_year() -> None:
    from ivig_chat.conversation.condense import study_keys

    assert study_keys("The PRIVIG trial (Fazekas 2008) was negative.", ACRONYMS) == {
        "privig",
        "fazekas 2008",
    }
    assert study_keys("n per arm in the PRIVIG trial?", ACRONYMS) == {"privig"}
    assert study_keys("In the AIMS trial (Fazekas 1997), ...", ACRONYMS) & {"fazekas 2008"} == set()
    assert study_keys("Does IVIG help in SPMS?", ACRONYMS) == frozenset()
