"""Two or three of the article's suggested questions near the current one, unasked first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..corpus import Document

Encode = Callable[[list[str]], np.ndarray]


class SuggestionPicker:
    """Chooses two or three of the article's suggested questions near the current one."""

    def __init__(self, encode: Encode) -> None:
        self.encode = encode
        self._vectors: dict[str, tuple[list[str], np.ndarray]] = {}

    def for_article(self, article: Document) -> tuple[list[str], np.ndarray]:
        if article.id not in self._vectors:
            questions = [str(q) for q in article.meta.get("suggested_questions") or []]
            vectors = self.encode(questions) if questions else np.zeros((0, 1))
            self._vectors[article.id] = (questions, vectors)
        return self._vectors[article.id]

    def pick(
        self,
        article: Document,
        vector: np.ndarray | None,
        asked: list[str],
        k: int = 3,
        current: Sequence[str] = (),
    ) -> list[str]:
        """Unasked questions first; once fewer than two are left, earlier ones again (never
        `current`, what was just asked), so a response always offers two or three."""
        questions, vectors = self.for_article(article)
        if not questions:
            return []
        asked_low = {a.strip().lower() for a in asked}
        if vector is None:
            order = list(range(len(questions)))
        else:
            sims = vectors @ vector
            order = [int(i) for i in np.argsort(-sims) if sims[int(i)] < 0.9]
        picked = [questions[i] for i in order if questions[i].lower() not in asked_low]
        if len(picked) < 2:
            now = {c.strip().lower() for c in current}
            picked += [
                questions[i]
                for i in order
                if questions[i] not in picked and questions[i].lower() not in now
            ]
        return picked[:k]
