"""Shared fixtures: the real app in process on a fresh SQLite data dir.

- ``app``: the FastAPI app, lifespan started (migrated, default tenant keyed by ``api_key``).
- ``client``: an ``httpx.AsyncClient`` on ASGITransport with the key's auth header.
- ``live_url``: the same app served by uvicorn in a thread on 127.0.0.1 (for sync clients
  and streaming), with ``live_settings``.
- ``tenant_key``: make another tenant and return its key.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sprig.server.app import create_app
from sprig.server.auth.keys import create_tenant
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings

API_KEY = "sk-test-" + "k" * 32


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "default_model": "scripted",
        "embedding_model": "hashing",  # fast and deterministic; the real model in e2e tests
        **overrides,
    }
    return Settings(data_dir=data_dir, api_key=API_KEY, **values)  # type: ignore[arg-type]


def build_app(settings: Settings, model: ScriptedModel | None = None) -> FastAPI:
    """The real app; its default model is a scripted test model (records its prompts)."""
    runtime = Runtime.build(settings)
    runtime.models.register(model or ScriptedModel(name="scripted"))
    return create_app(settings, runtime)


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def model() -> ScriptedModel:
    """The scripted model every test app answers with: push replies, read `.requests`."""
    return ScriptedModel(name="scripted")


@pytest.fixture
async def app(settings: Settings, model: ScriptedModel) -> AsyncIterator[FastAPI]:
    application = build_app(settings, model)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    rt: Runtime = app.state.runtime
    return rt


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def client(app: FastAPI, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sprig.test", headers=auth(api_key)
    ) as c:
        yield c


@pytest.fixture
def tenant_key(runtime: Runtime) -> Callable[[str], Awaitable[str]]:
    async def make(name: str) -> str:
        _, key = await create_tenant(runtime.db, name, runtime.secret)
        return key

    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    """The ``live_url`` server's settings (override the fixture to change them)."""
    return make_settings(tmp_path / "live")


@pytest.fixture
def live_url(live_settings: Settings, model: ScriptedModel) -> Iterator[str]:
    """A real uvicorn server in a thread, with its own event loop and data dir, answering
    with the same scripted ``model`` fixture."""
    import uvicorn

    port = free_port()
    application = build_app(live_settings, model)
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
