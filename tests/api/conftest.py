"""The API suite runs against SQLite and PostgreSQL (pgserver's bundled server) alike.

PostgreSQL is skipped only when pgserver cannot be imported; set SPRIG_TEST_BACKENDS=sqlite
to run one backend while iterating locally. Every JSON 2xx body a test here receives is
checked against ``/openapi.json`` (`check_responses`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sprig.server.settings import Settings
from tests.api.conformance import check_response
from tests.conftest import make_settings


def _backends() -> list[str]:
    wanted = os.environ.get("SPRIG_TEST_BACKENDS", "sqlite,postgres").split(",")
    return [b for b in ("sqlite", "postgres") if b in wanted]


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pgserver = pytest.importorskip("pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server
    server.cleanup()


def postgres_url(server: Any) -> str:
    """A fresh database on the shared test server, as an asyncpg URL."""
    name = "t_" + uuid.uuid4().hex[:12]
    server.psql(f"CREATE DATABASE {name};")
    socket_dir = server.get_uri().split("host=")[1]
    return f"postgresql+asyncpg://postgres@/{name}?host={socket_dir}"


def backend_settings(request: pytest.FixtureRequest, tmp_path: Path, **extra: Any) -> Settings:
    """Test settings on the backend of a ``params=_backends()`` fixture's ``request``."""
    if request.param == "postgres":
        extra["database_url"] = postgres_url(request.getfixturevalue("pg_server"))
    return make_settings(tmp_path / "data", **extra)


@pytest.fixture(params=_backends())
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return backend_settings(request, tmp_path)


@pytest.fixture(autouse=True)
def check_responses(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Response]:
    """Hold every JSON 2xx response an httpx client (in process or live) reads to its
    operation's documented schema; a mismatch fails the test that made the call. Yields the
    responses checked. Streamed responses (``client.stream``) are not read here: skipped."""
    checked: list[httpx.Response] = []
    async_send, sync_send = httpx.AsyncClient.send, httpx.Client.send

    def note(response: httpx.Response, streamed: bool) -> httpx.Response:
        if not streamed and check_response(response):
            checked.append(response)
        return response

    async def send_async(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> Any:
        return note(await async_send(self, request, **kw), kw.get("stream", False))

    def send_sync(self: httpx.Client, request: httpx.Request, **kw: Any) -> Any:
        return note(sync_send(self, request, **kw), kw.get("stream", False))

    monkeypatch.setattr(httpx.AsyncClient, "send", send_async)
    monkeypatch.setattr(httpx.Client, "send", send_sync)
    return checked
