"""enforce_disclaimer: every answer ends with its audience's disclaimer, exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivig_chat.corpus import Document, load_corpus
from ivig_chat.disclaimer import SEPARATOR, disclaimer_for, enforce_disclaimer

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
DISCLAIMER = "This is not medical advice. Talk to your doctor."


def check(answer: str, disclaimer: str = DISCLAIMER) -> None:
    assert answer.endswith(disclaimer)
    assert answer.count(disclaimer) == 1
    assert "---\n\n---" not in answer


def test_plain_body_gets_a_rule_and_the_disclaimer() -> None:
    answer = enforce_disclaimer("IVIG reduced relapses. [1]", DISCLAIMER)
    assert answer == "IVIG reduced relapses. [1]" + SEPARATOR + DISCLAIMER
    assert SEPARATOR == "\n\n---\n\n"
    check(answer)


@pytest.mark.parametrize(
    "body",
    [
        f"IVIG reduced relapses. [1]\n\n{DISCLAIMER}",  # already at the end, without a rule
        f"IVIG reduced relapses. [1]{SEPARATOR}{DISCLAIMER}",  # already enforced once
        f"{DISCLAIMER}\n\nIVIG reduced relapses. [1]",  # at the start
        f"IVIG {DISCLAIMER} reduced relapses. [1]",  # in the middle
        f"IVIG reduced relapses. [1]{SEPARATOR}{DISCLAIMER}{SEPARATOR}{DISCLAIMER}",  # twice
    ],
)
def test_a_body_holding_the_disclaimer_still_has_it_once(body: str) -> None:
    answer = enforce_disclaimer(body, DISCLAIMER)
    check(answer)
    assert "IVIG" in answer and "reduced relapses. [1]" in answer


def test_enforcing_twice_changes_nothing() -> None:
    once = enforce_disclaimer("IVIG reduced relapses. [1]", DISCLAIMER)
    assert enforce_disclaimer(once, DISCLAIMER) == once


@pytest.mark.parametrize(
    "body",
    [
        "IVIG reduced relapses. [1]\n\n---",
        "IVIG reduced relapses. [1]\n\n---\n\n",
        "IVIG reduced relapses. [1]\n---\n---\n",
        "IVIG reduced relapses. [1]   ---  ",
    ],
)
def test_a_trailing_rule_is_not_doubled(body: str) -> None:
    answer = enforce_disclaimer(body, DISCLAIMER)
    assert answer == "IVIG reduced relapses. [1]" + SEPARATOR + DISCLAIMER
    check(answer)


@pytest.mark.parametrize("body", ["", "   \n\n ", "---", f"\n{DISCLAIMER}\n", "\n---\n"])
def test_an_empty_body_is_just_the_disclaimer(body: str) -> None:
    assert enforce_disclaimer(body, DISCLAIMER) == DISCLAIMER


# --- the real article --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def article() -> Document:
    return load_corpus(CORPUS).article("ivig-ms")


def test_patient_and_clinician_disclaimers_differ(article: Document) -> None:
    patient = disclaimer_for(article, "patient")
    clinician = disclaimer_for(article, "clinician")
    assert patient == article.disclaimers["patient"]
    assert clinician == article.disclaimers["clinician"]
    assert patient != clinician
    assert "doctor or healthcare provider" in patient
    assert "emergency" in patient
    assert clinician.startswith("This information is intended for healthcare professionals.")
    assert "doctor or healthcare provider" not in clinician


def test_unknown_audience_gets_the_clinician_disclaimer(article: Document) -> None:
    assert disclaimer_for(article, "researcher") == article.disclaimers["clinician"]


@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_real_disclaimer_enforced(article: Document, audience: str) -> None:
    disclaimer = disclaimer_for(article, audience)
    answer = enforce_disclaimer(f"Some answer. [1]\n\n{disclaimer}\n\n---", disclaimer)
    assert answer == "Some answer. [1]" + SEPARATOR + disclaimer
    check(answer, disclaimer)
