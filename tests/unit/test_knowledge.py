"""knowledge/: the reviewed clinical data loads, is complete, and a bad file says what is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivig_chat.knowledge import KnowledgeError, load_knowledge
from ivig_chat.safety import RED_FLAG_CATEGORIES, RedFlag, urgent_guidance

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
GUIDANCE = load_knowledge(KNOWLEDGE).guidance


def test_the_shipped_knowledge_loads_and_names_its_sources() -> None:
    knowledge = load_knowledge(KNOWLEDGE)
    bank = knowledge.red_flags
    assert [c.id for c in bank.categories] == list(RED_FLAG_CATEGORIES)
    for category in bank.categories:
        assert len(category.source) > 20, category.id
        assert category.presentations or category.signs
    assert len(knowledge.triage_examples) >= 400
    labels = {e.label for e in knowledge.triage_examples}
    assert labels == {"emergency", "not_emergency"}
    assert knowledge.triage_thresholds.cross_validated["recall"] > 0


@pytest.mark.parametrize("category", [c for c in RED_FLAG_CATEGORIES if c != "collapse"])
def test_every_category_has_its_own_guidance(category: str) -> None:
    fallback = urgent_guidance(RedFlag("collapse", "x"), "patient", GUIDANCE)
    assert urgent_guidance(RedFlag(category, "x"), "patient", GUIDANCE) != fallback


def test_combinations_need_more_than_one_sign() -> None:
    bank = load_knowledge(KNOWLEDGE).red_flags
    meningism = bank.category("meningism")
    assert not meningism.combination_met({"headache"})
    assert meningism.combination_met({"headache", "neck_stiffness"})
    anaphylaxis = bank.category("anaphylaxis")
    assert not anaphylaxis.combination_met({"skin_or_swelling"})
    assert not anaphylaxis.combination_met({"airway_or_breathing", "circulation"})
    assert anaphylaxis.combination_met({"skin_or_swelling", "circulation"})


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    return folder


def test_an_entry_without_a_source_fails_with_file_and_entry(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "red_flags.yaml"
    text = path.read_text()
    start = text.index("    source:", text.index("- id: stroke"))
    end = text.index("    presentations:", start)
    path.write_text(text[:start] + text[end:])
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    message = str(caught.value)
    assert "red_flags.yaml" in message and "categories.3.source" in message


def test_an_unknown_combination_group_fails(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "red_flags.yaml"
    path.write_text(path.read_text().replace("- [skin_or_swelling]", "- [skin]"))
    with pytest.raises(KnowledgeError, match="unknown groups"):
        load_knowledge(folder)


def test_a_bad_example_line_names_the_line(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "triage_examples.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = '{"id": "x", "text": "hi", "label": "maybe", "category": "stroke"}'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(KnowledgeError, match=r"triage_examples.jsonl:3"):
        load_knowledge(folder)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "triage_thresholds.yaml").unlink()
    with pytest.raises(KnowledgeError, match="triage_thresholds.yaml: missing"):
        load_knowledge(folder)


def test_guidance_without_a_placeholder_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "guidance.yaml"
    path.write_text(path.read_text().replace("**{headline} Call", "**Call"))
    with pytest.raises(KnowledgeError, match=r"templates.patient lacks \{headline\}"):
        load_knowledge(folder)


def test_a_red_flag_category_without_guidance_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "guidance.yaml"
    text = path.read_text()
    start = text.index("  sepsis:")
    end = text.index("  collapse:", start)
    path.write_text(text[:start] + text[end:])
    with pytest.raises(KnowledgeError, match="no guidance for red-flag categories"):
        load_knowledge(folder)


def test_the_glossary_is_loaded_and_an_empty_gloss_is_refused(tmp_path: Path) -> None:
    assert "IVIG" in load_knowledge(KNOWLEDGE).glossary.terms
    folder = _copy(tmp_path)
    path = folder / "glossary.yaml"
    path.write_text(path.read_text().replace('"multiple sclerosis"', '""'))
    with pytest.raises(KnowledgeError, match=r"glossary.yaml.*'MS': the gloss is empty"):
        load_knowledge(folder)


def test_synonyms_are_loaded_and_an_upper_case_word_is_refused(tmp_path: Path) -> None:
    assert "renal" in load_knowledge(KNOWLEDGE).synonyms.terms["kidney"]
    folder = _copy(tmp_path)
    path = folder / "synonyms.yaml"
    path.write_text(path.read_text().replace('"kidney":', '"Kidney":'))
    with pytest.raises(KnowledgeError, match=r"synonyms.yaml.*'Kidney': write it in lower case"):
        load_knowledge(folder)
