"""Load JSON Lines eval datasets, failing with the file and line on a bad row."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..corpus import Corpus
from ..errors import IvigChatError


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    ids: set[str] = set()
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IvigChatError(f"{path}:{number}: not valid JSON ({exc})") from exc
        if not isinstance(row, dict) or "id" not in row:
            raise IvigChatError(f"{path}:{number}: each line must be an object with an 'id'")
        if row["id"] in ids:
            raise IvigChatError(f"{path}:{number}: duplicate id {row['id']!r}")
        ids.add(row["id"])
        rows.append(row)
    return rows


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes (recorded in every report row)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def corpus_hash(corpus: Corpus) -> str:
    """sha256 over the sorted content hashes of the corpus documents."""
    digest = hashlib.sha256()
    for h in sorted(doc.content_hash for doc in corpus.documents.values()):
        digest.update(h.encode("ascii"))
    return digest.hexdigest()
