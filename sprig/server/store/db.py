"""Database access: engines, transactions, migrations.

SQLite runs in WAL mode with one writer: writes go through a one-connection engine that
opens ``BEGIN IMMEDIATE`` (so concurrent writers queue instead of failing mid-transaction),
reads through a pool of plain connections. PostgreSQL uses one pooled engine for both.

Every SQLite call is a round trip to aiosqlite's thread (~0.1 ms: two thread wake-ups), and
the stock adapter makes four per statement (cursor, execute, fetchall, close), three for a
BEGIN, and a rollback when a connection returns to the pool. Here a statement is one trip,
BEGIN rides with the transaction's first statement, and a COMMIT or ROLLBACK with no
transaction open (sqlite3 would do nothing) makes none: a chat turn went from 38 round
trips to 5.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

if TYPE_CHECKING:
    from sprig.server.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid


def _run(
    conn: sqlite3.Connection, begin: str | None, operation: str, params: Any, many: bool
) -> _Outcome:
    """One statement (after the BEGIN of its transaction, if still due), start to finish,
    on aiosqlite's thread."""
    if begin is not None:
        conn.execute(begin).close()
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, params)
        else:
            cursor.execute(operation, () if params is None else params)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, one thread round trip per statement (rows buffered,
    as the stock cursor buffers them too)."""

    __slots__ = ("_description", "_lastrowid", "_rowcount", "arraysize")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._rows = deque()
        self._soft_closed_memoized = EMPTY_DICT
        self._description: Any = None
        self._rowcount, self._lastrowid, self.arraysize = -1, None, 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._trip(operation, parameters, False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._trip(operation, seq_of_parameters, True)

    def _trip(self, operation: str, params: Any, many: bool) -> None:
        conn: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        adapted: _Connection = self._adapt_connection  # type: ignore[assignment]
        # aiosqlite's own queue-a-function call (SQLAlchemy's adapter uses its internals too)
        run = conn._execute
        try:
            trip = run(_run, conn._conn, adapted.take_begin(), operation, params, many)  # type: ignore[no-untyped-call]
            outcome = await_(trip)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows)

    async def _async_soft_close(self) -> None:
        return None  # nothing open on the thread

    def close(self) -> None:
        self._rows.clear()


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin",)
    _cursor_cls = _OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None

    def defer_begin(self, statement: str) -> None:
        """Send ``statement`` (BEGIN ...) with the next statement, in the same trip."""
        self._begin = statement

    def take_begin(self) -> str | None:
        begin, self._begin = self._begin, None
        return begin

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self._begin is not None:  # a stock (streaming) cursor: BEGIN now
            conn = self._connection
            try:
                await_(conn._execute(_run, conn._conn, self.take_begin(), "SELECT 1", None, False))
            except Exception as error:
                self._handle_exception(error)
        return super().cursor(server_side)

    def commit(self) -> None:
        """sqlite3 itself does nothing outside a transaction: skip the round trip."""
        if self._open():
            super().commit()

    def rollback(self) -> None:
        if self._open():
            super().rollback()

    def _open(self) -> bool:
        self._begin = None  # a transaction that ran nothing never began
        raw = self._connection._connection
        return raw is not None and bool(raw.in_transaction)


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        stock = super().connect(*arg, **kw)
        return _Connection(self, stock._connection)


def _sqlite_engine(url: str, *, busy_timeout_ms: int, writer: bool, pool_size: int) -> AsyncEngine:
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
    engine = create_async_engine(
        url,
        module=_DBAPI(aiosqlite, sqlite3),
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
        conn.connection.dbapi_connection.defer_begin(begin)

    return engine


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
            self._writer = _sqlite_engine(
                url, busy_timeout_ms=busy_timeout_ms, writer=True, pool_size=1
            )
            self._reader = _sqlite_engine(
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
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

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
