"""Red-flag triage of one message: the rules are the floor, the semantic layer generalises."""

from __future__ import annotations

import numpy as np

from .red_flags import RedFlag, RedFlagDetector, detect_red_flag
from .semantic import SemanticTriage


class Triage:
    """Rules first (precise categories and evidence); meaning for every wording they miss."""

    def __init__(
        self, semantic: SemanticTriage | None = None, rules: RedFlagDetector | None = None
    ) -> None:
        """rules: knowledge/red_flag_rules.yaml compiled (None: the configured folder's)."""
        self.semantic = semantic
        self.rules = rules

    def warm(self) -> None:
        if self.semantic is not None:
            self.semantic.warm()

    def texts(self, message: str) -> list[str]:
        """Texts to embed for this message, in the caller's batched model call."""
        return self.semantic.texts(message) if self.semantic else []

    def assess(self, message: str, vectors: np.ndarray | None = None) -> RedFlag | None:
        """vectors: one row per text of texts(message), or None to let the layer embed."""
        flag = detect_red_flag(message, self.rules)
        if flag is not None or self.semantic is None:
            return flag
        found = self.semantic.assess(message, vectors)
        return RedFlag(found.category, found.evidence) if found else None
