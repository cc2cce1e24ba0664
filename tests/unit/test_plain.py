"""Patient glosses: every abbreviation explained once, never twice, never inside a definition."""

from __future__ import annotations

from helpers import KNOWLEDGE
from ivig_chat.answer.plain import gloss as gloss_with
from ivig_chat.knowledge import load_knowledge

GLOSSARY = load_knowledge(KNOWLEDGE).glossary.terms


def gloss(text: str) -> str:
    """The reviewed glossary (knowledge/glossary.yaml), as the service applies it."""
    return gloss_with(text, GLOSSARY)


def test_first_use_is_explained_once() -> None:
    text = gloss("IVIG in RRMS. More IVIG in RRMS.")
    assert text.count("(intravenous immunoglobulin") == 1
    assert text.count("(relapsing-remitting MS") == 1


def test_a_definition_in_parentheses_is_left_alone() -> None:
    text = gloss("secondary progressive (SP) or primary progressive (PP) MS")
    assert "(SP)" in text and "(PP)" in text


def test_a_quoted_title_is_cited_not_explained() -> None:
    text = gloss("The article, \u201cCan IVIG improve MS lesions?\u201d, covers it.")
    assert "\u201cCan IVIG improve MS lesions?\u201d" in text


def test_a_term_already_spelled_out_before_it_is_not_explained_again() -> None:
    text = gloss("In relapsing-remitting MS, IVIG helped RRMS patients.")
    assert "RRMS (" not in text


def test_a_term_spelled_out_only_later_is_still_explained_at_first_use() -> None:
    text = gloss("IVIG in RRMS. Later: relapsing-remitting MS (RRMS).")
    assert "RRMS (relapsing-remitting MS" in text


def test_the_terms_come_from_the_glossary_given() -> None:
    assert gloss_with("IVIG in RRMS.", {"RRMS": "a form of MS"}) == "IVIG in RRMS (a form of MS)."
    assert gloss_with("IVIG in RRMS.", {}) == "IVIG in RRMS."
