"""The embedder interface: text in, L2-normalised float32 rows out, in batches."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from sprig.server.priority import run_blocking

Vectors = npt.NDArray[np.float32]

_TOKEN_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def count_tokens_regex(text: str) -> int:
    """Words and punctuation marks: a model-free approximation of a tokenizer's count."""
    return len(_TOKEN_RE.findall(text))


def token_starts_regex(text: str) -> list[int]:
    """Where each token of ``count_tokens_regex`` starts."""
    return [m.start() for m in _TOKEN_RE.finditer(text)]


def l2_normalise(matrix: npt.ArrayLike) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero), as a float32 C-contiguous array."""
    rows = np.ascontiguousarray(matrix, dtype=np.float32)
    if rows.ndim != 2:
        raise ValueError(f"expected a 2-D array of vectors, got shape {rows.shape}")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: Vectors = rows / norms
    return normalised


class Embedder(ABC):
    """Turns texts into vectors; cosine similarity is then a dot product.

    ``embed`` splits its input into batches of ``batch_size`` and calls ``_embed_batch``
    once per batch; subclasses that block (a local model) run in a worker thread.
    """

    local = True  # runs here (its embeddings cost nothing); a provider's: False

    def __init__(self, name: str, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.name = name
        self.batch_size = batch_size

    @property
    @abstractmethod
    def dimensions(self) -> int | None:
        """Vector length, or None while unknown (a remote model before its first call)."""

    @abstractmethod
    async def _embed_batch(self, texts: list[str]) -> Vectors:
        """Embed one batch; rows need not be normalised yet."""

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as this model counts them (default: an approximation)."""
        return count_tokens_regex(text)

    def token_starts(self, text: str) -> Sequence[int] | None:
        """Where each token of ``text`` starts (ascending offsets), as ``count_tokens``
        counts them, or None where unknown: the chunker measures every span of a document
        from this one pass. The default matches the default ``count_tokens`` only."""
        if type(self).count_tokens is not Embedder.count_tokens:
            return None
        return token_starts_regex(text)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` in order; returns shape ``(len(texts), dimensions)``."""
        items = list(texts)
        if not items:
            return np.zeros((0, self.dimensions or 0), dtype=np.float32)
        parts: list[Vectors] = []
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            parts.append(l2_normalise(await self._embed_batch(batch)))
        if len(parts) == 1:
            return parts[0]
        joined: Vectors = np.concatenate(parts, axis=0)
        return joined

    async def embed_one(self, text: str) -> Vectors:
        """One text as a 1-D vector."""
        row: Vectors = (await self.embed([text]))[0]
        return row


class ThreadedEmbedder(Embedder):
    """An embedder whose work blocks: each batch runs in a worker thread."""

    @abstractmethod
    def _embed_batch_sync(self, texts: list[str]) -> Vectors:
        """Embed one batch, blocking."""

    async def _embed_batch(self, texts: list[str]) -> Vectors:
        return await run_blocking(self._embed_batch_sync, texts)  # low priority in a job
