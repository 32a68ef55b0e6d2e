"""From raw hits to the final doc ranking: cut-off, fusion, chunk-to-doc, MMR.

The store runs the two retrievals (``Corpus.text_search`` and ``Corpus.vector_search``, or
their PostgreSQL twins, each for ``options.pool`` chunks) and hands the hits here; this
module does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from sprig.server.embeddings.base import Vectors
from sprig.server.search.fusion import (
    Normalisation,
    above,
    best_per_group,
    minmax,
    ranked,
    rrf_fusion,
    weighted_fusion,
)
from sprig.server.search.mmr import mmr

D = TypeVar("D", bound=Hashable)
Mode = Literal["text", "vector", "hybrid"]
Fusion = Literal["weighted", "rrf"]
Hits = Sequence[tuple[int, float]]

# The defaults of a doc search and of memory search (``search.options`` reads them; a session's
# recall_options differ only where Julep's wire contract says so). Measured on SciFact
# (bench/search_quality.py; nDCG@10 on test). Weighted min-max fusion beat RRF and DBSF on train;
# alpha 0.4 and 0.5 tied on train (0.7309 vs 0.7300), 0.5 is kept (Julep's documented default).
# Julep's confidence 0.5 and mmr_strength 0.5 cost 0.055 nDCG (0.731 -> 0.676): MiniLM
# similarities of relevant docs are often under 0.5, and MMR demotes relevant near-duplicates; so
# no similarity floor beyond 0, no MMR. k_multiplier 5 is Julep's for search requests (7 for
# recall_options: search.options); on SciFact 7 and 5 tie (hybrid nDCG@10 0.7300 vs 0.7302,
# recall@50 0.939 vs 0.938).
DEFAULT_LIMIT = 10
DEFAULT_ALPHA = 0.5
DEFAULT_CONFIDENCE = 0.0
DEFAULT_MMR_STRENGTH = 0.0
DEFAULT_K_MULTIPLIER = 5


@dataclass(frozen=True, slots=True)
class RankOptions:
    """How to rank. ``confidence`` is a floor on cosine similarity for vector hits (in
    hybrid mode it drops weak vector hits; text hits stay); None or -1 means no floor."""

    mode: Mode = "hybrid"
    limit: int = DEFAULT_LIMIT
    alpha: float = DEFAULT_ALPHA
    confidence: float | None = DEFAULT_CONFIDENCE
    mmr_strength: float = DEFAULT_MMR_STRENGTH
    k_multiplier: int = DEFAULT_K_MULTIPLIER
    fusion: Fusion = "weighted"
    normalisation: Normalisation = "minmax"

    @property
    def pool(self) -> int:
        """Chunks to fetch from each retriever: ``limit x k_multiplier``."""
        return max(1, self.limit) * max(1, self.k_multiplier)


@dataclass(frozen=True, slots=True)
class Ranked(Generic[D]):
    doc_id: D
    chunk_id: int  # the doc's best chunk: its snippet
    score: float  # final score; results are sorted by it (the MMR score when MMR ran)
    relevance: float  # the score before MMR: BM25, cosine similarity or fused


def chunk_scores(text_hits: Hits, vector_hits: Hits, options: RankOptions) -> dict[int, float]:
    """One relevance per chunk, for the mode asked."""
    text = dict(text_hits) if options.mode != "vector" else {}
    vector = dict(vector_hits) if options.mode != "text" else {}
    if options.confidence is not None:
        vector = above(vector, options.confidence)
    if options.mode == "text":
        return text
    if options.mode == "vector":
        return vector
    if options.fusion == "rrf":
        return rrf_fusion(text, vector, options.alpha)
    return weighted_fusion(text, vector, options.alpha, options.normalisation)


def _with_mmr(
    docs: list[tuple[D, int, float]],
    vectors_of: Callable[[Sequence[int]], Vectors],
    options: RankOptions,
) -> list[Ranked[D]]:
    relevance = minmax({i: rel for i, (_, _, rel) in enumerate(docs)})
    vectors = vectors_of([chunk for _, chunk, _ in docs])
    picks = mmr(
        [relevance[i] for i in range(len(docs))], vectors, options.limit, options.mmr_strength
    )
    return [Ranked(docs[i][0], docs[i][1], score, docs[i][2]) for i, score in picks]


def rank(
    text_hits: Hits,
    vector_hits: Hits,
    doc_of: Mapping[int, D],
    options: RankOptions,
    vectors_of: Callable[[Sequence[int]], Vectors] | None = None,
) -> list[Ranked[D]]:
    """The best ``options.limit`` docs, sorted by final score.

    ``doc_of`` maps every hit's chunk id to its doc; ``vectors_of`` returns chunk
    embeddings (needed for MMR, which runs for vector and hybrid searches when
    ``mmr_strength > 0`` and there are more candidate docs than ``limit``).
    """
    scores = chunk_scores(text_hits, vector_hits, options)
    best = best_per_group(scores, doc_of)
    docs = [(doc, chunk, value) for doc, (chunk, value) in best.items()]
    use_mmr = options.mode != "text" and options.mmr_strength > 0 and len(docs) > options.limit
    if use_mmr and vectors_of is not None:
        return _with_mmr(docs, vectors_of, options)
    ordered = ranked({i: value for i, (_, _, value) in enumerate(docs)})[: options.limit]
    return [Ranked(docs[i][0], docs[i][1], value, value) for i, value in ordered]
