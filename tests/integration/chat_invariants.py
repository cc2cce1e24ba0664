"""Checks every chat response must pass, shared by the API and stream tests.

A response is grounded when: its status is one of the four, its answer ends with its disclaimer
exactly once, every [n] marker in the answer has a citation and every citation is marked,
citations are numbered 1..k in order of first appearance, and every quote is verbatim in the
text GET /v1/documents/{doc_id} serves.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

STATUSES = {"answered", "abstained", "urgent", "refused"}
RESPONSE_KEYS = {
    "conversation_id", "turn_id", "status", "answer", "citations", "disclaimer",
    "standalone_question", "suggested_questions", "article",
}
CITATION_KEYS = {"n", "doc_id", "ref", "title", "section", "quote", "url"}
ARTICLE_KEYS = {"id", "title", "last_updated", "review_status"}
DOCUMENT_KEYS = {"id", "kind", "title", "ref", "citation", "url", "text"}
MARKER = re.compile(r"\[(\d+)\]")


class Documents:
    """Document texts from GET /v1/documents/{doc_id}, each fetched once."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._texts: dict[str, str] = {}

    def text(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            response = self.client.get(f"/v1/documents/{doc_id}")
            assert response.status_code == 200, (doc_id, response.text)
            body = response.json()
            assert set(body) == DOCUMENT_KEYS
            assert body["id"] == doc_id
            self._texts[doc_id] = body["text"]
        return self._texts[doc_id]


def body_of(response: dict[str, Any]) -> str:
    """The answer without its trailing disclaimer."""
    answer, disclaimer = response["answer"], response["disclaimer"]
    assert answer.endswith(disclaimer), "the answer does not end with the disclaimer"
    return answer[: len(answer) - len(disclaimer)]


def markers(response: dict[str, Any]) -> list[int]:
    """The [n] markers of the answer body, in order of appearance (repeats kept)."""
    return [int(n) for n in MARKER.findall(body_of(response))]


def assert_shape(response: dict[str, Any]) -> None:
    assert set(response) == RESPONSE_KEYS
    assert response["status"] in STATUSES, response["status"]
    assert response["conversation_id"].startswith("conv_")
    assert response["turn_id"].startswith("turn_")
    assert isinstance(response["standalone_question"], str) and response["standalone_question"]
    assert set(response["article"]) == ARTICLE_KEYS
    suggested = response["suggested_questions"]
    assert 2 <= len(suggested) <= 3, suggested
    assert all(isinstance(q, str) and q.strip() for q in suggested)
    for citation in response["citations"]:
        assert set(citation) == CITATION_KEYS


def assert_grounded(response: dict[str, Any], documents: Documents) -> None:
    """Every invariant of a chat response (see the module docstring)."""
    assert_shape(response)
    answer, disclaimer = response["answer"], response["disclaimer"]
    assert disclaimer.strip()
    assert answer.endswith(disclaimer)
    assert answer.count(disclaimer) == 1, "the disclaimer appears more than once"

    citations = response["citations"]
    numbers = [c["n"] for c in citations]
    assert numbers == list(range(1, len(citations) + 1)), numbers
    found = markers(response)
    assert set(found) == set(numbers), f"markers {sorted(set(found))} vs citations {numbers}"
    first_use = list(dict.fromkeys(found))
    assert first_use == numbers, f"citations not numbered by first appearance: {first_use}"
    for citation in citations:
        quote = citation["quote"]
        assert quote.strip(), citation
        assert quote in documents.text(citation["doc_id"]), (
            f"[{citation['n']}] quote is not verbatim in {citation['doc_id']}: {quote!r}"
        )


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """A JSON error body {"error": {"code", "message"}} with this status and code."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].strip()
