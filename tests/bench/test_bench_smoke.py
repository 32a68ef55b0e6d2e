"""The programs in bench/ still run: each, at its smallest, prints its table and then one
JSON line with the figures docs/performance.md quotes (the figures themselves are measured
by running the programs in full, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"

pytestmark = pytest.mark.skipif(
    not (DATA / "scifact").is_dir() or not (DATA / "locomo").is_dir(),
    reason="the evaluation data (../shared/data) is not on this machine",
)


def run_bench(name: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / name), *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) > 1, "a table, then the JSON line"
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


def test_search_latency_runs() -> None:
    figures = run_bench("search_latency.py", "--sizes", "500", "--queries", "3")
    size = figures["results"]["500"]
    for case in ("text", "vector", "hybrid", "request floor (no docs)"):
        assert size[case]["p50"] > 0 and size[case]["server_p50"] > 0
    assert size["vector_over_numpy"] > 0


def test_search_latency_runs_on_postgres() -> None:
    figures = run_bench(
        "search_latency.py", "--backend", "postgres", "--sizes", "500", "--queries", "3",
        "--shared-buffers", "128MB",
    )  # fmt: skip
    size = figures["results"]["500"]
    for case in ("text, SQL ts_rank (direct)", "text, in-memory BM25 (direct)", "text", "hybrid"):
        assert size[case]["p50"] > 0
    assert size["text_index_load_s"] > 0 and size["recall@10 ef=200"] > 0.5


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_search_quality_runs(backend: str) -> None:
    args = ("--max-docs", "20", "--max-queries", "5", "--no-cache", "--backend", backend)
    figures = run_bench("search_quality.py", *args)
    assert (figures["backend"], figures["queries"]) == (backend, 5)
    assert figures["ingestion"]["docs"] == 20
    for row in figures["results"].values():
        assert 0 <= row["ndcg@10"] <= 1 and 0 <= row["recall@50"] <= 1


def test_chat_overhead_runs() -> None:
    figures = run_bench("chat_overhead.py", "--quick")
    assert set(figures["overhead"]) == {"10", "100"}
    assert all(row["p50_ms"] > 0 for row in figures["overhead"].values())


def test_gateway_overhead_runs() -> None:
    figures = run_bench("gateway_overhead.py", "--quick")
    assert set(figures["sizes"]) == {"0", "20"}
    for row in figures["sizes"].values():
        assert row["direct"]["p50"] > 0 and row["sprig"]["p50"] > 0 and row["litellm"]["p50"] > 0
        assert row["messages_sent"] >= 2
    assert 0 < figures["first_chat_s"] < 60


def test_gateway_observability_runs() -> None:
    figures = run_bench("gateway_overhead.py", "--observability", "--quick")
    variants = figures["variants"]
    assert list(variants) == ["off", "metrics", "metrics+traces", "metrics+traces+otel"]
    assert variants["off"]["added_p50_ms"] == 0
    for row in variants.values():
        assert row["p50"] > 0 and row["server_p50"] > 0 and "added_p50_ms" in row
    assert variants["off"]["env"]["SPRIG_METRICS"] == "false"
    assert variants["metrics+traces+otel"]["env"]["SPRIG_OTEL_ENDPOINT"].startswith("http://")
    assert figures["otel_posts"] >= 0 and "metrics" in figures["goal_met"]


def test_memory_recall_runs() -> None:
    figures = run_bench("memory_recall.py", "--conversations", "1")
    assert figures["conversations"] == 1 and figures["questions"] > 0
    assert 0 <= figures["bm25_recall@10"] <= 1 and 0 <= figures["sprig_recall@10"] <= 1
