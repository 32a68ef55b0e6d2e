"""Exact vector search: top-k against a full sort, and the in-memory index's bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

from sprig.server.embeddings.base import l2_normalise
from sprig.server.errors import BadRequestError
from sprig.server.search.vector import VectorIndex, exact_search, top_k

RNG = np.random.default_rng(7)


def random_unit(n: int, d: int = 16) -> np.ndarray:
    return l2_normalise(RNG.standard_normal((n, d)))


@pytest.mark.parametrize("k", [0, 1, 5, 99, 100, 150])
def test_top_k_matches_a_full_sort(k: int) -> None:
    scores = RNG.standard_normal(100).astype(np.float32)
    expected = np.argsort(-scores, kind="stable")[:k]
    assert top_k(scores, k).tolist() == expected.tolist()


def test_top_k_breaks_ties_by_position() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.9, 0.1], dtype=np.float32)
    assert top_k(scores, 3).tolist() == [1, 3, 0]


def test_exact_search_is_cosine_order() -> None:
    matrix = random_unit(50)
    query = matrix[10] + 0.01 * random_unit(1)[0]
    query /= np.linalg.norm(query)
    rows, scores = exact_search(matrix, query, 3)
    assert rows[0] == 10
    assert np.allclose(scores, [float(matrix[r] @ query) for r in rows])
    assert list(scores) == sorted(scores, reverse=True)


def test_index_add_replace_remove_keeps_ids_straight() -> None:
    vectors = random_unit(6)
    index = VectorIndex(16, capacity=2)  # forces growth
    index.add([10, 11, 12, 13, 14, 15], vectors * 3.0)  # normalised on the way in
    assert len(index) == 6 and 12 in index
    assert index.remove([11, 99, 11]) == 1
    assert len(index) == 5 and 11 not in index
    for i, chunk in enumerate([10, 12, 13, 14, 15]):
        row = vectors[[0, 2, 3, 4, 5][i]]
        assert index.search(row, 1)[0][0] == chunk
        assert index.similarities(row, [chunk]) == pytest.approx([1.0], abs=1e-5)
    index.add([12], vectors[1:2])  # replace 12's vector
    assert index.search(vectors[1], 1)[0] == (12, pytest.approx(1.0, abs=1e-5))
    assert len(index) == 5


def test_search_options() -> None:
    vectors = random_unit(200)
    ids = list(range(1000, 1200))
    index = VectorIndex.from_blobs(
        16, [(i, v.tobytes()) for i, v in zip(ids, vectors, strict=True)]
    )
    query = vectors[5]
    full = index.search(query, 200)
    assert full[0] == (1005, pytest.approx(1.0, abs=1e-5))
    assert [s for _, s in full] == sorted((s for _, s in full), reverse=True)
    cut = index.search(query, 200, min_similarity=0.3)
    assert cut == [hit for hit in full if hit[1] >= 0.3]
    for allowed in ({1001, 1002, 1003}, set(ids[::2])):  # gather path, then mask path
        got = index.search(query, 5, allowed=allowed)
        want = [hit for hit in full if hit[0] in allowed][:5]
        assert [i for i, _ in got] == [i for i, _ in want]
        assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-5)
    assert index.search(query, 5, allowed=set()) == []


def test_bad_query_vectors_are_client_errors() -> None:
    index = VectorIndex(4)
    index.add([1], [[1.0, 0.0, 0.0, 0.0]])
    with pytest.raises(BadRequestError, match="3 dimensions"):
        index.search([1.0, 0.0, 0.0], 1)
    with pytest.raises(BadRequestError, match="zeros"):
        index.search([0.0] * 4, 1)
    with pytest.raises(BadRequestError, match="NaN"):
        index.search([float("nan"), 0.0, 0.0, 1.0], 1)


def test_empty_index_returns_nothing() -> None:
    assert VectorIndex(4).search([1.0, 0.0, 0.0, 0.0], 5) == []
    assert VectorIndex.from_blobs(4, []).search([0.0, 1.0, 0.0, 0.0], 5) == []
