"""Exact cosine top-k over float32 rows with numpy, and an in-memory index keyed by chunk id.

Rows are L2-normalised when added, so cosine similarity is one matrix-vector product;
``argpartition`` then finds the top k in linear time. Exact search over 100k x 384 rows
costs 6-9 ms on two cores (bench/search_latency.py), which is why no approximate index
is used yet.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence

import numpy as np
import numpy.typing as npt

from sprig.server.embeddings.base import Vectors, l2_normalise
from sprig.server.errors import BadRequestError

Scores = npt.NDArray[np.float32]
Rows = npt.NDArray[np.intp]


def normalise_query(query: npt.ArrayLike, dimensions: int) -> Vectors:
    """A query vector as a unit float32 row; wrong length or all zeros is a 400."""
    vector = np.asarray(query, dtype=np.float32).reshape(-1)
    if vector.shape[0] != dimensions:
        raise BadRequestError(
            f"Query vector has {vector.shape[0]} dimensions; this store has {dimensions}"
        )
    if not np.all(np.isfinite(vector)):
        raise BadRequestError("Query vector contains NaN or infinity")
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        raise BadRequestError("Query vector is all zeros")
    return vector / norm


def top_k(scores: Scores, k: int) -> Rows:
    """Positions of the k highest scores, highest first (ties: lower position first)."""
    n = scores.shape[0]
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.intp)
    if k < n:
        part = np.argpartition(-scores, k - 1)[:k]
        return part[np.lexsort((part, -scores[part]))]
    return np.lexsort((np.arange(n), -scores)).astype(np.intp)


def exact_search(matrix: Vectors, query: Vectors, k: int) -> tuple[Rows, Scores]:
    """Top-k rows of ``matrix`` (unit rows) by cosine similarity to ``query`` (unit)."""
    scores = matrix @ query
    rows = top_k(scores, k)
    return rows, scores[rows]


class VectorIndex:
    """Unit vectors addressed by integer id; add, replace, remove, exact search.

    Storage is one contiguous matrix grown by doubling; removal moves the last row into
    the hole. A lock makes it safe to share between threads.
    """

    def __init__(self, dimensions: int, capacity: int = 1024) -> None:
        if dimensions < 1:
            raise ValueError("dimensions must be positive")
        self.dimensions = dimensions
        self._matrix: Vectors = np.zeros((max(capacity, 1), dimensions), dtype=np.float32)
        self._ids = np.zeros(max(capacity, 1), dtype=np.int64)
        self._row_of: dict[int, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, item: object) -> bool:
        return item in self._row_of

    @classmethod
    def from_blobs(cls, dimensions: int, rows: Iterable[tuple[int, bytes]]) -> VectorIndex:
        """An index from ``(id, float32 bytes)`` pairs, as stored in the chunk table."""
        pairs = list(rows)
        index = cls(dimensions, capacity=max(len(pairs), 1))
        if pairs:
            ids = [chunk_id for chunk_id, _ in pairs]
            blob = b"".join(vector for _, vector in pairs)
            index.add(ids, np.frombuffer(blob, dtype=np.float32).reshape(len(pairs), dimensions))
        return index

    def _grow(self, needed: int) -> None:
        capacity = self._matrix.shape[0]
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        matrix = np.zeros((capacity, self.dimensions), dtype=np.float32)
        ids = np.zeros(capacity, dtype=np.int64)
        size = len(self._row_of)
        matrix[:size] = self._matrix[:size]
        ids[:size] = self._ids[:size]
        self._matrix, self._ids = matrix, ids

    def add(self, ids: Sequence[int], vectors: npt.ArrayLike) -> None:
        """Insert or replace rows (vectors are normalised here)."""
        rows = l2_normalise(vectors)
        if rows.shape != (len(ids), self.dimensions):
            raise ValueError(f"expected {len(ids)} x {self.dimensions} vectors, got {rows.shape}")
        with self._lock:
            self._grow(len(self._row_of) + len(ids))
            for chunk_id, row in zip(ids, rows, strict=True):
                position = self._row_of.get(int(chunk_id))
                if position is None:
                    position = len(self._row_of)
                    self._row_of[int(chunk_id)] = position
                    self._ids[position] = int(chunk_id)
                self._matrix[position] = row

    def remove(self, ids: Iterable[int]) -> int:
        """Drop rows by id; returns how many existed."""
        removed = 0
        with self._lock:
            for chunk_id in ids:
                position = self._row_of.pop(int(chunk_id), None)
                if position is None:
                    continue
                last = len(self._row_of)
                if position != last:
                    moved = int(self._ids[last])
                    self._matrix[position] = self._matrix[last]
                    self._ids[position] = moved
                    self._row_of[moved] = position
                removed += 1
        return removed

    def vectors(self, ids: Sequence[int]) -> Vectors:
        """The stored unit vectors of ``ids`` (KeyError for an unknown id)."""
        with self._lock:
            positions = [self._row_of[int(chunk_id)] for chunk_id in ids]
            return self._matrix[positions].copy()

    def similarities(self, query: npt.ArrayLike, ids: Sequence[int]) -> list[float]:
        """Cosine similarity of ``query`` to each stored id (KeyError for an unknown id)."""
        unit = normalise_query(query, self.dimensions)
        return [float(score) for score in self.vectors(ids) @ unit]

    def _allowed_positions(self, allowed: Collection[int]) -> Rows:
        positions = [self._row_of[i] for i in allowed if i in self._row_of]
        return np.asarray(sorted(positions), dtype=np.intp)

    def _search_subset(
        self, matrix: Vectors, unit: Vectors, k: int, allowed: Collection[int]
    ) -> tuple[Rows, Scores]:
        """Top-k among allowed rows: gather few rows, or score all and gather many scores."""
        positions = self._allowed_positions(allowed)
        if len(positions) * 8 < matrix.shape[0]:
            subset_scores = matrix[positions] @ unit
        else:
            subset_scores = (matrix @ unit)[positions]
        best = top_k(subset_scores, k)
        return positions[best], subset_scores[best]

    def search(
        self,
        query: npt.ArrayLike,
        k: int,
        *,
        min_similarity: float | None = None,
        allowed: Collection[int] | None = None,
    ) -> list[tuple[int, float]]:
        """The k most similar ids as ``(id, cosine similarity)``, best first.

        ``min_similarity`` drops weaker rows; ``allowed`` restricts the search to those ids.
        """
        unit = normalise_query(query, self.dimensions)
        with self._lock:
            size = len(self._row_of)
            matrix, ids = self._matrix[:size], self._ids[:size]
            if allowed is None:
                rows, scores = exact_search(matrix, unit, k)
            else:
                rows, scores = self._search_subset(matrix, unit, k, allowed)
            hits = [(int(ids[r]), float(s)) for r, s in zip(rows, scores, strict=True)]
        if min_similarity is not None:
            hits = [hit for hit in hits if hit[1] >= min_similarity]
        return hits
