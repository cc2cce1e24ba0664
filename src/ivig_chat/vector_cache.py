"""Embeddings of fixed texts (knowledge, corpus vocabulary) kept on disk by content hash."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

Encode = Callable[[list[str]], np.ndarray]


class VectorCache:
    """Embeddings of knowledge texts, kept on disk by content hash so restarts skip the model."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def encode(self, texts: list[str], encode: Encode, model_name: str) -> np.ndarray:
        digest = hashlib.sha256(json.dumps([model_name, texts]).encode()).hexdigest()[:24]
        path = self.folder / f"knowledge-vectors-{digest}.npy" if self.folder else None
        if path is not None and path.is_file():
            try:
                cached = np.load(path)
                if cached.shape[0] == len(texts):
                    return np.asarray(cached, dtype=np.float32)
            except (OSError, ValueError):
                log.warning("unreadable knowledge vector cache, re-embedding", extra={"path": path})
        vectors = encode(texts)
        if path is not None:
            # A unique temporary name: several processes may fill the same cache at once.
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp.npy")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(tmp, vectors)
                tmp.replace(path)
            except OSError as exc:  # a read-only cache only costs time
                log.warning("could not write the vector cache: %s", exc)
                tmp.unlink(missing_ok=True)
        return vectors
