"""Any sentence-transformers model, on torch: ``SPRIG_EMBEDDING_MODEL=sentence-transformers:X``.

``X`` is a model directory, or the name of a model already in the Hugging Face cache (the hub
is not asked unless ``HF_HUB_OFFLINE=0``). Needs the ``torch`` extra; the default embedder
(``local.py``) does not. torch and sentence-transformers are imported on first use only.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from sprig.server.embeddings.base import ThreadedEmbedder, Vectors
from sprig.server.errors import ServiceUnavailableError

PREFIX = "sentence-transformers:"
INSTALL_HINT = 'install Sprig with its torch extra: pip install -e ".[torch]"'


def _load(model: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ServiceUnavailableError(
            f"Embedding model {PREFIX}{model} needs sentence-transformers: {INSTALL_HINT}"
        ) from exc
    try:
        return SentenceTransformer(model, device="cpu")
    except OSError as exc:  # not a directory, not in the cache
        raise ServiceUnavailableError(
            f"Embedding model {PREFIX}{model} could not be loaded: {exc}"
        ) from exc


class SentenceTransformerEmbedder(ThreadedEmbedder):
    """A sentence-transformers model on the CPU; loads once, encodes one batch at a time."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        super().__init__(PREFIX + model, batch_size)
        self.model = model
        self._loaded: Any = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        with self._lock:
            if self._loaded is None:
                self._loaded = _load(self.model)
            return self._loaded

    @property
    def dimensions(self) -> int | None:
        """Known once the model is loaded."""
        if self._loaded is None:
            return None
        # get_embedding_dimension since sentence-transformers 6; the old name before
        model = self._loaded
        dimension = getattr(model, "get_embedding_dimension", None)
        dimension = dimension or model.get_sentence_embedding_dimension
        return int(dimension())

    def _embed_batch_sync(self, texts: list[str]) -> Vectors:
        model = self._model()
        with self._lock:
            rows = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(rows, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Tokens as the model's own tokenizer counts them (no special tokens)."""
        tokenizer = self._model().tokenizer
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])
