"""The whole ranking path on a small corpus with known answers (FTS5 + vectors + fusion)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest

from sprig.server.embeddings.hashing import HashingEmbedder
from sprig.server.search.chunking import chunk_document
from sprig.server.search.fts import bm25_search, schema_sql
from sprig.server.search.ranking import Ranked, RankOptions, chunk_scores, rank
from sprig.server.search.vector import VectorIndex

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
    conn: sqlite3.Connection
    index: VectorIndex
    doc_of: dict[int, str]
    embedder: HashingEmbedder

    def search(self, query: str, options: RankOptions) -> list[Ranked[str]]:
        vector = self.embedder.embed_text(query)
        text_hits = bm25_search(self.conn, query, limit=options.pool)
        vector_hits = self.index.search(vector, options.pool)
        return rank(text_hits, vector_hits, self.doc_of, options, self.index.vectors)


async def build_store() -> Store:
    embedder = HashingEmbedder(256)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, title TEXT, language TEXT)")
    conn.execute("CREATE TABLE doc_chunks (id INTEGER PRIMARY KEY, doc_id TEXT, content TEXT)")
    for statement in schema_sql():
        conn.execute(statement)
    index, doc_of = VectorIndex(256), {}
    for doc_id, (title, text) in DOCS.items():
        conn.execute("INSERT INTO docs VALUES (?, ?, 'english')", (doc_id, title))
        chunks = chunk_document(title, text, chunk_tokens=16, overlap=0)
        for chunk in chunks:
            chunk_id = len(doc_of) + 1
            conn.execute("INSERT INTO doc_chunks VALUES (?, ?, ?)", (chunk_id, doc_id, chunk.text))
            doc_of[chunk_id] = doc_id
            index.add([chunk_id], await embedder.embed([chunk.embed_text]))
    return Store(conn, index, doc_of, embedder)


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    built = await build_store()
    yield built
    built.conn.close()


def ids(results: list[Ranked[str]]) -> list[str]:
    return [r.doc_id for r in results]


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
    chunk = results[0].chunk_id
    text = store.conn.execute("SELECT content FROM doc_chunks WHERE id = ?", (chunk,)).fetchone()
    assert text[0].startswith("Misfolded")
    assert ids(results).count("long") == 1


def test_limit_and_pool() -> None:
    options = RankOptions(limit=3, k_multiplier=4)
    assert options.pool == 12
    hits = [(i, 1.0 / i) for i in range(1, 13)]
    results = rank(hits, [], {i: f"d{i}" for i in range(1, 13)}, replace(options, mode="text"))
    assert ids(results) == ["d1", "d2", "d3"]
    assert chunk_scores(hits, [(1, 0.9)], replace(options, mode="vector")) == {1: 0.9}
