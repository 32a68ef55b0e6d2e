"""Server-side cost of a chat turn, and Sprig's overhead over a direct model call.

1. Overhead: chat turns through the real app in process (ASGI, SQLite on disk) answered by a
   zero-latency model, at 10, 1,000 and 10,000 history entries (20-token entries, a 1,000-token
   budget: the window is the same ~50 entries at every size). Server-side time, read from the
   ``Server-Timing`` header Sprig sets on every response. What is timed is everything
   Sprig does for a turn (parse, load session, window within the budget, template, persist,
   respond); the model itself costs ~0. Targets: p50 <= 5 ms and flat across sizes.
2. Ratio: one 16-token reply from the bundled local model, through Sprig's chat route vs a
   direct call of the same loaded model, interleaved runs, medians. Target: <= 1.05.

Prints a table, then one JSON line.  Usage: python bench/chat_overhead.py [--turns N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from sprig.server.app import create_app
from sprig.server.models.base import ChatMessage, CompletionRequest, SamplingParams
from sprig.server.models.scripted import EchoModel
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings

KEY = "sk-bench-" + "b" * 32


def _settings(data_dir: Path, default_model: str) -> Settings:
    return Settings(data_dir=data_dir, api_key=KEY, default_model=default_model)  # type: ignore[arg-type]


async def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://bench",
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=600,
    )


async def _seed_history(runtime: Runtime, session_id: str, n: int) -> None:
    dev = runtime.startup_key.developer_id  # type: ignore[union-attr]
    batch = []
    for i in range(n):
        role = "user" if i % 2 == 0 else "assistant"
        batch.append(
            {
                "role": role,
                "content": f"message {i} " + "lorem ipsum " * 8,
                "token_count": 20,
                "tokenizer": "echo",
            }
        )
        if len(batch) == 1000:
            await runtime.history.append(dev, uuid.UUID(session_id), batch)
            batch = []
    if batch:
        await runtime.history.append(dev, uuid.UUID(session_id), batch)


def _server_ms(response: httpx.Response) -> float:
    """Server-side time of a request, from Sprig's ``Server-Timing: app;dur=<ms>`` header."""
    return float(response.headers["server-timing"].split("dur=")[1])


async def overhead(sizes: list[int], turns: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            settings = _settings(Path(tmp), "echo")
            runtime = Runtime.build(settings)
            runtime.models.register(EchoModel(name="echo", context_window=8192))
            app = create_app(settings, runtime)
            async with app.router.lifespan_context(app), await _client(app) as c:
                agent = (await c.post("/agents", json={"name": "bench", "about": "x"})).json()
                body = {"agent": agent["id"], "context_overflow": "truncate", "token_budget": 1000}
                sid = (await c.post("/sessions", json=body)).json()["id"]
                await _seed_history(runtime, sid, size)
                times = []
                for i in range(turns + 5):
                    t0 = time.perf_counter()
                    r = await c.post(
                        f"/sessions/{sid}/chat",
                        json={"messages": [{"role": "user", "content": f"hello {i}"}]},
                    )
                    elapsed = time.perf_counter() - t0
                    assert r.status_code == 201, r.text
                    if i >= 5:  # warm-up
                        times.append(elapsed * 1000)
            times.sort()
            results[str(size)] = {
                "p50_ms": statistics.median(times),
                "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
            }
    return results


async def local_ratio(runs: int) -> dict[str, float]:
    from sprig.server.models.local import LOCAL_MODEL_NAME

    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp), LOCAL_MODEL_NAME)
        runtime = Runtime.build(settings)
        app = create_app(settings, runtime)
        model = runtime.models.resolve(None)
        sampling = SamplingParams(max_tokens=16, temperature=0.0, seed=1)
        async with app.router.lifespan_context(app), await _client(app) as c:
            agent = (await c.post("/agents", json={"name": "bench"})).json()
            sid = (await c.post("/sessions", json={"agent": agent["id"]})).json()["id"]
            chat = {
                "messages": [{"role": "user", "content": "Count from one to twenty."}],
                "max_tokens": 16,
                "temperature": 0,
                "seed": 1,
                "save": False,
            }
            render = (await c.post(f"/sessions/{sid}/render", json=chat)).json()["messages"]
            direct_req = CompletionRequest(
                messages=[ChatMessage(role=m["role"], content=m["content"]) for m in render],
                sampling=sampling,
            )
            await model.complete(direct_req)  # load + warm
            sprig_t, direct_t, tokens = [], [], []
            for _ in range(runs):
                t0 = time.perf_counter()
                done = await model.complete(direct_req)
                direct_t.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                r = await c.post(f"/sessions/{sid}/chat", json=chat)
                sprig_t.append(time.perf_counter() - t0)
                tokens.append(r.json()["usage"]["completion_tokens"])
                assert done.usage.completion_tokens == tokens[-1]
    d, s = statistics.median(direct_t), statistics.median(sprig_t)
    return {
        "direct_ms": d * 1000,
        "sprig_ms": s * 1000,
        "ratio": s / d,
        "completion_tokens": statistics.median(tokens),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="small sizes, few turns (smoke)")
    args = parser.parse_args()
    sizes = [10, 100] if args.quick else [10, 1000, 10000]
    turns = 20 if args.quick else args.turns
    over = asyncio.run(overhead(sizes, turns))
    ratio = asyncio.run(local_ratio(3 if args.quick else args.runs))
    print(f"{'history entries':>16} | {'p50 ms':>8} | {'p99 ms':>8}")
    for size, row in over.items():
        print(f"{size:>16} | {row['p50_ms']:8.2f} | {row['p99_ms']:8.2f}")
    flat = max(r["p50_ms"] for r in over.values()) / min(r["p50_ms"] for r in over.values())
    print(f"p50 largest/smallest history: {flat:.2f}x")
    print(
        f"local model, 16-token reply: direct {ratio['direct_ms']:.1f} ms, via Sprig {ratio['sprig_ms']:.1f} ms, ratio {ratio['ratio']:.3f}"
    )
    print(
        json.dumps({"bench": "chat_overhead", "overhead": over, "flatness": flat, "local": ratio})
    )


if __name__ == "__main__":
    main()
