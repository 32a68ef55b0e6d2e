"""Pure functions that turn text and vector hits into one ranking.

Orientation: every score here is a relevance, higher = better. Vector scores are cosine
similarities (not distances); text scores are BM25 relevances (higher is better).

Normalisation (``minmax``, the default): each list is mapped to [0, 1] by its own minimum
and maximum, so the best hit of each list scores 1 and the weakest 0; a hit absent from a
list gets 0 there (it scored at most that list's minimum). ``dbsf`` (distribution-based:
mean +/- 3 standard deviations, clipped) is offered too; ``rrf`` ignores scores and fuses
ranks. Which one is the default was measured on SciFact's train split (bench/search_quality).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Literal, TypeVar

K = TypeVar("K", bound=Hashable)
G = TypeVar("G", bound=Hashable)
Normalisation = Literal["minmax", "dbsf"]

RRF_K = 60


def minmax(scores: Mapping[K, float]) -> dict[K, float]:
    """Scores mapped to [0, 1]; if all are equal, every one is 1 (each is the best)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low <= 1e-12:
        return dict.fromkeys(scores, 1.0)
    span = high - low
    return {key: (value - low) / span for key, value in scores.items()}


def dbsf(scores: Mapping[K, float]) -> dict[K, float]:
    """Distribution-based normalisation: [mean - 3 sd, mean + 3 sd] mapped to [0, 1]."""
    if len(scores) < 2:
        return dict.fromkeys(scores, 1.0)
    values = list(scores.values())
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if sd <= 1e-12:
        return dict.fromkeys(scores, 1.0)
    low = mean - 3 * sd
    return {k: min(1.0, max(0.0, (v - low) / (6 * sd))) for k, v in scores.items()}


NORMALISERS: dict[str, Callable[[Mapping[K, float]], dict[K, float]]] = {
    "minmax": minmax,
    "dbsf": dbsf,
}


def _check_alpha(alpha: float) -> None:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must be within [0, 1]")


def weighted_fusion(
    text: Mapping[K, float],
    vector: Mapping[K, float],
    alpha: float,
    normalisation: Normalisation = "minmax",
) -> dict[K, float]:
    """``alpha * vector + (1 - alpha) * text`` of normalised scores, over both lists.

    alpha 0 ranks by text alone, 1 by vector alone (then a hit of the other list only
    scores 0 and sorts last).
    """
    _check_alpha(alpha)
    norm = NORMALISERS[normalisation]
    text_n, vector_n = norm(text), norm(vector)
    keys = list(dict.fromkeys([*text_n, *vector_n]))
    return {k: alpha * vector_n.get(k, 0.0) + (1.0 - alpha) * text_n.get(k, 0.0) for k in keys}


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], weights: Sequence[float] | None = None, k: int = RRF_K
) -> dict[K, float]:
    """``sum_i weight_i / (k + rank_i)`` with ranks from 1 (Cormack et al., 2009)."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    fused: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return fused


def rrf_fusion(
    text: Mapping[K, float], vector: Mapping[K, float], alpha: float, k: int = RRF_K
) -> dict[K, float]:
    """RRF of the two lists (each ordered by its own score), weighted by alpha like above."""
    _check_alpha(alpha)
    return reciprocal_rank_fusion(
        [ranked_keys(text), ranked_keys(vector)], weights=[1.0 - alpha, alpha], k=k
    )


def ranked_keys(scores: Mapping[K, float]) -> list[K]:
    return [key for key, _ in ranked(scores)]


def ranked(scores: Mapping[K, float]) -> list[tuple[K, float]]:
    """Best first; equal scores keep their insertion order (sorting is stable)."""
    return sorted(scores.items(), key=lambda item: -item[1])


def above(scores: Mapping[K, float], threshold: float) -> dict[K, float]:
    """The ``confidence`` cut-off: only scores >= threshold."""
    return {key: value for key, value in scores.items() if value >= threshold}


def best_per_group(scores: Mapping[K, float], group_of: Mapping[K, G]) -> dict[G, tuple[K, float]]:
    """Chunk scores to doc scores: each group keeps its best member (the snippet)."""
    best: dict[G, tuple[K, float]] = {}
    for key, value in ranked(scores):
        best.setdefault(group_of[key], (key, value))
    return best
