"""Generic, tenant-scoped row operations shared by the resource repositories.

Every function takes the developer id and filters by it: there is no unscoped read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.store.filters import metadata_contains

Row = dict[str, Any]
Rows = list[Row]


@dataclass(frozen=True)
class ListQuery:
    limit: int = 100
    offset: int = 0
    sort_by: Literal["created_at", "updated_at"] = "created_at"
    direction: Literal["asc", "desc"] = "desc"
    metadata_filter: dict[str, Any] = field(default_factory=dict)


async def get(conn: AsyncConnection, table: sa.Table, developer_id: UUID, id_: UUID) -> Row | None:
    stmt = sa.select(table).where(table.c.id == id_, table.c.developer_id == developer_id)
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def exists_elsewhere(conn: AsyncConnection, table: sa.Table, id_: UUID) -> bool:
    """True when the id is taken by any tenant (create-or-update must not reuse it)."""
    stmt = sa.select(sa.literal(1)).select_from(table).where(table.c.id == id_)
    return (await conn.execute(stmt)).first() is not None


async def insert(conn: AsyncConnection, table: sa.Table, values: Row) -> None:
    await conn.execute(sa.insert(table).values(**values))


async def update(
    conn: AsyncConnection, table: sa.Table, developer_id: UUID, id_: UUID, values: Row
) -> bool:
    stmt = (
        sa.update(table)
        .where(table.c.id == id_, table.c.developer_id == developer_id)
        .values(**values)
    )
    return bool((await conn.execute(stmt)).rowcount)


async def delete(conn: AsyncConnection, table: sa.Table, developer_id: UUID, id_: UUID) -> bool:
    stmt = sa.delete(table).where(table.c.id == id_, table.c.developer_id == developer_id)
    return bool((await conn.execute(stmt)).rowcount)


def apply_list_query(
    stmt: sa.Select[Any], table: sa.Table, query: ListQuery, dialect: str
) -> sa.Select[Any]:
    if query.metadata_filter:
        stmt = stmt.where(metadata_contains(table.c.metadata, query.metadata_filter, dialect))
    column = table.c[query.sort_by]
    order = column.asc() if query.direction == "asc" else column.desc()
    tiebreak = table.c.id.asc() if query.direction == "asc" else table.c.id.desc()
    return stmt.order_by(order, tiebreak).limit(query.limit).offset(query.offset)


async def list_rows(
    conn: AsyncConnection,
    table: sa.Table,
    developer_id: UUID,
    query: ListQuery,
    where: Sequence[sa.ColumnElement[bool]] = (),
) -> list[Row]:
    stmt = sa.select(table).where(table.c.developer_id == developer_id, *where)
    stmt = apply_list_query(stmt, table, query, conn.dialect.name)
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def claim_meta(conn: AsyncConnection, key: str, value: dict[str, Any]) -> bool:
    """Set ``store_meta[key]`` unless some process has: True for the one that set it. On
    PostgreSQL a second process's insert waits for the first's transaction, then does
    nothing; so a once-per-database task claimed here runs once, however many start."""
    from sprig.server.store import tables

    meta = tables.store_meta
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(meta).values(key=key, value=value).on_conflict_do_nothing()
    return bool((await conn.execute(stmt)).rowcount == 1)


async def serialize(conn: AsyncConnection, name: str) -> None:
    """Hold this transaction until every other process's transaction serialized on ``name``
    has ended, so read-then-write steps (a tenant made at start-up by each of several
    processes) never race. PostgreSQL takes a transaction-scoped advisory lock; a SQLite
    write transaction (``BEGIN IMMEDIATE``) is already the only writer."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(name))))
