"""Search latency at 10k and 100k chunks, and ingestion throughput.

Corpus: synthetic chunks of 3-8 consecutive SciFact sentences (read in place from
../shared/data/scifact, never copied), about 10 chunks per doc, all English, one owner.
Vectors: embedding 100k chunks with MiniLM on two cores would take hours, so chunk vectors
are SciFact's precomputed doc vectors plus Gaussian noise (same model, same geometry);
queries are real SciFact claims embedded with the local model (timed separately).

Reported per corpus size: p50/p99 of text (FTS5 BM25), vector (VectorIndex) and hybrid
(both + fusion + MMR when asked), the same text search scoped by an owner subquery, and a
plain numpy exact scan over the same vectors as the baseline for the vector figure.
Ingestion: chunks/s for chunking + FTS5 insert (triggers) + index add, and for the local
embedder on a sample. Prints a table, then one JSON line.

    python bench/search_latency.py [--sizes 10000 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sprig.server.embeddings.base import Vectors, l2_normalise  # noqa: E402
from sprig.server.embeddings.local import LocalEmbedder  # noqa: E402
from sprig.server.search.chunking import chunk_document  # noqa: E402
from sprig.server.search.fts import bm25_search, schema_sql  # noqa: E402
from sprig.server.search.ranking import RankOptions, rank  # noqa: E402
from sprig.server.search.vector import VectorIndex, top_k  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "scifact"
OWNER_SCOPE = "SELECT c.id FROM doc_chunks c JOIN docs d ON d.id = c.doc_id WHERE d.owner = :owner"


def sentences() -> list[str]:
    out = []
    for line in (DATA / "corpus.jsonl").open():
        doc = json.loads(line)
        out.extend(s.strip() + "." for s in doc["text"].split(". ") if s.strip())
    return out


def synthetic_chunks(n: int, pool: list[str], rng: np.random.Generator) -> list[str]:
    starts = rng.integers(0, len(pool) - 8, size=n)
    lengths = rng.integers(3, 9, size=n)
    return [" ".join(pool[s : s + k]) for s, k in zip(starts, lengths, strict=True)]


def synthetic_vectors(n: int, rng: np.random.Generator) -> Vectors:
    base = np.load(DATA / "embeddings" / "corpus.all-MiniLM-L6-v2.f32.npy")
    picks = rng.integers(0, base.shape[0], size=n)
    noise = rng.standard_normal((n, base.shape[1])).astype(np.float32) * 0.03
    return l2_normalise(base[picks] + noise)


@dataclass
class Built:
    conn: sqlite3.Connection
    index: VectorIndex
    matrix: Vectors
    doc_of: dict[int, int]
    ingest_rate: float  # chunks/s: rows + FTS5 (triggers) + vector index
    chunking_rate: float  # chunks/s produced by chunk_document on the same text


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, owner TEXT, title TEXT, language TEXT)"
    )
    conn.execute("CREATE TABLE doc_chunks (id INTEGER PRIMARY KEY, doc_id INTEGER, content TEXT)")
    conn.execute("CREATE INDEX ix_chunks_doc ON doc_chunks (doc_id)")
    for statement in schema_sql():
        conn.execute(statement)
    return conn


def chunking_rate(texts: list[str]) -> float:
    sample = texts[:20_000]
    started = time.perf_counter()
    made = sum(
        len(chunk_document("Doc", "\n\n".join(sample[i : i + 10]), 256, 32))
        for i in range(0, len(sample), 10)
    )
    return made / (time.perf_counter() - started)


def build(path: Path, texts: list[str], vectors: Vectors) -> Built:
    """Each synthetic text is one chunk; ten chunks per doc."""
    conn = connect(path)
    index = VectorIndex(vectors.shape[1])
    doc_of = {chunk_id: (chunk_id - 1) // 10 + 1 for chunk_id in range(1, len(texts) + 1)}
    started = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO docs VALUES (?, 'owner-1', ?, 'english')",
            [(d, f"Synthetic doc {d}") for d in sorted(set(doc_of.values()))],
        )
        conn.executemany(
            "INSERT INTO doc_chunks VALUES (?, ?, ?)",
            [(c, doc_of[c], texts[c - 1]) for c in doc_of],
        )
    index.add(list(doc_of), vectors)
    rate = len(texts) / (time.perf_counter() - started)
    return Built(conn, index, vectors, doc_of, rate, chunking_rate(texts))


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(fn: Callable[[int], object], n: int) -> tuple[float, float]:
    """p50 and p99 in ms over n calls (fn gets the call number), after 3 warm-ups."""
    return percentiles(interleaved({"fn": fn}, n)["fn"])


def interleaved(cases: dict[str, Callable[[int], object]], n: int) -> dict[str, list[float]]:
    """Milliseconds per call; the cases take turns on each query, so that a busy machine
    slows them alike and their ratios stay meaningful."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(-3, n):
        for name, fn in cases.items():
            started = time.perf_counter()
            fn(i)
            if i >= 0:
                samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def measure(built: Built, queries: list[str], qvecs: Vectors) -> dict[str, tuple[float, float]]:
    options = RankOptions()
    pool = options.pool
    n = len(queries)

    def text(i: int) -> object:
        return bm25_search(built.conn, queries[i % n], limit=pool)

    def scoped(i: int) -> object:
        return bm25_search(
            built.conn,
            queries[i % n],
            limit=pool,
            scope_sql=OWNER_SCOPE,
            scope_params={"owner": "owner-1"},
        )

    def vector(i: int) -> object:
        return built.index.search(qvecs[i % n], pool)

    def numpy_scan(i: int) -> object:
        return top_k(built.matrix @ qvecs[i % n], pool)

    def hybrid(i: int) -> object:
        hits = bm25_search(built.conn, queries[i % n], limit=pool)
        near = built.index.search(qvecs[i % n], pool)
        return rank(hits, near, built.doc_of, options, built.index.vectors)

    def hybrid_mmr(i: int) -> object:
        hits = bm25_search(built.conn, queries[i % n], limit=pool)
        near = built.index.search(qvecs[i % n], pool)
        opts = RankOptions(mmr_strength=0.5, confidence=0.5)
        return rank(hits, near, built.doc_of, opts, built.index.vectors)

    def hybrid_parallel(i: int) -> object:
        # What the async store does with asyncio.gather: FTS5 (the GIL is released inside
        # SQLite) and the numpy scan on two threads at once.
        text_future = workers.submit(text, i)
        near = vector(i)
        hits = text_future.result()
        return rank(hits, near, built.doc_of, options, built.index.vectors)

    cases = {
        "numpy exact scan": numpy_scan,
        "vector (index)": vector,
        "text (fts5)": text,
        "text scoped to owner": scoped,
        "hybrid (defaults)": hybrid,
        "hybrid conf 0.5 mmr 0.5": hybrid_mmr,
        "hybrid, text || vector": hybrid_parallel,
    }
    with ThreadPoolExecutor(max_workers=1) as workers:
        samples = interleaved(cases, 2 * n)
    return {name: percentiles(values) for name, values in samples.items()}


def embed_rates(queries: list[str], sample: list[str]) -> dict[str, float]:
    embedder = LocalEmbedder()
    asyncio.run(embedder.embed(["warm up"]))
    per_query = timed(lambda i: asyncio.run(embedder.embed_one(queries[i % len(queries)])), 50)
    started = time.perf_counter()
    asyncio.run(embedder.embed(sample))
    rate = len(sample) / (time.perf_counter() - started)
    return {
        "query_embed_p50_ms": per_query[0],
        "query_embed_p99_ms": per_query[1],
        "embed_chunks_per_s": rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embed-sample", type=int, default=128)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    queries = [json.loads(line)["text"] for line in (DATA / "queries.jsonl").open()]
    queries = queries[: args.queries]
    pool = sentences()
    rates = embed_rates(queries, synthetic_chunks(args.embed_sample, pool, rng))
    qvecs = asyncio.run(LocalEmbedder().embed(queries))
    results: dict[str, object] = {"embedding": rates, "load_before": os.getloadavg()[0]}
    print(
        f"query embedding p50 {rates['query_embed_p50_ms']:.1f} ms; "
        f"MiniLM ingestion {rates['embed_chunks_per_s']:.1f} chunks/s"
    )
    for size in args.sizes:
        texts = synthetic_chunks(size, pool, rng)
        with tempfile.TemporaryDirectory() as tmp:
            built = build(Path(tmp) / "lat.db", texts, synthetic_vectors(size, rng))
            figures = measure(built, queries, qvecs)
            built.conn.close()
        print(
            f"\n{len(built.doc_of)} chunks; ingestion: rows + FTS5 + index "
            f"{built.ingest_rate:.0f} chunks/s, chunking {built.chunking_rate:.0f} chunks/s"
        )
        print(f"{'search':28s} {'p50 ms':>8s} {'p99 ms':>8s}")
        for name, (p50, p99) in figures.items():
            print(f"{name:28s} {p50:8.2f} {p99:8.2f}")
        ratio = figures["vector (index)"][0] / figures["numpy exact scan"][0]
        print(f"vector / numpy p50 ratio: {ratio:.2f}")
        results[str(size)] = {
            "chunks": len(built.doc_of),
            "ingest_chunks_per_s": built.ingest_rate,
            "chunking_chunks_per_s": built.chunking_rate,
            "vector_over_numpy": ratio,
            **{k: {"p50": v[0], "p99": v[1]} for k, v in figures.items()},
        }
    results["load_after"] = os.getloadavg()[0]
    print(
        f"\nload average (1 min) before {results['load_before']:.1f}, "
        f"after {results['load_after']:.1f} on {os.cpu_count()} cores"
    )
    print(json.dumps({"bench": "search_latency", "results": results}))


if __name__ == "__main__":
    main()
