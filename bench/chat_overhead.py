"""Server-side cost of a chat turn, and Sprig's overhead over a direct model call.

1. Overhead: sequential chat turns (``POST /sessions/{id}/chat``, JSON, saved) through the
   real app in process (create_app + httpx ASGITransport, SQLite on disk in a temp dir),
   answered by the zero-latency ``echo`` model, at 10, 1,000 and 10,000 history entries.
   The entries are 20 tokens each and the session's token budget is 1,000, so the window
   is the same ~50 entries at every size; recall is on (the session default) but nothing
   holds docs or memories. Per turn: the server-side time from Sprig's
   ``Server-Timing: app;dur=<ms>`` header (from the request reaching the app to the
   response starting: routing, auth, parsing, reading the session and its window,
   templating, the model call, persisting the entries, the JSON response; the echo
   model's own ~0.25 ms, counting the prompt's tokens for ``usage``, is left in: the
   figure is conservative) and, for reference, the client's wall time of the whole
   in-process request. The sizes run side by side (an app each, in one process), their
   turns interleaved round-robin, so that load on the shared machine hits them alike;
   5 warm-up turns each are left out. Targets: server p50 <= 5 ms, flat across sizes
   (largest p50 / smallest p50 <= 1.25).
2. Ratio: one 16-token reply (greedy, seed 1) from the bundled local model through Sprig's
   chat route (``save: false``, wall time at the client) vs a direct ``complete()`` call of
   the same loaded model with the messages Sprig would send (from ``/render``); runs
   interleaved, alternating which goes first. Ratio of the medians (target: <= 1.05), and
   the median of each run's own ratio (steadier when the machine's load drifts).

The machine is shared and noisy: the load average is printed with the figures.

    python bench/chat_overhead.py [--turns 200] [--runs 25] [--quick]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _common import load_average, percentiles, server_ms

from sprig.server.app import create_app
from sprig.server.models.base import ChatMessage, CompletionRequest, SamplingParams
from sprig.server.models.scripted import EchoModel
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings

KEY = "sk-bench-" + "b" * 32
WARM_UP = 5
TARGET_P50_MS = 5.0
TARGET_RATIO = 1.05
TARGET_FLATNESS = 1.25  # "flat": largest p50 / smallest p50 across the sizes


def _settings(data_dir: Path, default_model: str) -> Settings:
    return Settings(data_dir=data_dir, api_key=KEY, default_model=default_model)  # type: ignore[arg-type]


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://bench",
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=600,
    )


async def _seed_history(runtime: Runtime, session_id: str, n: int) -> None:
    dev = runtime.startup_key.developer_id  # type: ignore[union-attr]
    entries = [
        {
            "role": "user" if i % 2 == 0 else "assistant",
            "content": f"message {i} " + "lorem ipsum " * 8,
            "token_count": 20,
            "tokenizer": "echo",
        }
        for i in range(n)
    ]
    for start in range(0, n, 1000):
        await runtime.history.append(dev, uuid.UUID(session_id), entries[start : start + 1000])


@asynccontextmanager
async def _sized_session(stack: AsyncExitStack, size: int) -> AsyncIterator[Chat]:
    """An app of its own (temp dir, echo model) with a session of ``size`` entries."""
    tmp = stack.enter_context(tempfile.TemporaryDirectory())
    settings = _settings(Path(tmp), "echo")
    runtime = Runtime.build(settings)
    runtime.models.register(EchoModel(name="echo", context_window=8192))
    app = create_app(settings, runtime)
    async with app.router.lifespan_context(app), _client(app) as c:
        agent = (await c.post("/agents", json={"name": "bench", "about": "x"})).json()
        body = {"agent": agent["id"], "context_overflow": "truncate", "token_budget": 1000}
        sid = (await c.post("/sessions", json=body)).json()["id"]
        await _seed_history(runtime, sid, size)
        yield Chat(c, sid)


@dataclass
class Chat:
    client: httpx.AsyncClient
    session_id: str
    server_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)

    async def turn(self, i: int) -> None:
        body = {"messages": [{"role": "user", "content": f"hello {i}"}]}
        t0 = time.perf_counter()
        r = await self.client.post(f"/sessions/{self.session_id}/chat", json=body)
        elapsed = (time.perf_counter() - t0) * 1000
        assert r.status_code == 201, r.text
        if i >= WARM_UP:
            self.server_ms.append(server_ms(r))
            self.client_ms.append(elapsed)

    def figures(self) -> dict[str, float]:
        (s50, s99), (c50, c99) = percentiles(self.server_ms), percentiles(self.client_ms)
        return {"p50_ms": s50, "p99_ms": s99, "client_p50_ms": c50, "client_p99_ms": c99}


async def overhead(sizes: list[int], turns: int) -> dict[str, dict[str, float]]:
    """Every size side by side, turns interleaved round-robin."""
    async with AsyncExitStack() as stack:
        chats = [await stack.enter_async_context(_sized_session(stack, n)) for n in sizes]
        for i in range(turns + WARM_UP):
            for chat in chats:
                await chat.turn(i)
        return {str(n): chat.figures() for n, chat in zip(sizes, chats, strict=True)}


async def local_ratio(runs: int) -> dict[str, float]:
    from sprig.server.models.local import LOCAL_MODEL_NAME

    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp), LOCAL_MODEL_NAME)
        runtime = Runtime.build(settings)
        app = create_app(settings, runtime)
        model = runtime.models.resolve(None)
        async with app.router.lifespan_context(app), _client(app) as c:
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
                sampling=SamplingParams(max_tokens=16, temperature=0.0, seed=1),
            )
            await model.complete(direct_req)  # load + warm
            sprig_t, direct_t, tokens = [], [], []
            for run in range(runs):  # interleaved, alternating which goes first
                for which in ("direct", "sprig") if run % 2 else ("sprig", "direct"):
                    t0 = time.perf_counter()
                    if which == "direct":
                        done = await model.complete(direct_req)
                        direct_t.append(time.perf_counter() - t0)
                    else:
                        r = await c.post(f"/sessions/{sid}/chat", json=chat)
                        sprig_t.append(time.perf_counter() - t0)
                        tokens.append(r.json()["usage"]["completion_tokens"])
                assert done.usage.completion_tokens == tokens[-1]
    d, s = statistics.median(direct_t), statistics.median(sprig_t)
    paired = statistics.median(x / y for x, y in zip(sprig_t, direct_t, strict=True))
    return {
        "direct_ms": d * 1000,
        "sprig_ms": s * 1000,
        "ratio": s / d,
        "paired_ratio": paired,
        "completion_tokens": statistics.median(tokens),
    }


def report(over: dict[str, dict[str, float]], local: dict[str, float], load: float) -> None:
    print(f"chat turn, server-side (Server-Timing) and client wall time; load average {load:.2f}")
    print(
        f"{'history entries':>16} | {'p50 ms':>7} | {'p99 ms':>7} | {'client p50':>10} | {'p99':>7}"
    )
    for size, row in over.items():
        print(
            f"{size:>16} | {row['p50_ms']:7.2f} | {row['p99_ms']:7.2f} | "
            f"{row['client_p50_ms']:10.2f} | {row['client_p99_ms']:7.2f}"
        )
    p50s = [r["p50_ms"] for r in over.values()]
    flat = max(p50s) / min(p50s)
    print(
        f"p50 largest/smallest: {flat:.2f}x; targets: p50 <= {TARGET_P50_MS} ms, "
        f"largest/smallest <= {TARGET_FLATNESS}"
    )
    print(
        f"local model, 16-token reply: direct {local['direct_ms']:.1f} ms, via Sprig "
        f"{local['sprig_ms']:.1f} ms, ratio {local['ratio']:.3f} (target <= {TARGET_RATIO}; "
        f"median of the runs' own ratios {local['paired_ratio']:.3f})"
    )
    met = max(p50s) <= TARGET_P50_MS and flat <= TARGET_FLATNESS and local["ratio"] <= TARGET_RATIO
    figures = {
        "bench": "chat_overhead",
        "overhead": over,
        "flatness": flat,
        "local": local,
        "load_average": load,
        "targets_met": met,
    }
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--quick", action="store_true", help="small sizes, few turns (smoke)")
    args = parser.parse_args()
    sizes = [10, 100] if args.quick else [10, 1000, 10000]
    turns = 20 if args.quick else args.turns
    load = load_average()
    over = asyncio.run(overhead(sizes, turns))
    local = asyncio.run(local_ratio(3 if args.quick else args.runs))
    report(over, local, max(load, load_average()))


if __name__ == "__main__":
    main()
