"""Fusion: normalisation, alpha extremes, RRF by hand, confidence, MMR, chunk-to-doc."""

from __future__ import annotations

import numpy as np
import pytest

from sprig.server.embeddings.base import l2_normalise
from sprig.server.search.fusion import (
    above,
    best_per_group,
    dbsf,
    minmax,
    ranked,
    ranked_keys,
    reciprocal_rank_fusion,
    rrf_fusion,
    weighted_fusion,
)
from sprig.server.search.mmr import mmr

# Text (BM25 relevance) and vector (cosine) scores that disagree on the order.
TEXT = {"a": 12.0, "b": 9.0, "c": 3.0, "d": 1.0}
VECTOR = {"c": 0.82, "e": 0.80, "a": 0.40, "b": 0.35}


def test_minmax_maps_best_to_one_and_worst_to_zero() -> None:
    assert minmax({"x": 5.0, "y": 3.0, "z": 1.0}) == {"x": 1.0, "y": 0.5, "z": 0.0}
    assert minmax({"x": 2.0, "y": 2.0}) == {"x": 1.0, "y": 1.0}
    assert minmax({}) == {}


def test_dbsf_is_clipped_to_unit_range_and_keeps_order() -> None:
    scores = {str(i): float(i) for i in range(10)} | {"outlier": 100.0}
    normalised = dbsf(scores)
    assert all(0.0 <= v <= 1.0 for v in normalised.values())
    assert ranked_keys(normalised) == ranked_keys(scores)
    assert dbsf({"only": 3.0}) == {"only": 1.0}


def test_alpha_zero_is_pure_text_and_one_is_pure_vector() -> None:
    for fuse in (weighted_fusion, rrf_fusion):
        text_only = fuse(TEXT, VECTOR, 0.0)
        vector_only = fuse(TEXT, VECTOR, 1.0)
        assert ranked_keys(text_only)[:4] == ["a", "b", "c", "d"]
        assert ranked_keys(vector_only)[:4] == ["c", "e", "a", "b"]


def test_weighted_fusion_by_hand() -> None:
    fused = weighted_fusion(TEXT, VECTOR, 0.5)
    # text: a 1, b 8/11, c 2/11, d 0;  vector: c 1, e 0.45/0.47, a 0.05/0.47, b 0
    assert fused["a"] == pytest.approx(0.5 * 1 + 0.5 * 0.05 / 0.47)
    assert fused["c"] == pytest.approx(0.5 * 2 / 11 + 0.5 * 1)
    assert fused["e"] == pytest.approx(0.5 * 0.45 / 0.47)
    assert fused["d"] == pytest.approx(0.0)
    assert ranked_keys(fused) == ["c", "a", "e", "b", "d"]  # 0.591, 0.553, 0.479, 0.364, 0
    with pytest.raises(ValueError, match="alpha"):
        weighted_fusion(TEXT, VECTOR, 1.5)


def test_rrf_by_hand() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a", "d"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["d"] == pytest.approx(1 / 63)
    assert ranked_keys(fused) == ["a", "c", "b", "d"]
    weighted = reciprocal_rank_fusion([["a"], ["b"]], weights=[0.25, 0.75], k=1)
    assert weighted == {"a": pytest.approx(0.125), "b": pytest.approx(0.375)}


def test_confidence_keeps_scores_at_or_above() -> None:
    assert above(VECTOR, 0.8) == {"c": 0.82, "e": 0.80}
    assert above(VECTOR, 0.9) == {}


def test_ranked_is_stable_for_ties() -> None:
    assert ranked({"x": 1.0, "y": 2.0, "z": 1.0}) == [("y", 2.0), ("x", 1.0), ("z", 1.0)]


def test_best_chunk_represents_its_doc() -> None:
    scores = {1: 0.2, 2: 0.9, 3: 0.5, 4: 0.7}
    doc_of = {1: "A", 2: "A", 3: "B", 4: "B"}
    assert best_per_group(scores, doc_of) == {"A": (2, 0.9), "B": (4, 0.7)}


def unit(*rows: list[float]) -> np.ndarray:
    return l2_normalise(np.array(rows, dtype=np.float32))


def test_mmr_prefers_a_diverse_second_result_over_a_near_duplicate() -> None:
    vectors = unit([1.0, 0.0, 0.0], [0.99, 0.05, 0.0], [0.3, 1.0, 0.0])
    relevance = [1.0, 0.95, 0.7]
    assert [i for i, _ in mmr(relevance, vectors, 2, 0.0)] == [0, 1]
    picks = mmr(relevance, vectors, 2, 0.5)
    assert [i for i, _ in picks] == [0, 2]
    first, second = picks
    assert first[1] == pytest.approx(0.5)
    cos = float(vectors[0] @ vectors[2])
    assert second[1] == pytest.approx(0.5 * 0.7 - 0.5 * cos, abs=1e-6)


def test_mmr_scores_never_increase_and_strength_one_is_pure_diversity() -> None:
    rng = np.random.default_rng(3)
    vectors = l2_normalise(rng.standard_normal((30, 8)))
    relevance = list(rng.random(30))
    scores = [s for _, s in mmr(relevance, vectors, 30, 0.4)]
    assert scores == sorted(scores, reverse=True)
    assert len({i for i, _ in mmr(relevance, vectors, 30, 0.4)}) == 30
    with pytest.raises(ValueError, match="strength"):
        mmr(relevance, vectors, 3, 1.5)
