"""The SQLite driver: SQLAlchemy's aiosqlite adapter, one thread round trip per statement.

Every SQLite call is a round trip to aiosqlite's thread (~0.1 ms: two thread wake-ups), and
the stock adapter makes four per statement (cursor, execute, fetchall, close), three for a
BEGIN, and a rollback when a connection returns to the pool. Here a statement is one trip,
BEGIN rides with the transaction's first statement, and a COMMIT or ROLLBACK with no
transaction open (sqlite3 would do nothing) makes none: a chat turn went from 38 round
trips to 5 (6 since it records its usage row too).

The classes build on the adapter's internals (``sqlalchemy.dialects.sqlite.aiosqlite``)
and aiosqlite's ``_execute``: ``pyproject.toml`` pins both to the minor versions tested.
SQLite runs in WAL mode; the writer engine (one connection) opens ``BEGIN IMMEDIATE`` so
concurrent writers queue instead of failing mid-transaction.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

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


def sqlite_engine(url: str, *, busy_timeout_ms: int, writer: bool, pool_size: int) -> AsyncEngine:
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
