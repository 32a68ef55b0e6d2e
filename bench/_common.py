"""Helpers shared by the search benches: the real app in process, timing, SciFact paths.

The app is built as in bench/chat_overhead.py (Settings, Runtime.build, create_app, its
lifespan, httpx over ASGITransport): every request goes through routing, validation, the
route handler and the services, with SQLite on disk. The default chat model is the
built-in ``echo`` (no LLM is loaded); the embedding model is the default one, the bundled
all-MiniLM-L6-v2.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sprig.server.app import create_app
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
CACHE = Path.home() / ".cache" / "sprig-bench"
KEY = "sk-bench-" + "s" * 32


@dataclass
class Sprig:
    """A running in-process server: an HTTP client bound to it, and its runtime."""

    client: httpx.AsyncClient
    runtime: Runtime
    settings: Settings

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        """One request; its JSON body, or an error naming the route and the answer."""
        response = await self.client.request(method, path, json=body)
        if response.status_code != status:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()


def bench_settings(data_dir: Path) -> Settings:
    """Default settings (chunking, embedding model, search) on a data dir of the bench."""
    return Settings(data_dir=data_dir, api_key=KEY, default_model="echo")


@asynccontextmanager
async def sprig_app(data_dir: Path) -> AsyncIterator[Sprig]:
    async with _serving(bench_settings(data_dir)) as sprig:
        yield sprig


@asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[Sprig]:
    runtime = Runtime.build(settings)
    app = create_app(settings, runtime)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers, timeout=600
        ) as client,
    ):
        yield Sprig(client, runtime, settings)


@asynccontextmanager
async def pg_app(data_dir: Path, url: str) -> AsyncIterator[Sprig]:
    """``sprig_app`` on the PostgreSQL database at ``url`` (migrated by the lifespan)."""
    settings = bench_settings(data_dir).model_copy(update={"database_url": url})
    async with _serving(settings) as sprig:
        yield sprig


@asynccontextmanager
async def pgserver_database(root: Path) -> AsyncIterator[str]:
    """A fresh database on a pgserver PostgreSQL under ``root`` (stopped on exit); its URL."""
    import pgserver

    server = pgserver.get_server(root / "pg", cleanup_mode="stop")
    try:
        server.psql("CREATE DATABASE bench;")
        socket_dir = server.get_uri().split("host=")[1]
        yield f"postgresql+asyncpg://postgres@/bench?host={socket_dir}"
    finally:
        server.cleanup()


async def new_agent(sprig: Sprig, name: str) -> str:
    agent = await sprig.call("POST", "/agents", {"name": name, "about": "bench"}, status=201)
    return str(agent["id"])


def server_ms(response: httpx.Response) -> float:
    """Server-side time of a request, from Sprig's ``Server-Timing: app;dur=<ms>, …`` header
    (its first entry; a chat turn's phases follow it)."""
    return timing(response)["app"]


def timing(response: httpx.Response) -> dict[str, float]:
    """Every entry of the ``Server-Timing`` header: name -> milliseconds."""
    entries = (part.strip().split(";dur=") for part in response.headers["server-timing"].split(","))
    return {name: float(ms) for name, ms in entries}


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 (nearest rank) of ``samples``."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def load_average() -> float:
    return os.getloadavg()[0]
