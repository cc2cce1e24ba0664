"""Clinical knowledge a clinician reviews, loaded from knowledge/*.yaml and validated once.

A bad file fails start-up (`ingest`, `serve`, `eval`) with the file, the entry and the problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import IvigChatError


class KnowledgeError(IvigChatError):
    """A knowledge file is missing or does not follow its schema."""

    code = "knowledge_error"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_M = TypeVar("_M", bound=BaseModel)


def _unique(ids: list[str], what: str) -> None:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{what} ids must be unique: {', '.join(repeated)} repeated")


def _texts(items: list[str], where: str) -> list[str]:
    cleaned = [" ".join(str(t).split()) for t in items]
    if any(not t for t in cleaned):
        raise ValueError(f"{where}: empty text")
    if len(set(t.lower() for t in cleaned)) != len(cleaned):
        raise ValueError(f"{where}: the same text is listed twice")
    return cleaned


class RedFlagCategory(_Strict):
    """One emergency: whole presentations, or sign groups with a combination rule."""

    id: str = Field(pattern=r"^[a-z_]+$")
    name: str = Field(min_length=3)
    source: str = Field(min_length=10)
    presentations: list[str] = Field(default_factory=list)
    signs: dict[str, list[str]] = Field(default_factory=dict)
    at_least: int | None = Field(default=None, ge=2)
    all_of: list[list[str]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> RedFlagCategory:
        _texts(self.presentations, f"category {self.id}: presentations")
        for group, texts in self.signs.items():
            if not texts:
                raise ValueError(f"category {self.id}: sign group {group!r} is empty")
            _texts(texts, f"category {self.id}: sign group {group!r}")
        if not self.presentations and not self.signs:
            raise ValueError(f"category {self.id}: needs presentations or signs")
        if self.signs and (self.at_least is None) == (not self.all_of):
            raise ValueError(f"category {self.id}: signs need exactly one of at_least or all_of")
        if self.at_least is not None and self.at_least > len(self.signs):
            raise ValueError(f"category {self.id}: at_least exceeds the number of sign groups")
        for alternatives in self.all_of:
            unknown = [g for g in alternatives if g not in self.signs]
            if not alternatives or unknown:
                raise ValueError(f"category {self.id}: all_of names unknown groups {unknown}")
        return self

    def combination_met(self, groups: set[str]) -> bool:
        """Whether the sign groups found make this combination an emergency."""
        if self.at_least is not None:
            return len(groups & set(self.signs)) >= self.at_least
        return all(any(g in groups for g in alternatives) for alternatives in self.all_of)


class NotEmergencies(_Strict):
    source: str = Field(min_length=10)
    examples: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> NotEmergencies:
        _texts(self.examples, "not_emergencies")
        return self


class RedFlagBank(_Strict):
    """knowledge/red_flags.yaml."""

    schema_: str = Field(alias="schema", pattern=r"^red_flags/1$")
    categories: list[RedFlagCategory] = Field(min_length=1)
    not_emergencies: NotEmergencies

    @model_validator(mode="after")
    def _unique_ids(self) -> RedFlagBank:
        _unique([c.id for c in self.categories], "category")
        return self

    def category(self, category_id: str) -> RedFlagCategory:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(category_id)


class TriageThresholds(_Strict):
    """knowledge/triage_thresholds.yaml: chosen by cross-validation, with the figures behind."""

    schema_: str = Field(alias="schema", pattern=r"^triage_thresholds/1$")
    probability: float = Field(gt=0.0, lt=1.0)  # classifier probability that flags a message
    regularisation: float = Field(gt=0.0)  # inverse regularisation strength (C) of the fit
    nearest: float = Field(ge=0.0, le=1.0)  # a message this far from every presentation is not one
    presentation: float = Field(ge=0.0, le=1.01)  # this close to one presentation flags alone
    self_harm: float = Field(ge=0.0, le=1.01)  # the self-harm detector's threshold (1.01: off)
    sign: float = Field(ge=0.0, le=1.0)  # cosine at which a clause shows a combination's sign
    chosen_by: str = Field(min_length=10)
    cross_validated: dict[str, Any] = Field(default_factory=dict)


class TriageExample(_Strict):
    """One labelled message of knowledge/triage_examples.jsonl."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    label: Literal["emergency", "not_emergency"]
    category: str = Field(pattern=r"^[a-z_]+$")
    voice: str = ""


class ManipulationExample(_Strict):
    """One labelled message of knowledge/manipulation_examples.jsonl."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    label: Literal[
        "prompt_extraction", "instruction_override", "disclaimer_removal", "treatment_order", "none"
    ]
    framing: str = ""
    voice: str = ""


class ManipulationThresholds(_Strict):
    """knowledge/manipulation_thresholds.yaml: chosen by cross-validation, figures behind."""

    schema_: str = Field(alias="schema", pattern=r"^manipulation_thresholds/1$")
    probability: float = Field(
        ge=0.0, le=1.01
    )  # a sentence this likely an attempt is one (1.01: off)
    regularisation: float = Field(gt=0.0)
    chosen_by: str = Field(min_length=10)
    cross_validated: dict[str, Any] = Field(default_factory=dict)
    rules_only: dict[str, Any] = Field(default_factory=dict)


class CoverageModel(_Strict):
    """knowledge/coverage_model.yaml: written by scripts/calibrate_coverage.py, not by hand."""

    schema_: str = Field(alias="schema", pattern=r"^coverage_model/1$")
    features: list[str] = Field(min_length=1)
    weights: list[float]
    bias: float
    mean: list[float]
    scale: list[float]
    threshold: float = Field(gt=0.0, lt=1.0)
    chosen_by: str = Field(min_length=10)
    cross_validated: dict[str, Any] = Field(default_factory=dict)
    rules_on_the_same_questions: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shapes(self) -> CoverageModel:
        n = len(self.features)
        if not (len(self.weights) == len(self.mean) == len(self.scale) == n):
            raise ValueError("weights, mean and scale need one number per feature")
        if any(s <= 0 for s in self.scale):
            raise ValueError("scale must be positive")
        return self


class Population(_Strict):
    """A patient group a question can name; see knowledge/populations.yaml."""

    id: str = Field(pattern=r"^[a-z_]+$")
    name: str = Field(min_length=3)
    source: str = Field(min_length=10)
    terms: list[str] = Field(min_length=1)
    ages_below: int | None = Field(default=None, ge=1, le=120)
    ages_above: int | None = Field(default=None, ge=1, le=120)


class Populations(_Strict):
    schema_: str = Field(alias="schema", pattern=r"^populations/1$")
    populations: list[Population] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Populations:
        _unique([p.id for p in self.populations], "population")
        return self


class LabelledQuestion(_Strict):
    """One line of knowledge/questions.jsonl: an ordinary question (never an emergency), labelled
    answerable or out of scope for the article's corpus."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    label: Literal["answerable", "out_of_scope"]
    kind: str = ""
    voice: str = ""
    why: str = ""


class CategoryGuidance(_Strict):
    patient_headline: str = Field(min_length=5)
    patient_tip: str = Field(min_length=5)
    clinician_label: str = Field(min_length=3)
    clinician_tip: str = Field(min_length=5)


class AudienceTexts(_Strict):
    patient: str = Field(min_length=5)
    clinician: str = Field(min_length=5)


class Guidance(_Strict):
    """knowledge/guidance.yaml: emergency guidance per category and audience."""

    schema_: str = Field(alias="schema", pattern=r"^guidance/1$")
    emergency_numbers: AudienceTexts
    templates: AudienceTexts
    self_harm: AudienceTexts
    fallback: str
    categories: dict[str, CategoryGuidance] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> Guidance:
        if self.fallback not in self.categories:
            raise ValueError(f"fallback {self.fallback!r} has no guidance entry")
        for name, needs in (
            ("templates.patient", ("{headline}", "{numbers}", "{tip}")),
            ("templates.clinician", ("{label}", "{numbers}", "{tip}")),
            ("self_harm.patient", ("{numbers}",)),
            ("self_harm.clinician", ("{numbers}",)),
        ):
            group, audience = name.split(".")
            text = getattr(getattr(self, group), audience)
            missing = [n for n in needs if n not in text]
            if missing:
                raise ValueError(f"{name} lacks {', '.join(missing)}")
        return self


class Glossary(_Strict):
    """knowledge/glossary.yaml: plain-language glosses of abbreviations for patients."""

    schema_: str = Field(alias="schema", pattern=r"^glossary/1$")
    source: str = Field(min_length=10)
    terms: dict[str, str] = Field(min_length=1)

    @model_validator(mode="after")
    def _plain(self) -> Glossary:
        for term, text in self.terms.items():
            if not term.strip() or term != term.strip():
                raise ValueError(f"term {term!r}: empty or padded with spaces")
            if len(text.strip()) < 2:
                raise ValueError(f"term {term!r}: the gloss is empty")
        return self


class Synonyms(_Strict):
    """knowledge/synonyms.yaml: question words -> the corpus words they also match."""

    schema_: str = Field(alias="schema", pattern=r"^synonyms/1$")
    source: str = Field(min_length=10)
    terms: dict[str, tuple[str, ...]] = Field(min_length=1)

    @model_validator(mode="after")
    def _words(self) -> Synonyms:
        for word, others in self.terms.items():
            if word != word.lower() or not word.strip():
                raise ValueError(f"word {word!r}: write it in lower case")
            if not others or any(not o.strip() or o != o.lower() for o in others):
                raise ValueError(f"word {word!r}: list lower-case words it also matches")
        return self


class AnyOf(_Strict):
    """Alternatives of one pattern, written one a line for reading."""

    any_of: list[str] = Field(min_length=2)


Pattern = str | AnyOf


def pattern_text(entry: Pattern) -> str:
    return entry if isinstance(entry, str) else "|".join(entry.any_of)


class Fragment(_Strict):
    """A named piece of wording that patterns use as {name}: words, a regex, or words that must
    not follow (a negative lookahead)."""

    about: str = ""
    words: list[str] = Field(default_factory=list)
    patterns: list[Pattern] = Field(default_factory=list)
    regex: str | None = None
    not_followed_by: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_form(self) -> Fragment:
        forms = [
            bool(self.words or self.patterns),
            self.regex is not None,
            bool(self.not_followed_by),
        ]
        if sum(forms) != 1:
            raise ValueError("give exactly one of words/patterns, regex or not_followed_by")
        return self

    def to_regex(self, earlier: dict[str, str]) -> str:
        from .safety import wording

        if self.regex is not None:
            return wording.expand(self.regex, earlier)
        if self.not_followed_by:
            words = wording.normalised_words(self.not_followed_by)
            return r"(?!\s*" + wording.alternation([wording.phrase(w) for w in words]) + ")"
        words = wording.normalised_words(self.words)
        patterns = [wording.expand(pattern_text(p), earlier) for p in self.patterns]
        return wording.alternation([wording.phrase(w) for w in words] + patterns)


def _fragment_regexes(fragments: dict[str, Fragment]) -> dict[str, str]:
    """Each fragment's regex, in file order; a fragment may use the ones above it."""
    out: dict[str, str] = {}
    for name, fragment in fragments.items():
        _compiles(f"fragment {name}", fragment.to_regex, out)
        out[name] = fragment.to_regex(out)
    return out


class WordList(_Strict):
    """Plain words or phrases (matched as whole words) and, where words cannot say it, patterns."""

    about: str = ""
    words: list[str] = Field(default_factory=list)
    patterns: list[Pattern] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> WordList:
        if not self.words and not self.patterns:
            raise ValueError("needs words or patterns")
        return self

    def to_regex(self, fragments: dict[str, str]) -> str:
        from .safety import wording

        return wording.bounded_words(
            wording.normalised_words(self.words),
            [pattern_text(p) for p in self.patterns],
            fragments,
        )


class Words(_Strict):
    """Plain words only; the detector decides where they must stand."""

    about: str = ""
    words: list[str] = Field(min_length=1)

    def to_regex(self) -> str:
        from .safety import wording

        return wording.alternation(
            [wording.phrase(w) for w in wording.normalised_words(self.words)]
        )


class RedFlagVocabularies(_Strict):
    """The cues around a symptom that the red-flag grammar looks for (see red_flags.py)."""

    person: WordList
    strong_event: WordList
    weak_event: WordList
    hypothetical: WordList
    hypothetical_exempt: WordList
    generic: WordList
    eligibility: WordList
    conditional: WordList
    acute: WordList
    acute_in_match: WordList
    background: WordList
    background_override: WordList
    background_override_in_clause: WordList
    negation: WordList
    negation_noise: WordList
    scope_break: WordList
    what_to_do: WordList
    question_start: Words
    query_words: WordList


SymptomKind = Literal["standalone", "plain", "acute", "condition"]


class RuleBlock(_Strict):
    kind: SymptomKind
    patterns: list[Pattern] = Field(min_length=1)


class Denial(_Strict):
    """The one denial honoured for a category that is otherwise never dismissed."""

    words: list[str] = Field(min_length=1)
    applies_to: str = Field(min_length=3)


class Replaces(_Strict):
    category: str
    when_evidence_contains: str = Field(min_length=3)


class RuleCategory(_Strict):
    """One red-flag category's rules: symptom patterns by kind, or a combination of signs."""

    id: str = Field(pattern=r"^[a-z_]+$")
    source: str = Field(min_length=10)
    never_dismissed: bool = False
    denial: Denial | None = None
    rules: list[RuleBlock] = Field(default_factory=list)
    signs: dict[str, WordList] = Field(default_factory=dict)
    at_least: int | None = Field(default=None, ge=2)
    one_of: list[str] = Field(default_factory=list)
    replaces: Replaces | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RuleCategory:
        if not self.rules and not self.signs:
            raise ValueError(f"category {self.id}: needs rules or signs")
        if self.signs and (self.at_least is None or self.at_least > len(self.signs)):
            raise ValueError(f"category {self.id}: signs need at_least (at most one per sign)")
        unknown = [s for s in self.one_of if s not in self.signs]
        if unknown:
            raise ValueError(f"category {self.id}: one_of names unknown signs {unknown}")
        if self.denial is not None and not self.never_dismissed:
            raise ValueError(f"category {self.id}: a denial only applies with never_dismissed")
        return self


class ChooseRule(_Strict):
    """When several categories match: pick `category` if these conditions hold."""

    category: str
    why: str = ""
    found: list[str] = Field(min_length=1)
    with_any_of: list[str] = Field(default_factory=list)
    without_any_of: list[str] = Field(default_factory=list)
    text_matches: WordList | None = None
    text_lacks: WordList | None = None


def _compiles(where: str, build: Callable[..., str], *args: Any) -> None:
    """Build one regex from the file and compile it; a problem names `where`."""
    from .safety import wording

    try:
        wording.checked(build(*args))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


class RedFlagRules(_Strict):
    """knowledge/red_flag_rules.yaml: the deterministic floor of triage."""

    schema_: str = Field(alias="schema", pattern=r"^red_flag_rules/1$")
    fragments: dict[str, Fragment] = Field(default_factory=dict)
    vocabularies: RedFlagVocabularies
    categories: list[RuleCategory] = Field(min_length=1)
    choose: list[ChooseRule] = Field(default_factory=list)
    precedence: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> RedFlagRules:
        ids = [c.id for c in self.categories]
        _unique(ids, "category")
        known = set(ids)
        for n, rule in enumerate(self.choose, 1):
            named = [rule.category, *rule.found, *rule.with_any_of, *rule.without_any_of]
            unknown = sorted({c for c in named if c not in known})
            if unknown:
                raise ValueError(f"choose rule {n}: unknown categories {unknown}")
        unknown = [c for c in self.precedence if c not in known]
        if unknown:
            raise ValueError(f"precedence: unknown categories {unknown}")
        always = {r.category for r in self.choose if r.found == [r.category] and _plain(r)}
        unranked = [c for c in ids if c not in self.precedence and c not in always]
        if unranked:
            raise ValueError(f"precedence: categories {unranked} are neither ranked nor chosen")
        for c in self.categories:
            if c.replaces is not None and c.replaces.category not in known:
                raise ValueError(f"category {c.id}: replaces unknown {c.replaces.category!r}")
        self.check_patterns()
        return self

    def fragment_regexes(self) -> dict[str, str]:
        return _fragment_regexes(self.fragments)

    def check_patterns(self) -> None:
        """Build and compile every regex once, so a bad one fails loading, named."""
        fragments = self.fragment_regexes()
        for name in RedFlagVocabularies.model_fields:
            vocabulary = getattr(self.vocabularies, name)
            if isinstance(vocabulary, Words):
                _compiles(f"vocabularies.{name}", vocabulary.to_regex)
            else:
                _compiles(f"vocabularies.{name}", vocabulary.to_regex, fragments)
        for c in self.categories:
            for b, block in enumerate(c.rules, 1):
                for p, pattern in enumerate(block.patterns, 1):
                    where = f"category {c.id}, rule {b} ({block.kind}), pattern {p}"
                    _compiles(where, _expand, pattern_text(pattern), fragments)
            for sign, words in c.signs.items():
                _compiles(f"category {c.id}, sign {sign}", words.to_regex, fragments)
        for n, rule in enumerate(self.choose, 1):
            for text in (rule.text_matches, rule.text_lacks):
                if text is not None:
                    _compiles(f"choose rule {n}", text.to_regex, fragments)


def _plain(rule: ChooseRule) -> bool:
    return not (rule.with_any_of or rule.without_any_of or rule.text_matches or rule.text_lacks)


def _expand(pattern: str, fragments: dict[str, str]) -> str:
    from .safety import wording

    return wording.expand(pattern, fragments)


class ManipulationCategory(_Strict):
    id: str = Field(pattern=r"^[a-z_]+$")
    source: str = Field(min_length=10)
    exempt_when_preceded_by: str | None = None
    patterns: list[Pattern] = Field(min_length=1)
    refusal: AudienceTexts


class ManipulationRules(_Strict):
    """knowledge/manipulation_rules.yaml: what gets a refusal, and the refusal texts."""

    schema_: str = Field(alias="schema", pattern=r"^manipulation_rules/1$")
    fragments: dict[str, Fragment] = Field(default_factory=dict)
    categories: list[ManipulationCategory] = Field(min_length=1)
    can_do: AudienceTexts
    fallback: str

    @model_validator(mode="after")
    def _valid(self) -> ManipulationRules:
        _unique([c.id for c in self.categories], "category")
        if self.fallback not in {c.id for c in self.categories}:
            raise ValueError(f"fallback {self.fallback!r} is not a category")
        fragments = self.fragment_regexes()
        for c in self.categories:
            for p, pattern in enumerate(c.patterns, 1):
                _compiles(
                    f"category {c.id}, pattern {p}", _expand, pattern_text(pattern), fragments
                )
            if c.exempt_when_preceded_by is not None:
                where = f"category {c.id}, exempt_when_preceded_by"
                _compiles(where, _expand, c.exempt_when_preceded_by, fragments)
        return self

    def fragment_regexes(self) -> dict[str, str]:
        return _fragment_regexes(self.fragments)


class AnswerFacet(_Strict):
    """One kind of answer: how people ask for it and what an answering sentence looks like."""

    id: str = Field(pattern=r"^[a-z_]+$")
    asks: list[str] = Field(min_length=3)
    answers: list[str] = Field(min_length=3)

    @model_validator(mode="after")
    def _clean(self) -> AnswerFacet:
        _texts(self.asks, f"facet {self.id} asks")
        _texts(self.answers, f"facet {self.id} answers")
        return self


class AnswerFacets(_Strict):
    """knowledge/answer_facets.yaml: the kinds of answer a question can ask for."""

    schema_: str = Field(alias="schema", pattern=r"^answer_facets/1$")
    facets: list[AnswerFacet] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids(self) -> AnswerFacets:
        _unique([f.id for f in self.facets], "facet")
        return self


def load_synonyms(folder: Path) -> Synonyms:
    """Only knowledge/synonyms.yaml (retrieval needs it before the rest is loaded)."""
    return validated(Synonyms, Path(folder) / "synonyms.yaml")  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Knowledge:
    """Everything loaded from the knowledge folder."""

    red_flags: RedFlagBank
    triage_thresholds: TriageThresholds
    triage_examples: tuple[TriageExample, ...]
    questions: tuple[LabelledQuestion, ...]
    coverage_model: CoverageModel | None  # None: coverage falls back to the lexical rules
    populations: Populations
    guidance: Guidance
    glossary: Glossary
    synonyms: Synonyms
    red_flag_rules: RedFlagRules
    manipulation_rules: ManipulationRules
    answer_facets: AnswerFacets
    manipulation_examples: tuple[ManipulationExample, ...]
    manipulation_thresholds: ManipulationThresholds


def _read(path: Path) -> Any:
    if not path.is_file():
        raise KnowledgeError(f"{path}: missing (the knowledge folder must hold it)")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path}: not valid YAML ({exc})") from exc


def validated(model: type[BaseModel], path: Path) -> Any:
    data = _read(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise KnowledgeError(f"{path}: {problems}") from exc


def load_jsonl_models(model: type[_M], path: Path) -> tuple[_M, ...]:
    """One validated object a line; errors name the file and line; ids must be unique."""
    if not path.is_file():
        raise KnowledgeError(f"{path}: missing (the knowledge folder must hold it)")
    out: list[_M] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = model.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise KnowledgeError(f"{path}:{number}: {exc}") from exc
        key = str(getattr(item, "id", number))
        if key in seen:
            raise KnowledgeError(f"{path}:{number}: duplicate id {key!r}")
        seen.add(key)
        out.append(item)
    return tuple(out)


def load_examples(path: Path, categories: set[str] | None = None) -> tuple[TriageExample, ...]:
    """Labelled triage messages; an emergency's category must be one of red_flags.yaml's."""
    examples = load_jsonl_models(TriageExample, path)
    for example in examples:
        if categories and example.label == "emergency" and example.category not in categories:
            raise KnowledgeError(
                f"{path}: example {example.id}: category {example.category!r} is not in "
                "red_flags.yaml"
            )
    return examples


def load_knowledge(folder: Path) -> Knowledge:
    """Read and validate every knowledge file; raise KnowledgeError naming what is wrong."""
    folder = Path(folder)
    red_flags: RedFlagBank = validated(RedFlagBank, folder / "red_flags.yaml")
    guidance: Guidance = validated(Guidance, folder / "guidance.yaml")
    unguided = [
        c.id
        for c in red_flags.categories
        if c.id != "self_harm" and c.id not in guidance.categories
    ]
    if unguided:
        raise KnowledgeError(
            f"{folder / 'guidance.yaml'}: no guidance for red-flag categories {unguided}"
        )
    return Knowledge(
        red_flags=red_flags,
        triage_thresholds=validated(TriageThresholds, folder / "triage_thresholds.yaml"),
        triage_examples=load_examples(
            folder / "triage_examples.jsonl", {c.id for c in red_flags.categories}
        ),
        questions=load_jsonl_models(LabelledQuestion, folder / "questions.jsonl"),
        coverage_model=validated(CoverageModel, folder / "coverage_model.yaml")
        if (folder / "coverage_model.yaml").exists()
        else None,
        populations=validated(Populations, folder / "populations.yaml"),
        guidance=guidance,
        glossary=validated(Glossary, folder / "glossary.yaml"),
        synonyms=load_synonyms(folder),
        red_flag_rules=load_red_flag_rules(folder, {c.id for c in red_flags.categories}),
        manipulation_rules=load_manipulation_rules(folder),
        answer_facets=validated(AnswerFacets, folder / "answer_facets.yaml"),
        manipulation_examples=load_jsonl_models(
            ManipulationExample, folder / "manipulation_examples.jsonl"
        ),
        manipulation_thresholds=validated(
            ManipulationThresholds, folder / "manipulation_thresholds.yaml"
        ),
    )


def load_red_flag_rules(folder: Path, categories: set[str] | None = None) -> RedFlagRules:
    """knowledge/red_flag_rules.yaml; its categories must be red_flags.yaml's when given."""
    path = Path(folder) / "red_flag_rules.yaml"
    rules: RedFlagRules = validated(RedFlagRules, path)
    unknown = [c.id for c in rules.categories if categories and c.id not in categories]
    if unknown:
        raise KnowledgeError(f"{path}: categories {unknown} are not in red_flags.yaml")
    return rules


def load_manipulation_rules(folder: Path) -> ManipulationRules:
    """knowledge/manipulation_rules.yaml."""
    return validated(ManipulationRules, Path(folder) / "manipulation_rules.yaml")  # type: ignore[no-any-return]
