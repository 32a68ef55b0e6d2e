"""Retrieval quality on SciFact: nDCG@10 and recall@100 for text, vector and hybrid search.

The corpus is read in place (never copied): each doc is chunked with the default chunk
settings, indexed in FTS5 (a temporary SQLite file) and embedded with the local model;
queries are embedded the same way; every ranking goes through `sprig.server.search`.
Chunk and query vectors are cached under ~/.cache/sprig-bench (derived vectors, keyed by
a hash of the texts and the model) so that later runs skip the slow embedding step.

    python bench/search_quality.py                 # test split, default settings
    python bench/search_quality.py --tune          # also grid-search fusion on train

Prints a table, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sprig.server.embeddings.base import Embedder, Vectors  # noqa: E402
from sprig.server.embeddings.local import LocalEmbedder  # noqa: E402
from sprig.server.search.chunking import chunk_document  # noqa: E402
from sprig.server.search.fts import bm25_search, schema_sql  # noqa: E402
from sprig.server.search.ranking import RankOptions, rank  # noqa: E402
from sprig.server.search.vector import VectorIndex  # noqa: E402
from sprig.server.settings import Settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "scifact"
CACHE = Path.home() / ".cache" / "sprig-bench"
Qrels = dict[str, dict[str, int]]


@dataclass
class Corpus:
    docs: list[dict[str, str]]
    queries: dict[str, str]
    qrels: dict[str, Qrels]


def load(data: Path) -> Corpus:
    docs = [json.loads(line) for line in (data / "corpus.jsonl").open()]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (data / "queries.jsonl").open())}
    qrels: dict[str, Qrels] = {}
    for split in ("train", "test"):
        table: Qrels = {}
        for line in list((data / "qrels" / f"{split}.tsv").open())[1:]:
            query_id, doc_id, score = line.rstrip("\n").split("\t")
            table.setdefault(query_id, {})[doc_id] = int(score)
        qrels[split] = table
    return Corpus(docs, queries, qrels)


# -- metrics -------------------------------------------------------------------------------
def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 100) -> float:
    hits = {d for d in ranked[:k] if relevant.get(d, 0) > 0}
    wanted = {d for d, r in relevant.items() if r > 0}
    return len(hits) / len(wanted) if wanted else 0.0


# -- embedding with a cache ----------------------------------------------------------------
def embed_cached(embedder: Embedder, texts: list[str], label: str, use_cache: bool) -> Vectors:
    digest = hashlib.sha256("\x00".join([embedder.name, *texts]).encode()).hexdigest()[:16]
    path = CACHE / f"{label}.{embedder.name}.{digest}.npy"
    if use_cache and path.is_file():
        cached: Vectors = np.load(path)
        return cached
    started = time.perf_counter()
    vectors = asyncio.run(embedder.embed(texts))
    rate = len(texts) / (time.perf_counter() - started)
    print(f"embedded {len(texts)} {label} texts ({rate:.1f}/s)", file=sys.stderr)
    if use_cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


# -- the index -----------------------------------------------------------------------------
@dataclass
class Index:
    conn: sqlite3.Connection
    vectors: VectorIndex
    doc_of: dict[int, str]


@contextmanager
def build_index(
    corpus: Corpus, embedder: Embedder, settings: Settings, cache: bool
) -> Iterator[Index]:
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "bench.db")
        conn.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, title TEXT, language TEXT)")
        conn.execute("CREATE TABLE doc_chunks (id INTEGER PRIMARY KEY, doc_id TEXT, content TEXT)")
        for statement in schema_sql():
            conn.execute(statement)
        ids, texts, doc_of = insert_chunks(conn, corpus, embedder, settings)
        index = VectorIndex(embedder.dimensions or 384, capacity=len(ids))
        index.add(ids, embed_cached(embedder, texts, "scifact-chunks", cache))
        yield Index(conn, index, doc_of)
        conn.close()


def insert_chunks(
    conn: sqlite3.Connection, corpus: Corpus, embedder: Embedder, settings: Settings
) -> tuple[list[int], list[str], dict[int, str]]:
    ids: list[int] = []
    texts: list[str] = []
    doc_of: dict[int, str] = {}
    with conn:
        for doc in corpus.docs:
            conn.execute("INSERT INTO docs VALUES (?, ?, 'english')", (doc["_id"], doc["title"]))
            for chunk in chunk_document(
                doc["title"],
                doc["text"],
                settings.chunk_tokens,
                settings.chunk_overlap,
                embedder.count_tokens,
            ):
                chunk_id = len(ids) + 1
                conn.execute(
                    "INSERT INTO doc_chunks VALUES (?, ?, ?)", (chunk_id, doc["_id"], chunk.text)
                )
                ids.append(chunk_id)
                texts.append(chunk.embed_text)
                doc_of[chunk_id] = doc["_id"]
    return ids, texts, doc_of


# -- evaluation ----------------------------------------------------------------------------
@dataclass
class Retrieved:
    """Raw hits per query for the largest pool any configuration needs."""

    text: dict[str, list[tuple[int, float]]]
    vector: dict[str, list[tuple[int, float]]]
    query_vectors: dict[str, Vectors]


def retrieve(index: Index, corpus: Corpus, qids: list[str], qvecs: Vectors, pool: int) -> Retrieved:
    text = {q: bm25_search(index.conn, corpus.queries[q], limit=pool) for q in qids}
    vector = {q: index.vectors.search(v, pool) for q, v in zip(qids, qvecs, strict=True)}
    return Retrieved(text, vector, dict(zip(qids, qvecs, strict=True)))


def evaluate(index: Index, got: Retrieved, qrels: Qrels, options: RankOptions) -> dict[str, float]:
    """Mean nDCG@10 (ranking with limit 10) and recall@100 (limit 100)."""
    ndcg: list[float] = []
    recall: list[float] = []
    for qid, relevant in qrels.items():
        for limit, metric, out in ((10, ndcg_at, ndcg), (100, recall_at, recall)):
            opts = replace(options, limit=limit)
            pool = opts.pool
            ranking = rank(
                got.text[qid][:pool],
                got.vector[qid][:pool],
                index.doc_of,
                opts,
                index.vectors.vectors,
            )
            out.append(metric([r.doc_id for r in ranking], relevant))
    return {"ndcg@10": float(np.mean(ndcg)), "recall@100": float(np.mean(recall))}


CONFIGS: dict[str, Callable[[RankOptions], RankOptions]] = {
    "bm25 (fts5)": lambda o: replace(o, mode="text"),
    "dense (minilm)": lambda o: replace(o, mode="vector"),
    "hybrid (default)": lambda o: o,
    "hybrid, Julep defaults (conf 0.5, mmr 0.5)": lambda o: replace(
        o, confidence=0.5, mmr_strength=0.5
    ),
    "hybrid, confidence 0.5": lambda o: replace(o, confidence=0.5),
    "hybrid, mmr_strength 0.5": lambda o: replace(o, mmr_strength=0.5),
    "hybrid, mmr_strength 0.2": lambda o: replace(o, mmr_strength=0.2),
    "hybrid, k_multiplier 7 (recall default)": lambda o: replace(o, k_multiplier=7),
    "hybrid rrf": lambda o: replace(o, fusion="rrf"),
}


def tune(index: Index, got: Retrieved, qrels: Qrels) -> list[tuple[str, dict[str, float]]]:
    rows = []
    for fusion, norm in (("weighted", "minmax"), ("weighted", "dbsf"), ("rrf", "minmax")):
        for alpha in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
            options = RankOptions(alpha=alpha, fusion=fusion, normalisation=norm)  # type: ignore[arg-type]
            label = f"train {fusion}/{norm} alpha={alpha}"
            rows.append((label, evaluate(index, got, qrels, options)))
            print(f"{label:45s} {rows[-1][1]['ndcg@10']:.4f}", file=sys.stderr)
    return rows


def print_table(rows: list[tuple[str, dict[str, float]]]) -> None:
    print(f"{'configuration':48s} {'nDCG@10':>8s} {'R@100':>8s}")
    for label, figures in rows:
        print(f"{label:48s} {figures['ndcg@10']:8.4f} {figures['recall@100']:8.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tune", action="store_true", help="grid-search fusion on train")
    parser.add_argument("--no-cache", action="store_true", help="always re-embed")
    args = parser.parse_args()
    settings = Settings()
    corpus = load(args.data)
    embedder = LocalEmbedder(batch_size=settings.embedding_batch_size)
    splits = ["test", "train"] if args.tune else ["test"]
    qids = [q for split in splits for q in corpus.qrels[split]]
    qvecs = embed_cached(
        embedder, [corpus.queries[q] for q in qids], "scifact-queries", not args.no_cache
    )
    with build_index(corpus, embedder, settings, not args.no_cache) as index:
        got = retrieve(index, corpus, qids, qvecs, pool=100 * 7)  # the largest pool asked
        rows = [
            (label, evaluate(index, got, corpus.qrels["test"], make(RankOptions())))
            for label, make in CONFIGS.items()
        ]
        if args.tune:
            rows += tune(index, got, corpus.qrels["train"])
    print_table(rows)
    print(
        json.dumps(
            {
                "bench": "search_quality",
                "split": "test",
                "defaults": str(RankOptions()),
                "results": {label: figures for label, figures in rows},
            }
        )
    )


if __name__ == "__main__":
    main()
