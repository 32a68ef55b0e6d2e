"""A deterministic, model-free embedder for tests: hashed words and character n-grams.

Texts that share words (or word pieces) get similar vectors, so ranking tests mean
something; no download, no randomness, identical on every machine.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from sprig.server.embeddings.base import Embedder, Vectors

_WORD_RE = re.compile(r"\w+", re.UNICODE)
DEFAULT_DIMENSIONS = 384


def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dimensions, 1.0 if (value >> 63) & 1 else -1.0


def _features(text: str, ngram: int) -> list[tuple[str, float]]:
    feats: list[tuple[str, float]] = []
    for word in _WORD_RE.findall(text.lower()):
        feats.append(("w:" + word, 1.0))
        padded = f"<{word}>"
        grams = [padded[i : i + ngram] for i in range(max(1, len(padded) - ngram + 1))]
        weight = 1.0 / len(grams)
        feats.extend(("g:" + gram, weight) for gram in grams)
    return feats


class HashingEmbedder(Embedder):
    """Feature hashing of words (weight 1) and character n-grams (weight 1 per word)."""

    def __init__(
        self, dimensions: int = DEFAULT_DIMENSIONS, batch_size: int = 32, ngram: int = 3
    ) -> None:
        super().__init__(f"hashing-{dimensions}", batch_size)
        if dimensions < 8:
            raise ValueError("dimensions must be at least 8")
        self._dimensions = dimensions
        self.ngram = ngram

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed_text(self, text: str) -> Vectors:
        row = np.zeros(self._dimensions, dtype=np.float32)
        for feature, weight in _features(text, self.ngram):
            index, sign = _bucket(feature, self._dimensions)
            row[index] += sign * weight
        return row

    async def _embed_batch(self, texts: list[str]) -> Vectors:
        return np.stack([self.embed_text(text) for text in texts])
