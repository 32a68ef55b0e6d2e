"""Database access: engines, transactions, migrations.

SQLite runs in WAL mode with one writer: writes go through a one-connection engine that
opens ``BEGIN IMMEDIATE`` (so concurrent writers queue instead of failing mid-transaction),
reads through a pool of plain connections, both over ``sqlite_driver`` (one thread round
trip per statement). PostgreSQL uses one pooled engine for both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from sprig.server.store.files import prepare_sqlite_file
from sprig.server.store.sqlite_driver import sqlite_engine

if TYPE_CHECKING:
    from sprig.server.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# PostgreSQL pool defaults (SQLAlchemy's pool_size 5 comes from SPRIG_DB_POOL_SIZE): a burst
# may open 10 more connections; a request waits 30 s for one; connections are replaced after
# 30 min (under the idle cut-off of most proxies and managed services) and pinged on checkout.
POSTGRES_POOL: dict[str, float] = {"max_overflow": 10, "pool_timeout": 30.0, "pool_recycle": 1800.0}


def _postgres_engine(url: str, *, pool_size: int, **pool: float) -> AsyncEngine:
    options = {**POSTGRES_POOL, **pool}
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=int(options["max_overflow"]),
        pool_timeout=options["pool_timeout"],
        pool_recycle=int(options["pool_recycle"]),
        pool_pre_ping=True,
    )


class Database:
    """Transactions for the services: ``async with db.read() as conn`` / ``db.write()``."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 5,
        busy_timeout_ms: int = 30_000,
        pool: dict[str, float] | None = None,
    ) -> None:
        """``pool``: PostgreSQL pool options (``max_overflow``, ``pool_timeout``,
        ``pool_recycle``) over ``POSTGRES_POOL``; see ``from_settings``."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self._prepare_sqlite_dir(url)
            self._writer = sqlite_engine(
                url, busy_timeout_ms=busy_timeout_ms, writer=True, pool_size=1
            )
            self._reader = sqlite_engine(
                url, busy_timeout_ms=busy_timeout_ms, writer=False, pool_size=pool_size
            )
        else:
            self._writer = _postgres_engine(url, pool_size=pool_size, **(pool or {}))
            self._reader = self._writer
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            settings.resolved_database_url,
            pool_size=settings.db_pool_size,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            pool={
                "max_overflow": settings.db_max_overflow,
                "pool_timeout": settings.db_pool_timeout_seconds,
                "pool_recycle": settings.db_pool_recycle_seconds,
            },
        )

    @staticmethod
    def _prepare_sqlite_dir(url: str) -> None:
        """A new database's directory is ``0700`` and its file ``0600`` (store/files.py)."""
        path = url.split(":///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:" and not path.startswith("file:"):
            prepare_sqlite_file(Path(path))

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """The engines behind ``read()`` and ``write()`` (one on PostgreSQL)."""
        return (self._writer,) if self._reader is self._writer else (self._writer, self._reader)

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
        """The schema revision, read on a reader (``/healthz`` never queues behind a write)."""
        from alembic.runtime.migration import MigrationContext

        async with self._reader.connect() as conn:

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
