"""Test databases: the backends a run covers, fresh empty databases, and their copies of a
template migrated once per session (a SQLite file; a PostgreSQL ``TEMPLATE`` database) for
the apps of the ``app`` and ``live_url`` fixtures.

``SPRIG_TEST_BACKENDS`` (default ``sqlite,postgres``) names the backends the suites that
run on both cover; PostgreSQL is pgserver's bundled server."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from sprig.server.settings import Settings
from sprig.server.store.db import Database
from sprig.server.store.files import create_private_file
from tests.helpers.app import make_settings


def backends() -> list[str]:
    wanted = os.environ.get("SPRIG_TEST_BACKENDS", "sqlite,postgres").split(",")
    return [b for b in ("sqlite", "postgres") if b in wanted]


def migrate(url: str) -> None:
    """Migrate the database at ``url`` to head, on a loop of its own (in another thread, so
    that it may run from any fixture)."""

    async def run() -> None:
        db = Database(url)
        try:
            await db.migrate()
        finally:
            await db.dispose()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


def migrated_sqlite(path: Path) -> Path:
    """A SQLite database at ``path`` (``0600``), migrated to head."""
    create_private_file(path)
    migrate(sqlite_url(path))
    return path


def copy_sqlite_template(settings: Settings, template: Path) -> None:
    """Give ``settings`` a copy of the migrated ``template`` as its database, unless it names
    another database or already has one (the app then only checks it is at head)."""
    if settings.database_url:
        return
    target = settings.data_dir / "sprig.db"
    if create_private_file(target):  # 0600, and its directory 0700, as Sprig makes them
        shutil.copyfile(template, target)


def postgres_url(server: Any) -> str:
    """A fresh, empty database on the shared test server, as an asyncpg URL."""
    name = "t_" + uuid.uuid4().hex[:12]
    _psql(server, f"CREATE DATABASE {name};", "CREATE DATABASE")
    socket_dir = server.get_uri().split("host=")[1]
    return f"postgresql+asyncpg://postgres@/{name}?host={socket_dir}"


def copy_postgres_template(server: Any, settings: Settings, template: str) -> None:
    """Make ``settings``' empty database (``postgres_url``) a copy of the migrated
    ``template``: dropped and created again from it (no connection is open to either)."""
    name = make_url(settings.resolved_database_url).database
    _psql(server, f"DROP DATABASE {name};", "DROP DATABASE")
    _psql(server, f"CREATE DATABASE {name} TEMPLATE {template};", "CREATE DATABASE")


def _psql(server: Any, sql: str, ok: str) -> None:
    done = server.psql(sql)
    if ok not in done:  # psql reports its errors on stderr, not by raising
        raise RuntimeError(f"{sql} failed: {done!r}")


def backend_settings(request: pytest.FixtureRequest, tmp_path: Path, **extra: Any) -> Settings:
    """Test settings on the backend of a ``params=backends()`` fixture's ``request``: a fresh,
    empty database (the ``app`` fixture makes it a copy of the session's migrated template)."""
    if request.param == "postgres":
        extra["database_url"] = postgres_url(request.getfixturevalue("pg_server"))
    return make_settings(tmp_path / "data", **extra)
