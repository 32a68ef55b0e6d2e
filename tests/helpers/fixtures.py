"""The suite's shared fixtures, a pytest plugin (registered in tests/conftest.py): the real
app in process on a fresh SQLite data dir, the same app served live, PostgreSQL.

- ``app``: the FastAPI app, lifespan started (default tenant keyed by ``api_key``); its
  SQLite database is a copy of ``sqlite_template``, migrated once per session.
- ``client``: an ``httpx.AsyncClient`` on ASGITransport with the key's auth header.
- ``live_url``: the same app served by uvicorn in a thread on 127.0.0.1 (for sync clients,
  subprocesses and streaming), with ``live_settings`` and the test's ``model``.
- ``tenant_key``: make another tenant and return its key.
- ``pg_server``, ``pg_template``: pgserver's PostgreSQL for the session, and a database on
  it migrated once, the template of each test's database (``helpers.database``).
- ``check_responses``: every JSON 2xx body checked against ``/openapi.json`` (tests/api and
  tests/chat use it for every test).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from sprig.server.auth.keys import create_tenant
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, auth, build_app, make_settings
from tests.helpers.conformance import check_response
from tests.helpers.database import (
    copy_postgres_template,
    copy_sqlite_template,
    migrate,
    migrated_sqlite,
    postgres_url,
)
from tests.helpers.servers import serve


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once per session; tests' apps start on copies."""
    return migrated_sqlite(tmp_path_factory.mktemp("template") / "sprig.db")


def _app_from_template(request: pytest.FixtureRequest, settings: Settings) -> None:
    """The app's database starts as a copy of the session's migrated template: a SQLite file
    copied into an empty data dir; a test database on ``pg_server`` made from ``pg_template``.
    (Tests that build their own app from ``settings`` get the empty database.)"""
    if not settings.database_url:
        copy_sqlite_template(settings, request.getfixturevalue("sqlite_template"))
    elif settings.database_url.startswith("postgresql"):  # from postgres_url(pg_server)
        template = request.getfixturevalue("pg_template")
        copy_postgres_template(request.getfixturevalue("pg_server"), settings, template)


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
async def app(
    request: pytest.FixtureRequest, settings: Settings, model: ScriptedModel
) -> AsyncIterator[FastAPI]:
    _app_from_template(request, settings)
    application = build_app(settings, model)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    rt: Runtime = app.state.runtime
    return rt


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


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    """The ``live_url`` server's settings (override the fixture to change them)."""
    return make_settings(tmp_path / "live")


@pytest.fixture
def live_url(
    request: pytest.FixtureRequest, live_settings: Settings, model: ScriptedModel
) -> Iterator[str]:
    """A real uvicorn server in a thread, with its own event loop and data dir, answering
    with the same scripted ``model`` fixture."""
    _app_from_template(request, live_settings)
    with serve(build_app(live_settings, model)) as url:
        yield url


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """pgserver's PostgreSQL for the session. Its data lives outside pytest's temp folders:
    as root, pgserver opens up the folders above its data directory for the postgres user,
    and a second pytest session starting meanwhile closes /tmp/pytest-of-root again (and
    may delete older session folders), which crashed the server mid-run."""
    pgserver = pytest.importorskip("pgserver")
    folder = Path(tempfile.mkdtemp(prefix="sprig-test-pg-"))
    server = pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_template(pg_server: Any) -> str:
    """A database on ``pg_server`` migrated to head once per session: the ``TEMPLATE`` of the
    tests' databases (``helpers.database.backend_settings``). Nothing connects to it after."""
    url = postgres_url(pg_server)
    migrate(url)
    return str(make_url(url).database)


@pytest.fixture
def check_responses(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Response]:
    """Hold every JSON 2xx response an httpx client (in process or live) reads to its
    operation's documented schema; a mismatch fails the test that made the call. Returns the
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
