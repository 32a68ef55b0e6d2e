"""Maximal marginal relevance (Carbonell & Goldstein, 1998) over a candidate pool.

Each step picks the candidate maximising ``(1 - strength) * relevance - strength *
redundancy``, where redundancy is its highest cosine similarity to the ones already
picked (negative similarities count as 0). strength 0 is pure relevance order. The
score of each pick never exceeds the previous pick's, so the picks are sorted by it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sprig.server.embeddings.base import Vectors


def mmr(
    relevance: Sequence[float], vectors: Vectors, limit: int, strength: float
) -> list[tuple[int, float]]:
    """``(position, mmr score)`` of up to ``limit`` picks, in pick order.

    ``vectors`` are the candidates' unit embeddings, one row per relevance.
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError("mmr strength must be within [0, 1]")
    n = len(relevance)
    if vectors.shape[0] != n:
        raise ValueError("one vector per candidate")
    rel = np.asarray(relevance, dtype=np.float64)
    rows = np.ascontiguousarray(vectors, dtype=np.float32)
    redundancy = np.zeros(n, dtype=np.float64)
    taken = np.zeros(n, dtype=bool)
    picks: list[tuple[int, float]] = []
    for _ in range(min(limit, n)):
        score = (1.0 - strength) * rel - strength * redundancy
        score[taken] = -np.inf
        best = int(np.argmax(score))
        picks.append((best, float(score[best])))
        taken[best] = True
        # One matrix-vector product per pick (not an n x n product: far cheaper for
        # limit << n, and BLAS matrix-matrix threading is slow on a busy machine).
        redundancy = np.maximum(redundancy, rows @ rows[best])
    return picks
