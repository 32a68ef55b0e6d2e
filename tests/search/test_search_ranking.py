"""The whole ranking path on a small corpus with known answers (BM25 + vectors + fusion)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest

from sprig.server.embeddings.hashing import HashingEmbedder
from sprig.server.search.chunking import chunk_document
from sprig.server.search.corpus import ChunkRow, Corpus
from sprig.server.search.ranking import Ranked, RankOptions, chunk_scores, rank

DOCS = {
    "vitd": ("Vitamin D", "Vitamin D deficiency lowers bone mineral density in older adults."),
    "vitd-copy": ("Vitamin D", "Vitamin D deficiency lowers bone mineral density in older adults!"),
    "fracture": ("Fractures", "Low vitamin D predicts hip fracture; density scans help."),
    "calcium": ("Calcium", "Calcium intake and bone health: skeletal strength in the elderly."),
    "sleep": ("Sleep", "Short sleep duration raises the risk of obesity in children."),
    "cold": ("Colds", "Vitamin C does not prevent the common cold."),
    "long": (
        "Proteins",
        "Protein folding is studied with molecular dynamics simulations on large clusters.\n\n"
        "Misfolded proteins aggregate in neurodegenerative disease of the brain.",
    ),
}


@dataclass
class Store:
    corpus: Corpus
    texts: dict[int, str]
    embedder: HashingEmbedder

    def search(self, query: str, options: RankOptions) -> list[Ranked[UUID]]:
        vector = self.embedder.embed_text(query)
        everything = self.corpus.mask([OWNER])
        text = self.corpus.text_search(query, everything, options.pool)
        vectors = self.corpus.vector_search(vector, everything, options.pool)
        doc_of = {chunk: doc for chunk, doc, _ in [*text, *vectors]}
        text_hits = [(chunk, score) for chunk, _, score in text]
        vector_hits = [(chunk, score) for chunk, _, score in vectors]
        return rank(text_hits, vector_hits, doc_of, options, self.corpus.vectors)


OWNER = ("agent", uuid5(NAMESPACE_URL, "owner"))


def doc_uuid(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, name)


async def build_store() -> Store:
    embedder = HashingEmbedder(256)
    corpus, texts = Corpus(), {}
    for doc_id, (title, text) in DOCS.items():
        for chunk in chunk_document(title, text, chunk_tokens=16, overlap=0):
            chunk_id = len(texts) + 1
            texts[chunk_id] = chunk.text
            vector = (await embedder.embed([chunk.embed_text]))[0].tobytes()
            row = ChunkRow(chunk_id, doc_uuid(doc_id), OWNER, "english", title, chunk.text, vector)
            corpus.add([row])
    return Store(corpus, texts, embedder)


@pytest.fixture
async def store() -> Store:
    return await build_store()


NAMES = {doc_uuid(name): name for name in DOCS}


def ids(results: list[Ranked[UUID]] | list[Ranked[str]]) -> list[str]:
    return [NAMES.get(r.doc_id, str(r.doc_id)) for r in results]  # type: ignore[arg-type]


QUERY = "vitamin D deficiency and bone density"
PLAIN = RankOptions(limit=5, confidence=None, mmr_strength=0.0)


def test_text_mode_ranks_by_bm25(store: Store) -> None:
    results = store.search(QUERY, replace(PLAIN, mode="text"))
    assert set(ids(results)[:2]) == {"vitd", "vitd-copy"}
    assert ids(results)[2] == "fracture"
    assert "sleep" not in ids(results)  # no shared term
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_alpha_extremes_reproduce_pure_orders(store: Store) -> None:
    text = ids(store.search(QUERY, replace(PLAIN, mode="text")))
    vector = ids(store.search(QUERY, replace(PLAIN, mode="vector")))
    assert text != vector  # the two retrievers disagree on this corpus
    for fusion in ("weighted", "rrf"):
        opts = replace(PLAIN, fusion=fusion)
        assert ids(store.search(QUERY, replace(opts, alpha=0.0)))[: len(text)] == text
        assert ids(store.search(QUERY, replace(opts, alpha=1.0)))[: len(vector)] == vector


def test_confidence_cuts_vector_hits_by_similarity(store: Store) -> None:
    loose = store.search(QUERY, replace(PLAIN, mode="vector"))
    assert len(loose) == 5
    floor = (loose[1].score + loose[2].score) / 2
    strict = store.search(QUERY, replace(PLAIN, mode="vector", confidence=floor))
    assert ids(strict) == ids(loose)[:2]
    assert all(r.score >= floor for r in strict)
    # In hybrid mode the cut drops weak vector hits, while text hits still count.
    hybrid = store.search(QUERY, replace(PLAIN, confidence=0.999))
    assert ids(hybrid) == ids(store.search(QUERY, replace(PLAIN, mode="text")))


def test_mmr_replaces_the_near_duplicate(store: Store) -> None:
    plain = ids(store.search(QUERY, replace(PLAIN, limit=2)))
    assert set(plain) == {"vitd", "vitd-copy"}
    diverse = store.search(QUERY, replace(PLAIN, limit=2, mmr_strength=0.5))
    assert ids(diverse)[0] in {"vitd", "vitd-copy"}
    assert ids(diverse)[1] in {"fracture", "calcium"}  # relevant, and not a copy of the first
    assert diverse[0].score >= diverse[1].score


def test_mmr_is_not_used_for_text_search(store: Store) -> None:
    options = replace(PLAIN, mode="text", limit=2, mmr_strength=0.9)
    assert set(ids(store.search(QUERY, options))) == {"vitd", "vitd-copy"}


def test_best_chunk_is_the_snippet(store: Store) -> None:
    results = store.search("misfolded proteins aggregate", replace(PLAIN, mode="text"))
    assert ids(results)[0] == "long"
    assert store.texts[results[0].chunk_id].startswith("Misfolded")
    assert ids(results).count("long") == 1


def test_limit_and_pool() -> None:
    options = RankOptions(limit=3, k_multiplier=4)
    assert options.pool == 12
    hits = [(i, 1.0 / i) for i in range(1, 13)]
    results = rank(hits, [], {i: f"d{i}" for i in range(1, 13)}, replace(options, mode="text"))
    assert ids(results) == ["d1", "d2", "d3"]
    assert chunk_scores(hits, [(1, 0.9)], replace(options, mode="vector")) == {1: 0.9}
