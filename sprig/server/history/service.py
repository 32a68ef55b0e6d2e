"""Session history: ordered entries (by a per-session sequence) and their relations."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import NotFoundError
from sprig.server.ids import new_id, utcnow
from sprig.server.store import crud, tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database

ROLES = ("system", "user", "assistant", "tool")
SOURCES = (
    "api_request",
    "api_response",
    "tool_request",
    "tool_response",
    "internal",
    "summarizer",
    "meta",
)


async def append_entries(
    conn: AsyncConnection, developer_id: UUID, session_id: UUID, entries: list[dict[str, Any]]
) -> list[Row]:
    """Append entries in order inside the caller's write transaction.

    The session row holds the next sequence number; bumping it in the same transaction
    serialises concurrent turns on one session, so history order is total and gap-free.
    """
    now = utcnow()
    params = {"sid": session_id, "dev": developer_id, "count": len(entries), "now": now}
    end = (await conn.execute(_bump_stmt(), params)).scalar_one_or_none()
    if end is None:
        raise NotFoundError(f"Session {session_id} not found")
    start = end - len(entries)
    rows = [_entry_row(developer_id, session_id, start + i, e, now) for i, e in enumerate(entries)]
    if rows:
        await conn.execute(_insert_stmt(), rows)
    return rows


@functools.cache
def _bump_stmt() -> sa.Update:
    """Reserve ``count`` sequence numbers; returns the next free one (built once)."""
    s = tables.sessions
    return (
        sa.update(s)
        .where(s.c.id == sa.bindparam("sid"), s.c.developer_id == sa.bindparam("dev"))
        .values(
            next_seq=s.c.next_seq + sa.bindparam("count", type_=sa.BigInteger()),
            updated_at=sa.bindparam("now", type_=s.c.updated_at.type),
        )
        .returning(s.c.next_seq)
    )


@functools.cache
def _insert_stmt() -> sa.Insert:
    return sa.insert(tables.entries)


def _entry_row(
    developer_id: UUID, session_id: UUID, seq: int, entry: dict[str, Any], now: datetime
) -> Row:
    return {
        "id": entry.get("id") or new_id(),
        "developer_id": developer_id,
        "session_id": session_id,
        "seq": seq,
        "role": entry["role"],
        "name": entry.get("name"),
        "content": entry.get("content"),
        "source": entry.get("source", "api_request"),
        "tool_call_id": entry.get("tool_call_id"),
        "tool_calls": entry.get("tool_calls"),
        "model": entry.get("model"),
        "token_count": int(entry.get("token_count", 0)),
        "tokenizer": entry.get("tokenizer", "none"),
        "partial": bool(entry.get("partial", False)),
        "timestamp": entry.get("timestamp") or now,
        "created_at": now,
    }


async def add_relations(
    conn: AsyncConnection,
    developer_id: UUID,
    session_id: UUID,
    relations: list[tuple[UUID, str, UUID]],
) -> None:
    rows = [
        {
            "session_id": session_id,
            "head": h,
            "relation": r,
            "tail": t,
            "developer_id": developer_id,
        }
        for h, r, t in relations
    ]
    if rows:
        await conn.execute(sa.insert(tables.entry_relations), rows)


class HistoryService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(
        self,
        developer_id: UUID,
        session_id: UUID,
        *,
        limit: int | None = None,
        offset: int = 0,
        before: datetime | None = None,
    ) -> tuple[Row, list[Row], list[Row]]:
        async with self.db.read() as conn:
            session = await _session(conn, developer_id, session_id)
            entries = await _entries(conn, session_id, limit, offset, before)
            rel = tables.entry_relations
            stmt = sa.select(rel.c.head, rel.c.relation, rel.c.tail).where(
                rel.c.session_id == session_id
            )
            relations = [dict(r) for r in (await conn.execute(stmt)).mappings()]
        return session, entries, relations

    async def clear(self, developer_id: UUID, session_id: UUID) -> Row:
        async with self.db.write() as conn:
            await _session(conn, developer_id, session_id)
            for table in (tables.entry_relations, tables.entries):
                await conn.execute(sa.delete(table).where(table.c.session_id == session_id))
            s = tables.sessions
            # summary_until jumps past every old entry: window caches see a new era
            await conn.execute(
                sa.update(s)
                .where(s.c.id == session_id)
                .values(summary=None, summary_until=s.c.next_seq - 1, updated_at=utcnow())
            )
        return {"id": session_id, "deleted_at": utcnow()}

    async def append(
        self, developer_id: UUID, session_id: UUID, entries: list[dict[str, Any]]
    ) -> list[Row]:
        async with self.db.write() as conn:
            return await append_entries(conn, developer_id, session_id, entries)


async def _session(conn: AsyncConnection, developer_id: UUID, session_id: UUID) -> Row:
    row = await crud.get(conn, tables.sessions, developer_id, session_id)
    if row is None:
        raise NotFoundError(f"Session {session_id} not found")
    return row


async def _entries(
    conn: AsyncConnection,
    session_id: UUID,
    limit: int | None,
    offset: int,
    before: datetime | None,
) -> list[Row]:
    e = tables.entries
    stmt = sa.select(e).where(e.c.session_id == session_id)
    if before is not None:
        stmt = stmt.where(e.c.created_at < before)
    stmt = stmt.order_by(e.c.seq.asc()).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]
