"""Database access: engines, transactions, migrations.

SQLite runs in WAL mode with one writer: writes go through a one-connection engine that
opens ``BEGIN IMMEDIATE`` (so concurrent writers queue instead of failing mid-transaction),
reads through a pool of plain connections. PostgreSQL uses one pooled engine for both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_engine(url: str, *, busy_timeout_ms: int, writer: bool, pool_size: int) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=1 if writer else pool_size,
        max_overflow=0,
        pool_timeout=max(busy_timeout_ms / 1000, 30),
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, _: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class Database:
    """Transactions for the services: ``async with db.read() as conn`` / ``db.write()``."""

    def __init__(self, url: str, *, pool_size: int = 5, busy_timeout_ms: int = 30_000) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self._prepare_sqlite_dir(url)
            self._writer = _sqlite_engine(
                url, busy_timeout_ms=busy_timeout_ms, writer=True, pool_size=1
            )
            self._reader = _sqlite_engine(
                url, busy_timeout_ms=busy_timeout_ms, writer=False, pool_size=pool_size
            )
        else:
            self._writer = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self._reader = self._writer
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @staticmethod
    def _prepare_sqlite_dir(url: str) -> None:
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    @property
    def dialect(self) -> str:
        return self._writer.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.begin() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction; committed on success, rolled back on any exception."""
        if self._write_lock is None:
            async with self._writer.begin() as conn:
                yield conn
            return
        async with self._write_lock, self._writer.begin() as conn:
            yield conn

    async def migrate(self, revision: str = "head") -> None:
        from alembic import command

        config = alembic_config()
        async with self._writer.connect() as conn:
            config.attributes["connection"] = None

            def _upgrade(sync_conn: Any) -> None:
                config.attributes["connection"] = sync_conn
                command.upgrade(config, revision)

            await conn.run_sync(_upgrade)
            await conn.commit()

    async def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        async with self._writer.connect() as conn:

            def _rev(sync_conn: Any) -> str | None:
                return MigrationContext.configure(sync_conn).get_current_revision()

            return await conn.run_sync(_rev)

    async def dispose(self) -> None:
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()


def alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
