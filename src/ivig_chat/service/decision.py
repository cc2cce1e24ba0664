"""decide(): a turn's status and body from what the checks and the answerer found (pure).

Order of precedence: an emergency first (guidance, then what the sources say when they answer),
then manipulation (a refusal), then the answer, else an abstention that says what is covered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..answer.base import Draft
from ..corpus import Document
from ..knowledge import Guidance
from ..safety import Manipulation, ManipulationDetector, RedFlag, refusal_text, urgent_guidance
from ..types import Audience, Status

SOURCES_SAY = "**What the article and its sources say:**"
PARTLY_COVERED = (
    "Part of your question is not covered by the article and its sources; "
    "this is what they say about the rest of it."
)


@dataclass(frozen=True)
class Decision:
    status: Status
    body: str  # markdown before audience wording and the disclaimer
    cites: bool  # whether the draft's citations go with the body


def decide(
    *,
    red_flag: RedFlag | None,
    manipulation: Manipulation | None,
    draft: Draft | None,
    article: Document,
    audience: Audience,
    guidance: Guidance,
    refusals: ManipulationDetector | None = None,
) -> Decision:
    answered = draft is not None and draft.status == "answered"
    grounded = "\n\n".join(draft.lines) if draft is not None and answered else ""
    if red_flag:
        body = urgent_guidance(red_flag, audience, guidance)
        if grounded:
            body += f"\n\n{SOURCES_SAY}\n\n{grounded}"
        return Decision("urgent", body, answered)
    if manipulation and (
        manipulation.category in ("prompt_extraction", "treatment_order") or not answered
    ):
        body = refusal_text(manipulation, audience, refusals)
        with_sources = bool(grounded) and manipulation.category == "treatment_order"
        if with_sources:
            body += f"\n\n{SOURCES_SAY}\n\n{grounded}"
        return Decision("refused", body, with_sources)
    if answered:
        assert draft is not None
        if draft.coverage and draft.coverage.unknown_specific:
            return Decision("answered", f"{PARTLY_COVERED}\n\n{grounded}", True)
        return Decision("answered", grounded, True)
    return Decision("abstained", abstention(article, draft), False)


def abstention(article: Document, draft: Draft | None) -> str:
    """What is not covered (only drug- or condition-shaped words are repeated back: a planted
    canary must never be echoed), then what the article does cover."""
    missing = (draft.missing or draft.coverage.named) if draft and draft.coverage else ()
    lead = (
        f"The article and its sources do not mention {join(missing)}, so I cannot answer "
        "this from them."
        if missing
        else "The article and its sources do not cover this question, so I cannot answer "
        "it from them."
    )
    topics = covered_topics(article)
    return (
        f"{lead}\n\nThe article, \u201c{article.title}\u201d, and its sources cover: "
        f"{join(topics)}. Try one of the suggested questions below."
    )


def covered_topics(article: Document) -> list[str]:
    """The article's deepest sub-headings (or its sections), as a list of what it covers."""
    by_level: dict[int, list[str]] = {2: [], 3: []}
    for line in article.text.splitlines():
        m = re.match(r"^(#{2,3})\s+(.+)$", line)
        if m:
            by_level[len(m.group(1))].append(m.group(2).strip())
    return by_level[3] or by_level[2]


def join(items: Any) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
