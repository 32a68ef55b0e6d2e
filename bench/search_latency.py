"""Search latency through Sprig's HTTP API at 10k and 100k chunks, against a numpy scan.

The real server runs in process (bench/_common.py: create_app + httpx ASGITransport, SQLite
on disk in a temp dir); every timed search is ``POST /agents/{id}/search``, sequential.

Corpus (synthetic, built from SciFact read in place, never copied): chunks of 3-8
consecutive SciFact sentences, ten chunks per doc, each doc titled after the SciFact doc
its first chunk comes from; all English, all owned by one agent. They are written straight
into the store's ``docs`` and ``doc_chunks`` tables with the server's own writer
connection (SQLAlchemy Core, batched), so the FTS5 triggers index them exactly as the API
does; ``docs_version`` is bumped so that the search service reloads its vector index.
Embedding 100k chunks with MiniLM on two cores would take hours, so each chunk's vector is
SciFact's precomputed MiniLM vector of a random doc plus Gaussian noise (sd 0.03), then
L2-normalised: the model's geometry, no model run.

Queries: real SciFact claims. Each is embedded once through ``POST /embed`` (that is the
"query embedding" figure, timed separately), then the searches send ``text`` and/or that
``vector``, so the search figures exclude the embedding: text = ``mode: text``, vector =
``mode: vector`` + vector, hybrid = text + vector (default mode, fusion, limit 10); a
"hybrid, server embeds" row sends only the text, as a plain client would. Every other
field keeps the server's default. Per request: wall time of the in-process call, and the
server-side time from its ``Server-Timing: app;dur=<ms>`` header. The numpy baseline is
``matrix @ q`` + argpartition for the same pool the server fetches (limit x k_multiplier
= 50) over the same float32 matrix, interleaved with the requests (each query runs every
case in turn, so background load hits them alike). The first search after the load (cold:
vector index read from the blobs) is reported apart.

    python bench/search_latency.py [--sizes 10000 100000] [--queries 200]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import sqlalchemy as sa
from _common import SCIFACT, Sprig, load_average, new_agent, percentiles, server_ms, sprig_app

from sprig.server.embeddings.base import Vectors, l2_normalise
from sprig.server.ids import new_id, utcnow
from sprig.server.search.ranking import RankOptions
from sprig.server.search.vector import top_k
from sprig.server.services.indexing import bump_version
from sprig.server.store import tables

CHUNKS_PER_DOC = 10
BATCH = 5000  # chunk rows per insert transaction
NOISE = 0.03
TARGET_HYBRID_P50_MS = 25.0
TARGET_VECTOR_RATIO = 2.0


@dataclass
class Source:
    """SciFact sentences (with the title of their doc) and its precomputed doc vectors."""

    sentences: list[str]
    titles: list[str]
    vectors: Vectors


@dataclass
class Synthetic:
    texts: list[str]
    titles: list[str]  # one per doc
    vectors: Vectors


def read_source() -> Source:
    sentences: list[str] = []
    titles: list[str] = []
    for line in (SCIFACT / "corpus.jsonl").open():
        doc = json.loads(line)
        parts = [s.strip() + "." for s in doc["text"].split(". ") if s.strip()]
        sentences.extend(parts)
        titles.extend([doc["title"]] * len(parts))
    vectors = np.load(SCIFACT / "embeddings" / "corpus.all-MiniLM-L6-v2.f32.npy")
    return Source(sentences, titles, vectors)


def synthesise(n: int, source: Source, rng: np.random.Generator) -> Synthetic:
    starts = rng.integers(0, len(source.sentences) - 8, size=n)
    lengths = rng.integers(3, 9, size=n)
    texts = [" ".join(source.sentences[s : s + k]) for s, k in zip(starts, lengths, strict=True)]
    titles = [source.titles[s] for s in starts[::CHUNKS_PER_DOC]]
    picks = rng.integers(0, source.vectors.shape[0], size=n)
    noise = rng.standard_normal((n, source.vectors.shape[1])).astype(np.float32) * NOISE
    return Synthetic(texts, titles, l2_normalise(source.vectors[picks] + noise))


# -- loading straight into the store tables ------------------------------------------------
def doc_rows(dev: UUID, agent: UUID, corpus: Synthetic) -> list[dict[str, Any]]:
    now = utcnow()
    rows = []
    for d, title in enumerate(corpus.titles):
        texts = corpus.texts[d * CHUNKS_PER_DOC : (d + 1) * CHUNKS_PER_DOC]
        rows.append(
            {
                "id": new_id(),
                "developer_id": dev,
                "owner_kind": "agent",
                "owner_id": agent,
                "title": title,
                "content": "\n\n".join(texts),
                "content_hash": hashlib.sha256(f"synthetic {d}".encode()).hexdigest(),
                "metadata": {"synthetic": d},
                "language": "english",
                "modality": "text",
                "status": "ready",
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def chunk_rows(dev: UUID, docs: list[dict[str, Any]], corpus: Synthetic) -> list[dict[str, Any]]:
    return [
        {
            "developer_id": dev,
            "doc_id": docs[i // CHUNKS_PER_DOC]["id"],
            "chunk_index": i % CHUNKS_PER_DOC,
            "content": text,
            "token_count": len(text.split()),
            "embedding": corpus.vectors[i].tobytes(),
        }
        for i, text in enumerate(corpus.texts)
    ]


async def insert(sprig: Sprig, agent_id: str, corpus: Synthetic) -> float:
    """Docs and chunks into the store tables (FTS5 by trigger); returns chunk rows/s."""
    dev = sprig.runtime.startup_key.developer_id  # type: ignore[union-attr]
    docs = doc_rows(dev, UUID(agent_id), corpus)
    chunks = chunk_rows(dev, docs, corpus)
    started = time.perf_counter()
    async with sprig.runtime.db.write() as conn:
        await conn.execute(sa.insert(tables.docs), docs)
    for start in range(0, len(chunks), BATCH):
        async with sprig.runtime.db.write() as conn:
            await conn.execute(sa.insert(tables.doc_chunks), chunks[start : start + BATCH])
            await bump_version(conn, dev)
    return len(chunks) / (time.perf_counter() - started)


# -- timing --------------------------------------------------------------------------------
Case = Callable[[int], Awaitable[float | None]]  # query number -> server ms (None: not HTTP)


@dataclass
class Samples:
    wall: list[float]
    server: list[float]


async def interleaved(cases: dict[str, Case], n: int, warm: int = 3) -> dict[str, Samples]:
    """Each query runs every case in turn (ms); the first ``warm`` rounds are dropped."""
    out = {name: Samples([], []) for name in cases}
    for i in range(-warm, n):
        for name, case in cases.items():
            started = time.perf_counter()
            server = await case(i % n)
            wall = (time.perf_counter() - started) * 1000
            if i >= 0:
                out[name].wall.append(wall)
                if server is not None:
                    out[name].server.append(server)
    return out


async def post_ms(sprig: Sprig, path: str, body: dict[str, Any]) -> float:
    response = await sprig.client.post(path, json=body)
    if response.status_code != 200:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
    return server_ms(response)


async def embed_queries(sprig: Sprig, queries: list[str]) -> tuple[list[list[float]], Samples]:
    """Query vectors through ``POST /embed``, one request per query, timed."""
    vectors: list[list[float]] = []
    samples = Samples([], [])
    await sprig.call("POST", "/embed", {"text": "warm up"})
    for text in queries:
        started = time.perf_counter()
        response = await sprig.client.post("/embed", json={"text": text})
        samples.wall.append((time.perf_counter() - started) * 1000)
        samples.server.append(server_ms(response))
        vectors.append(response.json()["vectors"][0])
    return vectors, samples


def search_cases(
    sprig: Sprig, agent_id: str, queries: list[str], qvecs: list[list[float]], matrix: Vectors
) -> dict[str, Case]:
    path = f"/agents/{agent_id}/search"
    pool = RankOptions().pool
    unit = np.asarray(qvecs, dtype=np.float32)

    async def numpy_scan(i: int) -> None:
        top_k(matrix @ unit[i], pool)

    def body(text: bool, vector: bool, mode: str | None = None) -> Case:
        def make(i: int) -> dict[str, Any]:
            fields = {"text": queries[i] if text else None, "vector": qvecs[i] if vector else None}
            return {k: v for k, v in {**fields, "mode": mode}.items() if v is not None}

        return lambda i: post_ms(sprig, path, make(i))

    return {
        "numpy exact scan (pool 50)": numpy_scan,
        "text": body(True, False, "text"),
        "vector": body(False, True, "vector"),
        "hybrid": body(True, True),
        "hybrid, server embeds": body(True, False),
    }


async def cold_search(sprig: Sprig, agent_id: str, query: str, qvec: list[float]) -> float:
    """The first search after the load: reads every vector blob into the index."""
    started = time.perf_counter()
    await post_ms(sprig, f"/agents/{agent_id}/search", {"text": query, "vector": qvec})
    return (time.perf_counter() - started) * 1000


async def measure_size(
    size: int, source: Source, queries: list[str], rng: np.random.Generator
) -> dict[str, Any]:
    corpus = synthesise(size, source, rng)
    with tempfile.TemporaryDirectory(prefix="sprig-latency-") as tmp:
        async with sprig_app(Path(tmp)) as sprig:
            agent_id = await new_agent(sprig, f"latency-{size}")
            rate = await insert(sprig, agent_id, corpus)
            qvecs, embedding = await embed_queries(sprig, queries)
            cold = await cold_search(sprig, agent_id, queries[0], qvecs[0])
            cases = search_cases(sprig, agent_id, queries, qvecs, corpus.vectors)
            samples = await interleaved(cases, len(queries))
    samples = {"query embedding (POST /embed)": embedding, **samples}
    return {
        "chunks": size,
        "insert_rows_per_s": rate,
        "cold_first_search_ms": cold,
        **summary(samples),
    }


def summary(samples: dict[str, Samples]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, s in samples.items():
        wall = percentiles(s.wall)
        row = {"p50": wall[0], "p99": wall[1]}
        if s.server:
            server = percentiles(s.server)
            row |= {"server_p50": server[0], "server_p99": server[1]}
        figures[name] = row
    scan = figures["numpy exact scan (pool 50)"]["p50"]
    figures["vector_over_numpy"] = figures["vector"]["p50"] / scan
    figures["vector_server_over_numpy"] = figures["vector"]["server_p50"] / scan
    return figures


def print_size(f: dict[str, Any]) -> None:
    print(
        f"\n{f['chunks']} chunks (direct insert {f['insert_rows_per_s']:.0f} rows/s incl. "
        f"FTS5 triggers; cold first search {f['cold_first_search_ms']:.0f} ms)"
    )
    print(f"{'case':32s} {'p50 ms':>8s} {'p99 ms':>8s} {'srv p50':>8s} {'srv p99':>8s}")
    for name, row in f.items():
        if isinstance(row, dict):
            server = (
                f"{row['server_p50']:8.2f} {row['server_p99']:8.2f}" if "server_p50" in row else ""
            )
            print(f"{name:32s} {row['p50']:8.2f} {row['p99']:8.2f} {server}")
    hybrid = f["hybrid"]["p50"]
    print(
        f"vector / numpy p50: {f['vector_over_numpy']:.2f}x (server-side "
        f"{f['vector_server_over_numpy']:.2f}x; target <= {TARGET_VECTOR_RATIO}x); hybrid p50 "
        f"{hybrid:.1f} ms (target <= {TARGET_HYBRID_P50_MS} ms at 100k)"
    )


async def run(sizes: list[int], n_queries: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    source = read_source()
    queries = [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").open()]
    results: dict[str, Any] = {"load_before": load_average()}
    for size in sizes:
        results[str(size)] = await measure_size(size, source, queries[:n_queries], rng)
        print_size(results[str(size)])
    results["load_after"] = load_average()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    results = asyncio.run(run(args.sizes, args.queries))
    print(
        f"\nload average (1 min) before {results['load_before']:.1f}, "
        f"after {results['load_after']:.1f}; wall = in-process ASGI call, srv = Server-Timing"
    )
    print(json.dumps({"bench": "search_latency", "results": results}))


if __name__ == "__main__":
    main()
