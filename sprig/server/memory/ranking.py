"""Hybrid ranking of memories: BM25 and cosine similarity of the stored embeddings, fused
by ``search.ranking.rank`` exactly as document search fuses chunks (min-max normalised,
``alpha`` = weight of the vector side; each memory is its own doc).

Memories are searched within one agent (and usually one user), a few hundred to a few
thousand short texts, so the text side indexes them per search: a ``search.lexical``
index, the same analysis and BM25 as document search (words folded as FTS5's unicode61,
English stop words dropped, each word stemmed by the Snowball stemmer of the search's
language: Porter for English). Nothing is kept in step with the store, and it runs the
same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from sprig.server.embeddings.base import Vectors
from sprig.server.search.lexical import LexicalIndex, stemmer_name
from sprig.server.search.ranking import RankOptions, rank
from sprig.server.search.vector import normalise_query, top_k
from sprig.server.store.crud import Row

Mask = npt.NDArray[np.bool_]
Hits = list[tuple[int, float]]


def searchable_text(row: Row) -> str:
    """What BM25 sees: the content, then the names of the entities it mentions."""
    names = [str(e.get("name", "")) for e in row.get("entities") or [] if isinstance(e, dict)]
    return " ".join([row["content"], *names])


def text_hits(rows: Sequence[Row], query: str, lang: str | None, pool: int) -> Hits:
    """``(position, BM25 > 0)`` of the best ``pool`` rows for ``query``, best first; rows
    and query analysed for ``lang`` (a code or name; None is English)."""
    if not rows:
        return []
    analyzer = stemmer_name(lang)
    index = LexicalIndex()
    index.add(0, [(analyzer, searchable_text(row)) for row in rows])
    scores = index.scores(query, np.ones(len(rows), dtype=bool), len(rows))
    matching = np.flatnonzero(scores > 0)
    best = matching[top_k(scores[matching], pool)]
    return [(int(i), float(scores[i])) for i in best]


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


def _vector_hits(matrix: Vectors, present: Mask, unit: Vectors, pool: int) -> Hits:
    positions = np.flatnonzero(present)
    scores = matrix[positions] @ unit
    return [(int(positions[i]), float(scores[i])) for i in top_k(scores, pool)]


def rank_memories(
    rows: Sequence[Row],
    query: str,
    vector: npt.ArrayLike | None,
    options: RankOptions,
    lang: str | None = None,
) -> list[tuple[Row, float]]:
    """The best ``options.limit`` rows for the query with their final score, best first.

    ``vector`` is the embedded query; without it the ranking is by text relevance only."""
    found = text_hits(rows, query, lang, options.pool)
    own = {i: i for i in range(len(rows))}
    if vector is None:
        ranked = rank(found, [], own, RankOptions(mode="text", limit=options.limit))
    else:
        flat = np.asarray(vector, dtype=np.float32).reshape(-1)
        unit = normalise_query(flat, flat.shape[0])
        matrix, present = embedding_matrix(rows, unit.shape[0])
        vector_hits = _vector_hits(matrix, present, unit, options.pool)
        ranked = rank(found, vector_hits, own, options, lambda ids: matrix[list(ids)])
    return [(rows[r.doc_id], r.score) for r in ranked]
