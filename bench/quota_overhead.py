"""What tenants' limits cost per request (sprig/server/usage/quotas.py).

The real app in process (Settings, Runtime.build, create_app, httpx over ASGITransport),
SQLite on disk in a temp dir, as bench/chat_overhead.py builds it.

1. The checks alone, called in a loop: ``admit`` (requests per minute, every authenticated
   request), ``check_spend`` (tokens and cost, before a model turn) and ``open_stream``, for
   a tenant without limits (a cached dict lookup: the goal is <= 0.3 ms) and for a tenant
   with every limit set high enough never to refuse (one conditional upsert in a write
   transaction; two or three reads).
2. A whole request, ``GET /agents`` (p50 of Sprig's ``Server-Timing``), for the tenant
   without limits, with the checks as they are and with ``admit`` replaced by a no-op,
   interleaved; and for the limited tenant.

    python bench/quota_overhead.py [--calls 20000] [--requests 2000]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from _common import load_average, server_ms

from sprig.server.app import create_app
from sprig.server.auth.keys import create_tenant
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from sprig.server.usage.limits import change_limits

KEY = "sk-bench-" + "q" * 32
HIGH = {
    "requests_per_minute": 10**9,
    "tokens_per_minute": 10**12,
    "tokens_per_day": 10**12,
    "cost_per_month": 10.0**9,
    "concurrent_streams": 10**6,
}


async def _per_call_us(check: Callable[[], Awaitable[Any]], calls: int) -> float:
    for _ in range(min(calls // 10, 200)):
        await check()
    started = time.perf_counter()
    for _ in range(calls):
        await check()
    return (time.perf_counter() - started) / calls * 1e6


async def _stream(runtime: Runtime, dev: Any) -> None:
    await (await runtime.quotas.open_stream(dev)).release()


async def _checks(runtime: Runtime, free: Any, limited: Any, calls: int) -> dict[str, float]:
    q = runtime.quotas
    few = max(calls // 20, 100)  # the limited checks touch the database: fewer calls
    return {
        "admit_free_us": await _per_call_us(lambda: q.admit(free), calls),
        "check_spend_free_us": await _per_call_us(lambda: q.check_spend(free), calls),
        "open_stream_free_us": await _per_call_us(lambda: _stream(runtime, free), calls),
        "admit_limited_us": await _per_call_us(lambda: q.admit(limited), few),
        "check_spend_limited_us": await _per_call_us(lambda: q.check_spend(limited), few),
        "open_stream_limited_us": await _per_call_us(lambda: _stream(runtime, limited), few),
    }


async def _p50(client: httpx.AsyncClient, key: str, requests: int) -> float:
    headers = {"Authorization": f"Bearer {key}"}
    times = [server_ms(await client.get("/agents", headers=headers)) for _ in range(requests)]
    return statistics.median(times)


async def _requests(
    client: httpx.AsyncClient, runtime: Runtime, limited_key: str, requests: int
) -> dict[str, float]:
    """Interleaved rounds: with the checks, without ``admit``, the limited tenant."""
    real = runtime.quotas.admit

    async def no_op(_: Any) -> None:
        return None

    rounds: dict[str, list[float]] = {"free": [], "free_no_admit": [], "limited": []}
    step = max(requests // 10, 20)
    for _ in range(10):
        rounds["free"].append(await _p50(client, KEY, step))
        runtime.quotas.admit = no_op  # type: ignore[method-assign]
        rounds["free_no_admit"].append(await _p50(client, KEY, step))
        runtime.quotas.admit = real  # type: ignore[method-assign]
        rounds["limited"].append(await _p50(client, limited_key, step))
    return {f"get_agents_{k}_p50_ms": statistics.median(v) for k, v in rounds.items()}


async def main(calls: int, requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), api_key=KEY, default_model="echo")  # type: ignore[arg-type]
        runtime = Runtime.build(settings)
        app = create_app(settings, runtime)
        async with app.router.lifespan_context(app):
            free = runtime.startup_key.developer_id  # type: ignore[union-attr]
            limited, limited_key = await create_tenant(runtime.db, "limited", runtime.secret)
            await change_limits(runtime.db, limited, HIGH)
            runtime.quotas.limits.invalidate()
            figures: dict[str, Any] = await _checks(runtime, free, limited, calls)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
                figures |= await _requests(c, runtime, limited_key, requests)
    figures["load_average"] = load_average()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()
    result = asyncio.run(main(args.calls, args.requests))
    for name, value in result.items():
        print(f"{name:32} {value:10.4f}" if isinstance(value, float) else f"{name:32} {value}")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}))
