"""The default, offline answerer: pick the corpus sentences that answer, cite each one.

Every factual statement in an answer is a sentence (or bullet) of the corpus, quoted verbatim
in its citation; the only added words are connective ("In specific circumstances: ...") and,
for patients, glosses of abbreviations. Same question, same corpus -> same answer.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..chunking import Sentence
from ..conversation.condense import study_acronyms, study_keys
from ..corpus import Corpus, Scope
from ..errors import IvigChatError
from ..knowledge import CoverageModel
from ..retrieval import Hit, HybridRetriever, mentioned_refs
from ..safety import ManipulationDetector, looks_like_instruction
from ..textutil import NO_SYNONYMS, Synonyms, content_tokens, populations, query_tokens
from ..vector_cache import Encode, VectorCache
from .base import Draft, Scored
from .citations import CitationList
from .coverage import (
    FEATURES,
    CoverageEvidence,
    LabelledNeighbours,
    WordMeaning,
    evidence,
    lookup,
    probability,
)
from .facets import Facets
from .populations import PopulationCheck
from .scope import Coverage, Vocabulary


@dataclass(frozen=True)
class Thresholds:
    """Tuned on evals/datasets/dev.jsonl (see README, evals)."""

    min_dense: float = 0.42  # best sentence's cosine similarity below this: not covered
    min_score: float = 0.40  # best combined score below this: not covered
    keep_ratio: float = 0.75  # supporting sentences score at least this share of the best
    min_support: float = 0.36  # and at least this absolute score
    redundant: float = 0.86  # cosine above which two sentences say the same thing
    max_sentences: int = 4
    backing: float = 0.62  # a cited source's sentence this close to the article's backs it


@dataclass(frozen=True)
class _Plan:
    scope: _Article
    coverage: Coverage
    question: str  # typos repaired; "it" read as the article's subject in a first question
    mentions: bool  # names the subject, a reference or a source (or the conversation did)
    resolved: bool  # "it" was read as the subject
    absent: tuple[str, ...]  # patient groups named that the corpus never mentions
    other_subject: bool  # names nothing the corpus is about, and something rare it never uses
    unknown: list[str]  # content words the corpus never uses


@dataclass
class _Article:
    """What the answerer prepares once per article: its sentences, their vectors and words."""

    scope: Scope
    sentences: list[Sentence]
    provenance: list[bool]  # opening statements of a source: what it is, not what it found
    groups: list[frozenset[str]]
    by_id: dict[str, Sentence]
    matrix: np.ndarray
    tokens: list[set[str]]
    idf: dict[str, float]
    children: dict[str, list[Sentence]]  # lead-in sentence id -> the bullets it introduces
    lists: dict[int, tuple[np.ndarray, set[str]]]  # lead-in index -> whole list: meaning, words
    vocabulary: Vocabulary
    meaning: WordMeaning | None
    absent_populations: frozenset[str]
    subject_name: str  # how the article names its subject ("IVIG")
    labelled: LabelledNeighbours  # the reviewed questions (knowledge/questions.jsonl)
    affinities: np.ndarray  # (sentences, facets): what kind of answer each sentence gives
    acronyms: frozenset[str]  # the study acronyms the corpus uses ("ESIMS")
    studies: list[frozenset[str]]  # the studies each sentence names (study_keys)


_COUNT_QUESTION = re.compile(
    r"\b(how many|how much|number of|how often|what (?:percentage|rate))\b"
)
_DOSE_QUESTION = re.compile(r"\b(dose|doses|dosing|dosage|how much|g/kg|regimen)\b")
_HAS_NUMBER = re.compile(r"\d")
_HAS_DOSE = re.compile(r"\bg/kg|\bmg/kg|\bg/day")
# Questions about the corpus itself (which publication, how sure): provenance sentences answer.
_ABOUT_SOURCES = re.compile(
    r"\b(reference|ref|source|sources|citation|cite[sd]?|pmid|doi|identif\w*|confiden\w*|"
    r"summary|abstract|published|journal|author|who wrote)\b",
    re.IGNORECASE,
)
_CAVEAT = re.compile(r"\b(unverified|not verified|must not be relied|should not be quoted)\b", re.I)


_ANAPHOR = re.compile(
    r"\b(?:(?:this|the) (?:treatment|drug|therapy|medicine)|it)\b"
    r"|\b(?P<det>the|this|these|my|his|her|their|your|our) (?P<noun>infusions?|drips?)\b",
    re.IGNORECASE,
)


def about_subject(question: str, subject: str) -> str:
    """The question with "it" read as the article's subject: "offered it?" -> "offered IVIG?",
    "during my infusions" -> "during my IVIG infusions"."""

    def read(m: re.Match[str]) -> str:
        if m.group("noun"):
            return f"{m.group('det')} {subject} {m.group('noun')}"
        return subject

    return _ANAPHOR.sub(read, question, count=1)


def _ends_sentence(text: str) -> str:
    text = text.rstrip()
    return (
        text
        if text.endswith((".", "!", "?", ")")) and not text.endswith(":")
        else (text.rstrip(":") + ".")
    )


class ExtractiveAnswerer:
    """Scores every in-scope sentence against the question and composes the best few."""

    version = "extractive-1"

    def __init__(
        self,
        corpus: Corpus,
        sentences: Sequence[Sentence],
        vectors: dict[str, np.ndarray],
        retriever: HybridRetriever,
        thresholds: Thresholds | None = None,
        *,
        coverage_model: CoverageModel | None = None,
        encode: Encode | None = None,
        cache: VectorCache | None = None,
        model_name: str = "",
        populations: PopulationCheck | None = None,
        labelled: Sequence[tuple[str, bool]] = (),
        synonyms: Synonyms = NO_SYNONYMS,
        manipulation: ManipulationDetector | None = None,
        facets: Facets | None = None,
    ) -> None:
        """labelled: reviewed questions and whether the corpus answers them."""
        """coverage_model (with encode): decide coverage from meaning (answer/coverage.py);
        without it the older lexical rules and similarity floors of Thresholds decide."""
        if coverage_model is not None and tuple(coverage_model.features) != FEATURES:
            raise IvigChatError(
                "knowledge/coverage_model.yaml was fitted on other features: re-run "
                "scripts/calibrate_coverage.py --write"
            )
        if coverage_model is not None and encode is None:
            raise IvigChatError("a coverage model needs the embedding function")
        self.corpus = corpus
        self.retriever = retriever
        self.thresholds = thresholds or Thresholds()
        self.coverage_model = coverage_model
        self.encode = encode
        self.cache = cache or VectorCache(None)
        self.model_name = model_name
        self.populations = populations or PopulationCheck([])
        self.labelled = list(labelled)
        self.synonyms = synonyms
        self.manipulation = manipulation  # its patterns also mark planted corpus text
        self.facets = facets
        self._all = [s for s in sentences if s.id in vectors]
        self._vectors = vectors
        self._scopes: dict[str, _Article] = {}

    def _prepared(self, scope: Scope) -> _Article:
        if scope.id in self._scopes:
            return self._scopes[scope.id]
        in_scope = scope.doc_ids
        sentences = [
            s
            for s in self._all
            if s.doc_id in in_scope and not looks_like_instruction(s.text, self.manipulation)
        ]
        # A sentence also carries its section heading and, in a source, the source's title:
        # "Infusion reactions ... 1-15%" is about adverse effects because of where it stands.
        tokens = [
            set(content_tokens(s.text))
            | set(content_tokens(s.section or ""))
            | (
                set(content_tokens(self.corpus.documents[s.doc_id].title))
                if self.corpus.documents[s.doc_id].kind != "article"
                else set()
            )
            for s in sentences
        ]
        df = Counter(t for ts in tokens for t in ts)
        n = max(len(sentences), 1)
        idf = {t: math.log(1 + n / c) for t, c in df.items()}
        children: dict[str, list[Sentence]] = {}
        for s in self._all:
            if s.lead_in and s.doc_id in in_scope:
                children.setdefault(s.lead_in, []).append(s)
        article = scope.article
        subject_name = str((article.meta.get("subject") or [article.title])[0])
        vocabulary = Vocabulary(
            [d.text for d in scope.documents] + [d.title for d in scope.documents],
            subject=[str(t) for t in article.meta.get("subject") or [article.title]],
            synonyms=self.synonyms,
        )
        matrix = np.stack([self._vectors[s.id] for s in sentences])
        subject = [str(t) for t in article.meta.get("subject") or [article.title]]
        acronyms = study_acronyms([d.text for d in scope.documents], subject)
        prepared = _Article(
            scope=scope,
            sentences=sentences,
            provenance=[
                s.section is None and self.corpus.documents[s.doc_id].kind != "article"
                for s in sentences
            ],
            groups=[populations(s.text) for s in sentences],
            by_id={s.id: s for s in self._all if s.doc_id in in_scope},
            matrix=matrix,
            tokens=tokens,
            idf=idf,
            children=children,
            lists=self._lists(sentences, tokens, children),
            vocabulary=vocabulary,
            meaning=WordMeaning(vocabulary, self.encode, self.cache, self.model_name)
            if self.encode is not None
            else None,
            subject_name=subject_name,
            labelled=self._labelled(),
            absent_populations=self.populations.absent_from(d.text for d in scope.documents),
            affinities=self.facets.sentence_affinities(matrix)
            if self.facets is not None
            else np.zeros((len(sentences), 0)),
            acronyms=acronyms,
            studies=[study_keys(s.text, acronyms) for s in sentences],
        )
        self._scopes[scope.id] = prepared
        return prepared

    def _labelled(self) -> LabelledNeighbours:
        """The reviewed questions, embedded once (cached by content)."""
        if not self.labelled or self.encode is None:
            return LabelledNeighbours.empty()
        texts = [text for text, _ in self.labelled]
        vectors = self.cache.encode(texts, self.encode, self.model_name)
        return LabelledNeighbours(vectors, [answerable for _, answerable in self.labelled])

    def _lists(
        self,
        sentences: Sequence[Sentence],
        tokens: Sequence[set[str]],
        children: dict[str, list[Sentence]],
    ) -> dict[int, tuple[np.ndarray, set[str]]]:
        """A list read as one statement (lead-in and items): "which patients might be offered
        it?" is answered by the whole "could be considered ... in specific circumstances:" list,
        though no single item says so."""
        lists = {}
        for i, s in enumerate(sentences):
            items = [c for c in children.get(s.id, []) if c.id in self._vectors]
            if not items:
                continue
            mean = np.mean([self._vectors[s.id]] + [self._vectors[c.id] for c in items], axis=0)
            words = set(tokens[i]).union(*(content_tokens(c.text) for c in items))
            lists[i] = (mean / np.linalg.norm(mean), words)
        return lists

    def vocabulary(self, scope: Scope) -> Vocabulary:
        return self._prepared(scope).vocabulary

    def warm(self, scope: Scope) -> None:
        self._prepared(scope).vocabulary.coverage("warm up the word list")

    def _score(
        self,
        scope: _Article,
        question: str,
        vector: np.ndarray,
        hits: Sequence[Hit],
        focus: str | None = None,
        context: frozenset[str] = frozenset(),
        facet_weights: np.ndarray | None = None,
    ) -> list[Scored]:
        dense = scope.matrix @ vector
        kind = (
            self.facets.bonus(facet_weights, scope.affinities)
            if self.facets is not None and facet_weights is not None
            else np.zeros(len(scope.sentences))
        )
        weights: dict[str, float] = {}
        originals = set(content_tokens(question))
        focused = set(content_tokens(focus)) if focus else set()
        for t in query_tokens(question, self.synonyms):
            w = 2.0 if t in focused else 1.0 if t in originals else 0.5
            weights[t] = max(weights.get(t, 0.0), w)
        asked_groups = populations(focus or question) or populations(question)
        about_sources = bool(_ABOUT_SOURCES.search(question))
        # Words the corpus never uses cannot match; their synonyms (weighted in) still can.
        total = sum(scope.idf.get(t, 0.0) * w for t, w in weights.items() if t in originals)
        named = {
            src.id
            for n in mentioned_refs(question)
            if (src := scope.scope.source_for_ref(n)) is not None
        }
        hit_rank: dict[str, list[tuple[int, int, int]]] = {}
        for rank, hit in enumerate(hits):
            hit_rank.setdefault(hit.chunk.doc_id, []).append((hit.chunk.start, hit.chunk.end, rank))
        asked_studies = study_keys(question, scope.acronyms)
        wants_count = bool(_COUNT_QUESTION.search(question.lower()))
        wants_dose = bool(_DOSE_QUESTION.search(question.lower()))
        scored = []
        for i, s in enumerate(scope.sentences):
            if scope.provenance[i] and not about_sources:
                continue
            matched = sum(
                scope.idf.get(t, 0.0) * w for t, w in weights.items() if t in scope.tokens[i]
            )
            lexical = min(1.0, matched / total) if total else 0.0
            bonus = 0.0
            for start, end, rank in hit_rank.get(s.doc_id, ()):
                if start <= s.start < end:
                    bonus = max(bonus, 0.06 / (1 + rank))
            if self.corpus.documents[s.doc_id].kind == "article":
                bonus += 0.04
            if asked_groups and scope.groups[i] and not (asked_groups & scope.groups[i]):
                bonus -= 0.15  # about another patient group: does not answer this question
            if _CAVEAT.search(s.text):
                bonus -= 0.08  # "not verified here": true, but never the answer itself
            if s.doc_id in context:
                bonus += 0.08  # the conversation was just about this document
            if len(s.text.split()) < 5:
                bonus -= 0.15  # a fragment ("MRI activity") says little on its own
            d = float(dense[i])
            if i in scope.lists:
                list_vector, list_words = scope.lists[i]
                list_dense = float(list_vector @ vector)
                list_matched = sum(
                    scope.idf.get(t, 0.0) * w for t, w in weights.items() if t in list_words
                )
                list_lexical = min(1.0, list_matched / total) if total else 0.0
                if 0.65 * list_dense + 0.35 * list_lexical > 0.65 * d + 0.35 * lexical:
                    d, lexical = list_dense, list_lexical  # the question is about the list
                elif lexical < 0.25:
                    bonus -= 0.10  # a lead-in alone ("...:") says little
            if s.doc_id in named:
                bonus += 0.25  # the question names this source's reference number
            if wants_count and _HAS_NUMBER.search(s.text):
                bonus += 0.04
            if wants_dose and _HAS_DOSE.search(s.text):
                bonus += 0.05
            bonus += float(kind[i])  # gives the kind of answer asked for (a result, a dose...)
            if asked_studies and scope.studies[i]:
                # About the study asked about, or about another one.
                bonus += 0.08 if asked_studies & scope.studies[i] else -0.08
            scored.append(Scored(s, 0.65 * d + 0.35 * lexical + bonus, d, lexical))
        scored.sort(key=lambda x: (-x.score, x.sentence.doc_id, x.sentence.start))
        return scored

    def answer(
        self,
        question: str,
        scope: Scope,
        vector: np.ndarray,
        focus: str | None = None,
        context: frozenset[str] = frozenset(),
        in_conversation: bool = False,
        embedded: Mapping[str, np.ndarray] | None = None,
    ) -> Draft:
        """Select and cite the sentences that answer question, or abstain.

        embedded: vectors of texts_to_embed(...) the caller computed in its one batched model
        call; anything missing is embedded here.

        focus: the user's own latest words, when question was rewritten from a follow-up; its
        terms weigh double, so "and in progressive MS?" is answered about progressive MS.
        context: documents the previous answer cited; a follow-up is most likely about them.
        in_conversation: earlier turns set the subject, so it need not be named again.
        """
        embedded = embedded or {}
        plan = self._plan(question, scope, in_conversation)
        prepared, coverage, question = plan.scope, plan.coverage, plan.question
        draft = Draft(status="abstained", coverage=coverage, understood=question)
        if plan.absent:
            # Evidence gathered in other patients does not answer a question about this group.
            draft.missing = plan.absent
            draft.decided_by = "population"
            draft.reason = f"the corpus never mentions {', '.join(plan.absent)}"
            return draft
        if plan.other_subject:
            # Names nothing the corpus is about, and something rare that it never uses: the
            # question is about another subject ("how much biotin ...").
            draft.missing = coverage.named
            draft.decided_by = "other_subject"
            draft.reason = f"about something else: {', '.join(coverage.unknown_specific)}"
            return draft
        mentions = plan.mentions
        if plan.resolved and self.encode is not None:
            # Asked under the article with nothing earlier in the conversation, "it" is the
            # article's subject ("which patients might be offered it?"): understood that way.
            vector = lookup([question], embedded, self.encode)[0]
            mentions = True
        started = time.perf_counter()
        hits = self.retriever.search(question, scope, k=6, vector=vector)
        draft.retrieve_ms = (time.perf_counter() - started) * 1000
        draft.hits = hits
        facet_weights = None
        if self.facets is not None:
            asked = [vector] + ([embedded[focus]] if focus and focus in embedded else [])
            facet_weights = self.facets.question_weights(asked)
            draft.facets = {
                f: round(float(w), 3)
                for f, w in zip(self.facets.ids, facet_weights, strict=True)
                if w >= 0.05
            }
        ranked = self._score(prepared, question, vector, hits, focus, context, facet_weights)
        t = self.thresholds
        best = draft.best = ranked[0] if ranked else None
        if best is None:
            draft.reason = "empty corpus"
            return draft
        names_source = any(
            (source := scope.source_for_ref(n)) is not None and source.id == best.sentence.doc_id
            for n in mentioned_refs(question)
        )
        top_dense = max(r.dense for r in ranked)
        if self.coverage_model is not None and prepared.meaning is not None:
            draft.evidence = self.coverage_evidence(
                prepared, question, vector, coverage, mentions, top_dense, best, embedded
            )
            draft.covered = probability(self.coverage_model, draft.evidence)
            draft.decided_by = "model"
            if not names_source and draft.covered < self.coverage_model.threshold:
                draft.reason = f"not covered (probability {draft.covered:.2f})"
                return draft
        else:
            draft.decided_by = "rules"
            if not self._covered_by_rules(draft, coverage, mentions, names_source, top_dense):
                return draft
        # A caveat ("... not verified here") qualifies an answer; it never leads one, nor sets
        # the bar the other sentences must reach.
        lead = next((r for r in ranked if not _CAVEAT.search(r.sentence.text)), best)
        chosen = [lead]
        floor = max(lead.score * t.keep_ratio, t.min_support)
        for cand in ranked:
            if cand is lead:
                continue
            if len(chosen) >= t.max_sentences or cand.score < floor:
                break
            vec = self._vectors[cand.sentence.id]
            if any(float(vec @ self._vectors[c.sentence.id]) > t.redundant for c in chosen):
                continue
            if cand.lexical == 0.0 and cand.dense < lead.dense:
                continue
            chosen.append(cand)
        chosen.sort(key=lambda c: bool(_CAVEAT.search(c.sentence.text)))
        citations = CitationList(scope)
        draft.lines = self._lines(prepared, [c.sentence for c in chosen], citations)
        draft.citations = citations.all()
        draft.status = "answered"
        return draft

    def _plan(self, question: str, article_scope: Scope, in_conversation: bool) -> _Plan:
        """The lexical reading of a question that decides what needs embedding and the
        checks that come before any similarity."""
        scope = self._prepared(article_scope)
        coverage = scope.vocabulary.coverage(question)
        if coverage.corrected:
            question = scope.vocabulary.repair(question, coverage)
        mentions = in_conversation or scope.vocabulary.mentions_subject(question)
        absent = tuple(
            p.name for p in self.populations.named(question) if p.id in scope.absent_populations
        )
        resolved = about_subject(question, scope.subject_name) if not mentions else question
        unknown = [
            w
            for w in coverage.focus
            if not scope.vocabulary.knows(w) and w not in coverage.corrected
        ]
        return _Plan(
            scope=scope,
            coverage=coverage,
            question=resolved,
            mentions=mentions,
            resolved=resolved != question,
            absent=absent if not mentioned_refs(question) else (),
            # "it", "the drip", "my infusions" asked under the article are its subject.
            other_subject=not mentions and resolved == question and bool(coverage.unknown_specific),
            unknown=unknown,
        )

    def texts_to_embed(self, question: str, scope: Scope, in_conversation: bool) -> list[str]:
        """Texts answer() will need embedded beyond the question itself, so the caller can
        embed them in its one batched model call."""
        plan = self._plan(question, scope, in_conversation)
        if plan.absent or plan.other_subject or self.encode is None:
            return []
        texts = [plan.question] if plan.resolved else []
        if self.coverage_model is not None:
            texts += WordMeaning.texts(plan.question, plan.unknown)
        return list(dict.fromkeys(texts))

    def coverage_evidence(
        self,
        scope: _Article,
        question: str,
        vector: np.ndarray,
        coverage: Coverage,
        mentions: bool,
        top_dense: float,
        best: Scored,
        embedded: Mapping[str, np.ndarray] | None = None,
    ) -> CoverageEvidence:
        """The measures the coverage model weighs (also used to fit it)."""
        assert scope.meaning is not None
        unknown = [
            w
            for w in coverage.focus
            if not scope.vocabulary.knows(w) and w not in coverage.corrected
        ]
        nearness, weight = scope.meaning.measure(question, unknown, embedded or {})
        return evidence(
            coverage,
            mentions,
            top_dense,
            best.score,
            best.lexical,
            unknown,
            nearness,
            weight,
            labelled_margin=scope.labelled.margin(vector),
        )

    def _covered_by_rules(
        self,
        draft: Draft,
        coverage: Coverage,
        mentions: bool,
        names_source: bool,
        top_dense: float,
    ) -> bool:
        """The lexical coverage rules, for an answerer built without a coverage model."""
        t = self.thresholds
        assert draft.best is not None
        if coverage.off_topic(mentions_subject=mentions):
            draft.reason = f"not in the corpus: {', '.join(coverage.unknown_specific)}"
            return False
        if coverage.ratio < 0.5:
            draft.reason = f"most of the question is not in the corpus ({coverage.ratio:.2f})"
            return False
        if not names_source and (top_dense < t.min_dense or draft.best.score < t.min_score):
            draft.reason = (
                f"nothing close enough (dense {top_dense:.2f}, score {draft.best.score:.2f})"
            )
            return False
        return True

    def _backing(self, scope: _Article, sentence: Sentence) -> list[Sentence]:
        """For an article sentence citing reference n: the sentence of source n that says it."""
        if not sentence.refs or self.corpus.documents[sentence.doc_id].kind != "article":
            return []
        vector = self._vectors[sentence.id]
        backing = []
        for n in sentence.refs:
            source = scope.scope.source_for_ref(n)
            candidates = [
                s
                for i, s in enumerate(scope.sentences)
                if source and s.doc_id == source.id and not scope.provenance[i]
            ]
            if not candidates:
                continue
            best = max(candidates, key=lambda s: float(self._vectors[s.id] @ vector))
            claim = set(content_tokens(sentence.text))
            shared = len(claim & set(content_tokens(best.text))) / max(len(claim), 1)
            # Close in meaning and sharing most of the words: the source says the same thing.
            if float(self._vectors[best.id] @ vector) >= self.thresholds.backing and shared >= 0.5:
                backing.append(best)
        return backing

    def _lines(self, scope: _Article, chosen: list[Sentence], citations: CitationList) -> list[str]:
        """Answer lines with markers; a list and its "...:" lead-in become one line."""
        groups: dict[str, list[Sentence]] = {}
        order: list[tuple[str, Sentence]] = []
        for sentence in chosen:
            lead_id = sentence.lead_in or (sentence.id if sentence.id in scope.children else None)
            if lead_id is None:
                order.append(("", sentence))
                continue
            if lead_id not in groups:
                groups[lead_id] = []
                order.append((lead_id, sentence))
            if sentence.id != lead_id:
                groups[lead_id].append(sentence)
        lines = []
        for lead_id, sentence in order:
            if not lead_id:
                numbers = [citations.cite(sentence)]
                numbers += [citations.cite(b) for b in self._backing(scope, sentence)]
                text = _ends_sentence(sentence.text)
                lines.append(f"{text} " + "".join(f"[{n}]" for n in dict.fromkeys(numbers)))
                continue
            lead = scope.by_id[lead_id]
            items = groups[lead_id] or scope.children.get(lead_id, [])[:6]
            items = sorted(items, key=lambda x: x.start)
            numbers = [citations.cite(lead)] + [citations.cite(i) for i in items]
            body = "; ".join(i.text.rstrip(" .;") for i in items)
            text = _ends_sentence(f"{lead.text.rstrip()} {body}")
            lines.append(f"{text} " + "".join(f"[{n}]" for n in dict.fromkeys(numbers)))
        return lines
