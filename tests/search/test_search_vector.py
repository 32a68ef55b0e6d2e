"""Exact vector search: top-k against a full sort, cosine order, query checks."""

from __future__ import annotations

import numpy as np
import pytest

from sprig.server.embeddings.base import l2_normalise
from sprig.server.errors import BadRequestError
from sprig.server.search.vector import exact_search, normalise_query, top_k

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


def test_bad_query_vectors_are_client_errors() -> None:
    with pytest.raises(BadRequestError, match="3 dimensions"):
        normalise_query([1.0, 0.0, 0.0], 4)
    with pytest.raises(BadRequestError, match="zeros"):
        normalise_query([0.0] * 4, 4)
    with pytest.raises(BadRequestError, match="NaN"):
        normalise_query([float("nan"), 0.0, 0.0, 1.0], 4)
    assert np.allclose(normalise_query([3.0, 0.0, 4.0, 0.0], 4), [0.6, 0.0, 0.8, 0.0])
