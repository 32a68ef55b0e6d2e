"""Retrieval quality on SciFact through Sprig's HTTP API: nDCG@10 and recall@50.

What runs is the real server, in process (see bench/_common.py), with a temp SQLite data dir
and the default embedding model (the bundled all-MiniLM-L6-v2):

1. Ingestion: the 5,183 SciFact docs (read in place from ../shared/data/scifact, never
   copied into the repo) are created as ONE agent's docs with ``POST /agents/{id}/docs``
   (title = the doc's title, content = its text, metadata ``{"doc_id": <SciFact id>}``);
   the server chunks and embeds each doc before the call returns. Throughput is reported
   in chunks/s (wall time of all the creates / chunks written).
2. Queries: the 300 test claims through ``POST /agents/{id}/search`` with ``mode`` text,
   vector and hybrid, every other field left to the server's defaults (what a user gets).
   nDCG@10 is computed from a default ``limit: 10`` request. The API caps ``limit`` at 50,
   so recall is recall@50 (not BEIR's usual @100), from a second request with limit 50.
   Hits map back to SciFact ids through the Sprig doc id -> SciFact id map kept at load.

Embedding ~9k chunks on two cores takes minutes, so the loaded data dir is cached under
~/.cache/sprig-bench/scifact-<key> (outside the repo), keyed by a hash of corpus.jsonl, the
settings that shape the store (model, chunking) and the server code that writes it; a later
run copies it to a temp dir and reuses it (the output says so, with the throughput measured
when it was built). ``--no-cache`` always loads afresh.

``--backend postgres`` searches the same store on PostgreSQL: a pgserver in the temp dir,
the app migrated on it, and every doc copied with its chunks and vectors through the
server's own write path (``insert_doc``: the pgvector column, the tsvector in the doc's
language, the HNSW index), so both backends rank the very same chunks and embeddings.

    python bench/search_quality.py [--no-cache] [--variants] [--concurrency 4]
        [--backend sqlite|postgres]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import sqlalchemy as sa
from _common import (
    CACHE,
    ROOT,
    SCIFACT,
    Sprig,
    bench_settings,
    new_agent,
    pg_app,
    pgserver_database,
    server_ms,
    sprig_app,
)

from sprig.server.docs.indexing import PreparedDoc
from sprig.server.docs.service import insert_doc
from sprig.server.search.chunking import Chunk
from sprig.server.store import tables

Qrels = dict[str, dict[str, int]]
BASELINES = {"text": 0.679, "vector": 0.645}  # BM25 (bm25s) and MiniLM cosine, this copy
TARGET_HYBRID = 0.73
CACHE_FORMAT = 1
# Server code whose changes invalidate a cached store (what is chunked, stored, indexed).
STORE_CODE = [
    "sprig/server/search/chunking.py",
    "sprig/server/docs/indexing.py",
    "sprig/server/docs/service.py",
    "sprig/server/store/tables.py",
    "sprig/server/embeddings/local.py",
]
VARIANTS: dict[str, dict[str, Any]] = {
    "hybrid, Julep defaults (confidence 0.5, mmr 0.5)": {"confidence": 0.5, "mmr_strength": 0.5},
    "hybrid, alpha 0.3": {"alpha": 0.3},
    "hybrid, alpha 0.7": {"alpha": 0.7},
    "hybrid, mmr_strength 0.3": {"mmr_strength": 0.3},
    "hybrid, k_multiplier 5 (Julep's search default)": {"k_multiplier": 5},
}


@dataclass
class Corpus:
    docs: list[dict[str, str]]
    queries: dict[str, str]
    qrels: Qrels  # test split


@dataclass
class Store:
    """A loaded agent: where its data dir is, and what the load measured."""

    agent_id: str
    doc_map: dict[str, str]  # Sprig doc id -> SciFact id
    chunks: int
    seconds: float
    cached: bool = False

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.seconds

    def manifest(self) -> dict[str, Any]:
        keys = ("agent_id", "doc_map", "chunks", "seconds")
        return {k: getattr(self, k) for k in keys}


def load(data: Path, max_docs: int | None, max_queries: int | None = None) -> Corpus:
    docs = [json.loads(line) for line in (data / "corpus.jsonl").open()][:max_docs]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (data / "queries.jsonl").open())}
    qrels: Qrels = {}
    for line in list((data / "qrels" / "test.tsv").open())[1:]:
        query_id, doc_id, score = line.rstrip("\n").split("\t")
        qrels.setdefault(query_id, {})[doc_id] = int(score)
    if max_queries is not None:
        qrels = dict(list(qrels.items())[:max_queries])
    return Corpus(docs, queries, qrels)


# -- metrics -------------------------------------------------------------------------------
def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], relevant: dict[str, int], k: int) -> float:
    hits = {d for d in ranked[:k] if relevant.get(d, 0) > 0}
    wanted = {d for d, r in relevant.items() if r > 0}
    return len(hits) / len(wanted) if wanted else 0.0


# -- loading through the API ---------------------------------------------------------------
def cache_key(data: Path, max_docs: int | None) -> str:
    settings = bench_settings(Path("unused"))
    shaping = [settings.embedding_model, settings.chunk_tokens, settings.chunk_overlap]
    digest = hashlib.sha256((data / "corpus.jsonl").read_bytes())
    digest.update(json.dumps([CACHE_FORMAT, max_docs, *shaping]).encode())
    for name in STORE_CODE:
        digest.update((ROOT / name).read_bytes())
    for migration in sorted((ROOT / "sprig/server/store/migrations/versions").glob("*.py")):
        digest.update(migration.name.encode())
    return digest.hexdigest()[:16]


async def create_doc(sprig: Sprig, agent_id: str, doc: dict[str, str]) -> tuple[str, str]:
    body = {"title": doc["title"], "content": doc["text"], "metadata": {"doc_id": doc["_id"]}}
    created = await sprig.call("POST", f"/agents/{agent_id}/docs", body, status=201)
    if created["status"] != "ready":
        raise RuntimeError(f"doc {doc['_id']} is {created['status']}, not ready on return")
    return str(created["id"]), doc["_id"]


async def ingest(sprig: Sprig, agent_id: str, docs: list[dict[str, str]], workers: int) -> Store:
    """All docs through the API, ``workers`` requests in flight; chunks/s over the wall time."""
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for doc in docs:
        queue.put_nowait(doc)
    doc_map: dict[str, str] = {}
    started = time.perf_counter()

    async def worker() -> None:
        while not queue.empty():
            sprig_id, original = await create_doc(sprig, agent_id, queue.get_nowait())
            doc_map[sprig_id] = original
            if len(doc_map) % 500 == 0:
                rate = len(doc_map) / (time.perf_counter() - started)
                print(f"  {len(doc_map)}/{len(docs)} docs ({rate:.1f} docs/s)", file=sys.stderr)

    await asyncio.gather(*(worker() for _ in range(workers)))
    seconds = time.perf_counter() - started
    return Store(agent_id, doc_map, await count_chunks(sprig), seconds)


async def count_chunks(sprig: Sprig) -> int:
    """Chunks written, after checking every one has its embedding."""
    c = tables.doc_chunks
    async with sprig.runtime.db.read() as conn:
        total = (await conn.execute(sa.select(sa.func.count()).select_from(c))).scalar_one()
        missing = sa.select(sa.func.count()).select_from(c).where(c.c.embedding.is_(None))
        if (await conn.execute(missing)).scalar_one():
            raise RuntimeError("some chunks have no embedding after their doc was created")
    return int(total)


async def build_store(data_dir: Path, corpus: Corpus, workers: int) -> Store:
    async with sprig_app(data_dir) as sprig:
        agent_id = await new_agent(sprig, "scifact")
        print(f"loading {len(corpus.docs)} docs through the API...", file=sys.stderr)
        return await ingest(sprig, agent_id, corpus.docs, workers)


def from_cache(path: Path, data_dir: Path) -> Store | None:
    manifest = path / "manifest.json"
    if not manifest.is_file():
        return None
    shutil.copytree(path / "data", data_dir, dirs_exist_ok=True)
    return Store(**json.loads(manifest.read_text()), cached=True)


def save_cache(path: Path, data_dir: Path, store: Store) -> None:
    staging = path.with_name(path.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(data_dir, staging / "data")
    (staging / "manifest.json").write_text(json.dumps(store.manifest()))
    shutil.rmtree(path, ignore_errors=True)
    staging.rename(path)


async def prepare(args: argparse.Namespace, corpus: Corpus, data_dir: Path) -> Store:
    path = CACHE / f"scifact-{cache_key(args.data, args.max_docs)}"
    store = None if args.no_cache else from_cache(path, data_dir)
    if store is None:
        store = await build_store(data_dir, corpus, args.concurrency)
        if not args.no_cache:
            save_cache(path, data_dir, store)
    return store


# -- evaluation ----------------------------------------------------------------------------
async def search(
    sprig: Sprig, store: Store, text: str, limit: int, extra: dict[str, Any]
) -> tuple[list[str], float]:
    """SciFact ids ranked by one search request, and its server-side time (ms)."""
    body = {"text": text, "limit": limit, **extra}
    response = await sprig.client.post(f"/agents/{store.agent_id}/search", json=body)
    if response.status_code != 200:
        raise RuntimeError(f"search: {response.status_code} {response.text[:500]}")
    docs = response.json()["docs"]
    return [store.doc_map[d["id"]] for d in docs], server_ms(response)


async def evaluate(
    sprig: Sprig, store: Store, corpus: Corpus, extra: dict[str, Any]
) -> dict[str, float]:
    """Means over the test queries: nDCG@10 (limit 10), recall@50 and nDCG@10 (limit 50)."""
    sums = {"ndcg@10": 0.0, "recall@50": 0.0, "ndcg@10_of_limit50": 0.0}
    times: list[float] = []
    for qid, relevant in corpus.qrels.items():
        top10, ms = await search(sprig, store, corpus.queries[qid], 10, extra)
        top50, _ = await search(sprig, store, corpus.queries[qid], 50, extra)
        sums["ndcg@10"] += ndcg_at(top10, relevant)
        sums["recall@50"] += recall_at(top50, relevant, 50)
        sums["ndcg@10_of_limit50"] += ndcg_at(top50, relevant)
        times.append(ms)
    figures = {name: total / len(corpus.qrels) for name, total in sums.items()}
    figures["server_ms_p50"] = sorted(times)[len(times) // 2]
    return figures


def configurations(variants: bool) -> dict[str, dict[str, Any]]:
    configs: dict[str, dict[str, Any]] = {
        "text (BM25)": {"mode": "text"},
        "vector (MiniLM)": {"mode": "vector"},
        "hybrid (defaults)": {"mode": "hybrid"},
        "text only, no mode (the default)": {},
    }
    if variants:
        configs.update({label: {"mode": "hybrid", **v} for label, v in VARIANTS.items()})
    return configs


# -- PostgreSQL: the same store, copied --------------------------------------------------
async def copy_to(target: Sprig, source: Sprig, store: Store) -> Store:
    """The loaded docs, chunks and vectors into ``target`` (PostgreSQL) through the server's
    own write path (``insert_doc``: blob, pgvector, tsvector), one transaction per doc: the
    same chunks and embeddings as on SQLite, without embedding them again."""
    agent_id = await new_agent(target, "scifact")
    dev = target.runtime.startup_key.developer_id  # type: ignore[union-attr]
    model = target.runtime.indexer.embedder.name
    doc_map: dict[str, str] = {}
    started = time.perf_counter()
    async for doc, prepared in stored_docs(source):
        async with target.runtime.db.write() as conn:
            row = await insert_doc(conn, dev, "agent", UUID(agent_id), doc, prepared, model)
        doc_map[str(row["id"])] = doc["metadata"]["doc_id"]
    seconds = time.perf_counter() - started
    print(f"  copied {len(doc_map)} docs to PostgreSQL in {seconds:.0f} s", file=sys.stderr)
    async with target.runtime.db.read() as conn:  # the text index the server loads itself
        await target.runtime.search.corpora.get(conn, dev)
    return Store(agent_id, doc_map, store.chunks, store.seconds, store.cached)


async def stored_docs(sprig: Sprig) -> AsyncIterator[tuple[dict[str, Any], PreparedDoc]]:
    d, c = tables.docs, tables.doc_chunks
    async with sprig.runtime.db.read() as conn:
        docs = (await conn.execute(sa.select(d).order_by(d.c.created_at))).mappings().all()
        chunks = await conn.execute(sa.select(c).order_by(c.c.doc_id, c.c.chunk_index))
        by_doc: dict[Any, list[Any]] = {}
        for chunk in chunks.mappings():
            by_doc.setdefault(chunk["doc_id"], []).append(chunk)
    for doc in docs:
        rows = by_doc[doc["id"]]
        chunks = [
            Chunk(
                r["chunk_index"], r["content"], r["token_count"], f"{doc['title']}\n{r['content']}"
            )
            for r in rows
        ]
        vectors = np.stack([np.frombuffer(r["embedding"], dtype=np.float32) for r in rows])
        body = {k: doc[k] for k in ("title", "content", "metadata", "language")}
        yield body, PreparedDoc(chunks, vectors)


@asynccontextmanager
async def evaluated_app(
    args: argparse.Namespace, data_dir: Path, store: Store
) -> AsyncIterator[tuple[Sprig, Store]]:
    """The app to search: on the SQLite store, or on a PostgreSQL copy of it."""
    async with sprig_app(data_dir) as sqlite:
        if args.backend == "sqlite":
            yield sqlite, store
            return
        root = data_dir.parent
        async with pgserver_database(root) as url, pg_app(root / "pg-app", url) as pg:
            yield pg, await copy_to(pg, sqlite, store)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = load(args.data, args.max_docs, args.max_queries)
    with tempfile.TemporaryDirectory(prefix="sprig-quality-") as tmp:
        data_dir = Path(tmp) / "sqlite"
        store = await prepare(args, corpus, data_dir)
        async with evaluated_app(args, data_dir, store) as (sprig, searched):
            rows = {}
            configs = configurations(args.variants)
            for label, extra in configs.items():
                rows[label] = await evaluate(sprig, searched, corpus, extra)
                print(f"  {label}: nDCG@10 {rows[label]['ndcg@10']:.4f}", file=sys.stderr)
            if args.backend == "postgres":  # the text ranked in SQL (SPRIG_PG_TEXT_SEARCH=sql)
                sprig.runtime.search.in_memory = False
                for label in ("text (BM25)", "hybrid (defaults)"):
                    sql = f"{label.split(' ')[0]}, SQL ts_rank"
                    rows[sql] = await evaluate(sprig, searched, corpus, configs[label])
                    print(f"  {sql}: nDCG@10 {rows[sql]['ndcg@10']:.4f}", file=sys.stderr)
    return {"store": store, "rows": rows, "queries": len(corpus.qrels), "backend": args.backend}


def print_report(
    store: Store, rows: dict[str, dict[str, float]], queries: int, backend: str
) -> None:
    source = "reused from ~/.cache/sprig-bench (measured when built)" if store.cached else "now"
    print(
        f"ingestion ({source}): {len(store.doc_map)} docs, {store.chunks} chunks in "
        f"{store.seconds:.0f} s = {store.chunks_per_s:.1f} chunks/s through POST /agents/{{id}}/docs"
    )
    print(
        f"SciFact test, {queries} queries, searched on {backend}; "
        "recall is @50 (the API's max limit), not @100"
    )
    head = f"{'configuration':50s} {'nDCG@10':>8s} {'R@50':>7s} {'nDCG@10*':>9s} {'ms p50':>7s}"
    print(head)
    for label, f in rows.items():
        print(
            f"{label:50s} {f['ndcg@10']:8.4f} {f['recall@50']:7.4f} "
            f"{f['ndcg@10_of_limit50']:9.4f} {f['server_ms_p50']:7.1f}"
        )
    print("nDCG@10* = top 10 of a limit-50 request (pool and min-max fusion change with limit)")
    print(f"baselines: BM25 {BASELINES['text']}, MiniLM {BASELINES['vector']}; ", end="")
    hybrid = rows["hybrid (defaults)"]["ndcg@10"]
    verdict = "met" if hybrid >= TARGET_HYBRID else "NOT met"
    print(f"target hybrid >= {TARGET_HYBRID}: {hybrid:.4f} ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SCIFACT)
    parser.add_argument("--no-cache", action="store_true", help="always load through the API")
    parser.add_argument("--variants", action="store_true", help="also non-default settings")
    parser.add_argument("--concurrency", type=int, default=4, help="doc creates in flight")
    parser.add_argument("--max-docs", type=int, default=None, help="smoke runs: first N docs")
    parser.add_argument(
        "--max-queries", type=int, default=None, help="smoke runs: first N test queries"
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="postgres: search a copy of the loaded store on a pgserver PostgreSQL",
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    store: Store = result["store"]
    print_report(store, result["rows"], result["queries"], result["backend"])
    summary = {
        "bench": "search_quality",
        "backend": result["backend"],
        "split": "test",
        "queries": result["queries"],
        "recall_cutoff": 50,
        "ingestion": {
            "docs": len(store.doc_map),
            "chunks": store.chunks,
            "seconds": store.seconds,
            "chunks_per_s": store.chunks_per_s,
            "cached": store.cached,
        },
        "baselines_ndcg@10": BASELINES,
        "results": result["rows"],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
