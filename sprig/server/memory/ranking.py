"""Hybrid ranking of memories: BM25 (``memory_text``) and cosine similarity of the stored
embeddings, fused by ``search.ranking.rank`` exactly as document search fuses chunks
(min-max normalised, ``alpha`` = weight of the vector side; each memory is its own doc).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from sprig.server.embeddings.base import Vectors
from sprig.server.memory.text import bm25, term_counts
from sprig.server.search.ranking import RankOptions, rank
from sprig.server.search.vector import normalise_query, top_k
from sprig.server.store.crud import Row

Mask = npt.NDArray[np.bool_]


def searchable_text(row: Row) -> str:
    """What BM25 sees: the content, then the names of the entities it mentions."""
    names = [str(e.get("name", "")) for e in row.get("entities") or [] if isinstance(e, dict)]
    return " ".join([row["content"], *names])


def embedding_matrix(rows: Sequence[Row], dimensions: int) -> tuple[Vectors, Mask]:
    """One row per memory (zeros where it has no embedding of ``dimensions`` floats), and
    which rows have one."""
    matrix = np.zeros((len(rows), dimensions), dtype=np.float32)
    present = np.zeros(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        blob = row.get("embedding")
        if blob and len(blob) == dimensions * 4:
            matrix[i] = np.frombuffer(bytes(blob), dtype=np.float32)
            present[i] = True
    return matrix, present


def similarities(rows: Sequence[Row], vector: npt.ArrayLike) -> list[float]:
    """Cosine similarity of each row to a unit ``vector`` (0 for rows without embedding)."""
    unit = np.asarray(vector, dtype=np.float32).reshape(-1)
    matrix, present = embedding_matrix(rows, unit.shape[0])
    return [float(s) for s in (matrix @ unit) * present]


def _vector_hits(
    matrix: Vectors, present: Mask, unit: Vectors, pool: int
) -> list[tuple[int, float]]:
    positions = np.flatnonzero(present)
    scores = matrix[positions] @ unit
    return [(int(positions[i]), float(scores[i])) for i in top_k(scores, pool)]


def rank_memories(
    rows: Sequence[Row], query: str, vector: npt.ArrayLike | None, options: RankOptions
) -> list[tuple[Row, float]]:
    """The best ``options.limit`` rows for the query with their final score, best first.

    ``vector`` is the embedded query; without it the ranking is by text relevance only."""
    text_hits = bm25(query, [term_counts(searchable_text(r)) for r in rows])[: options.pool]
    own = {i: i for i in range(len(rows))}
    if vector is None:
        ranked = rank(text_hits, [], own, RankOptions(mode="text", limit=options.limit))
    else:
        flat = np.asarray(vector, dtype=np.float32).reshape(-1)
        unit = normalise_query(flat, flat.shape[0])
        matrix, present = embedding_matrix(rows, unit.shape[0])
        vector_hits = _vector_hits(matrix, present, unit, options.pool)
        ranked = rank(text_hits, vector_hits, own, options, lambda ids: matrix[list(ids)])
    return [(rows[r.doc_id], r.score) for r in ranked]
