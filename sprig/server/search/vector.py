"""Exact cosine top-k over unit float32 rows with numpy.

Rows are L2-normalised when stored (``search.corpus``), so cosine similarity is one
matrix-vector product; ``argpartition`` then finds the top k in linear time. Exact search
over 100k x 384 rows costs 6-9 ms on two cores (bench/search_latency.py), which is why no
approximate index is used on SQLite (PostgreSQL uses pgvector's HNSW).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sprig.server.embeddings.base import Vectors
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
