"""The coverage stage's measures and model, without the embedding model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivig_chat.answer.coverage import FEATURES, evidence, probability
from ivig_chat.answer.scope import Coverage
from ivig_chat.knowledge import CoverageModel, KnowledgeError, load_knowledge

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def _model(bias: float = 0.0, **weights: float) -> CoverageModel:
    n = len(FEATURES)
    return CoverageModel.model_validate(
        {
            "schema": "coverage_model/1",
            "features": list(FEATURES),
            "weights": [weights.get(f, 0.0) for f in FEATURES],
            "bias": bias,
            "mean": [0.0] * n,
            "scale": [1.0] * n,
            "threshold": 0.5,
            "chosen_by": "a test's own weights",
        }
    )


def _coverage(unknown: tuple[str, ...] = ()) -> Coverage:
    return Coverage(("ivig", *unknown), unknown, (), {}, ())


def test_evidence_weighs_unknown_words_by_meaning() -> None:
    found = evidence(_coverage(("copay",)), True, 0.6, 0.5, 0.3, ["copay"], [0.4], [0.3])
    assert found.values["unknown_words"] == 1
    assert found.values["max_weight"] == pytest.approx(0.3)
    assert found.values["min_nearness"] == pytest.approx(0.4)
    assert found.values["weighted_strangeness"] == pytest.approx(0.3 * 0.6)
    assert found.unknown == ("copay",)
    assert found.vector().shape == (len(FEATURES),)


def test_heaviest_unknown_word_comes_first() -> None:
    found = evidence(
        _coverage(("a", "b")), False, 0.5, 0.5, 0.2, ["a", "b"], [0.5, 0.5], [0.1, 0.4]
    )
    assert found.unknown == ("b", "a")


def test_no_unknown_words_give_neutral_measures() -> None:
    found = evidence(_coverage(), True, 0.7, 0.6, 0.5, [], [], [])
    assert found.values["unknown_words"] == 0
    assert found.values["max_weight"] == 0
    assert found.values["min_nearness"] == 1.0


def test_probability_follows_the_weights() -> None:
    close = evidence(_coverage(), True, 0.9, 0.8, 0.6, [], [], [])
    far = evidence(_coverage(), True, 0.1, 0.1, 0.0, [], [], [])
    model = _model(bias=-2.0, top_dense=4.0)
    assert probability(model, close) > 0.5 > probability(model, far)
    assert probability(model, close) == pytest.approx(1 / (1 + np.exp(-1.6)))


def test_the_shipped_model_matches_the_features_and_was_cross_validated() -> None:
    model = load_knowledge(KNOWLEDGE).coverage_model
    assert model is not None
    assert tuple(model.features) == FEATURES
    figures = model.cross_validated
    assert figures["questions"] >= 300
    assert 0 <= figures["answerable_abstained"] <= 1


def test_a_model_with_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    import json
    import shutil

    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    path = folder / "coverage_model.yaml"
    data = json.loads(
        "\n".join(line for line in path.read_text().splitlines() if not line.startswith("#"))
    )
    data["weights"] = data["weights"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(KnowledgeError, match="coverage_model.yaml.*one number per feature"):
        load_knowledge(folder)


@pytest.mark.parametrize(
    ("question", "understood"),
    [
        ("which patients might be offered it?", "which patients might be offered IVIG?"),
        ("is this treatment safe in pregnancy?", "is IVIG safe in pregnancy?"),
        ("what dose was used in the trials?", "what dose was used in the trials?"),
        ("Is it listed in guidelines?", "Is IVIG listed in guidelines?"),
        ("I go shivery during my infusions", "I go shivery during my IVIG infusions"),
        ("is the drip safe?", "is the IVIG drip safe?"),
    ],
)
def test_about_subject_reads_it_as_the_articles_subject(question: str, understood: str) -> None:
    from ivig_chat.answer.extractive import about_subject

    assert about_subject(question, "IVIG") == understood


# --- typo repair ------------------------------------------------------------------------------


def test_a_slip_is_repaired_but_a_rare_real_word_is_left_alone() -> None:
    from ivig_chat.answer.scope import Vocabulary

    vocabulary = Vocabulary(
        ["Infusion reactions affect 1-15%. Relapses were fewer. Effects were tiny."],
        subject=["IVIG"],
    )
    assert vocabulary.correct("relapes") == "relapses"
    assert vocabulary.correct("efects") == "effects"
    assert vocabulary.correct("infusionn") == "infusion"
    assert vocabulary.correct("tingly") is None  # two letters from "tiny": a different word
