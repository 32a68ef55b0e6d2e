"""Test databases: the backends a run covers, and fresh databases copied from a template
migrated once per session (a SQLite file; a PostgreSQL ``TEMPLATE`` database).

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


def postgres_url(server: Any, template: str | None = None) -> str:
    """A fresh database on the shared test server (a copy of ``template`` if given), as an
    asyncpg URL."""
    name = "t_" + uuid.uuid4().hex[:12]
    server.psql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template};" if template else ";"))
    socket_dir = server.get_uri().split("host=")[1]
    return f"postgresql+asyncpg://postgres@/{name}?host={socket_dir}"


def backend_settings(request: pytest.FixtureRequest, tmp_path: Path, **extra: Any) -> Settings:
    """Test settings on the backend of a ``params=backends()`` fixture's ``request``; on
    PostgreSQL a fresh copy of the session's migrated template database."""
    if request.param == "postgres":
        template = request.getfixturevalue("pg_template")
        extra["database_url"] = postgres_url(request.getfixturevalue("pg_server"), template)
    return make_settings(tmp_path / "data", **extra)
