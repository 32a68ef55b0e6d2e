"""SQL of long-term memory and suggestions; every statement is scoped by the tenant.

Memories belong to an agent and (optionally) a user. A memory is never edited in place:
a change inserts a new row and closes the old one (``invalidated_at`` = when the change
was stated, ``superseded_by`` = the new row), so the history of a fact stays readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.embeddings.base import Vectors
from sprig.server.ids import new_id
from sprig.server.store import tables
from sprig.server.store.crud import Row

MEMORY_TYPES = ("episode", "belief", "entity")
CHAT_ROLES = ("user", "assistant")
_m = tables.memories
_VIEW_COLUMNS = [c for c in _m.c if c.name != "embedding"]


@dataclass(frozen=True)
class MemoryScope:
    """Which memories a read sees. ``any_user`` ignores ``user_id`` (all of the agent's
    memories); otherwise only those of ``user_id`` (None: memories with no user).
    ``scope_has_memories`` is the default scope's EXISTS: keep the two in step."""

    agent_id: UUID
    user_id: UUID | None = None
    any_user: bool = False
    types: tuple[str, ...] = ()
    include_invalidated: bool = False

    def where(self, developer_id: UUID) -> list[sa.ColumnElement[bool]]:
        conditions = [_m.c.developer_id == developer_id, _m.c.agent_id == self.agent_id]
        if not self.any_user:
            user = _m.c.user_id
            conditions.append(user.is_(None) if self.user_id is None else user == self.user_id)
        if self.types:
            conditions.append(_m.c.type.in_(self.types))
        if not self.include_invalidated:
            conditions.append(_m.c.invalidated_at.is_(None))
        return conditions


@dataclass(frozen=True)
class MemoryQuery:
    """A search of an agent's memories (``MemoryService.search``): of one user, or of all
    when ``user_id`` is None; ranked for ``text`` (analysed as ``lang``: a code or name)
    when it has a word, else newest first; a page of ``limit`` from ``offset``."""

    agent_id: UUID
    user_id: UUID | None = None
    text: str | None = None
    types: tuple[str, ...] = ()
    limit: int = 10
    offset: int = 0
    include_invalidated: bool = False
    lang: str | None = None

    @property
    def scope(self) -> MemoryScope:
        any_user = self.user_id is None
        return MemoryScope(
            self.agent_id, self.user_id, any_user, self.types, self.include_invalidated
        )


def scope_has_memories(
    developer_id: sa.ColumnElement[Any], agent_id: sa.ColumnElement[Any], user_id: Any
) -> sa.Exists:
    """EXISTS: ``MemoryScope(agent_id, user_id).where`` matches a row, with SQL expressions
    for the ids (a correlated subquery: a chat turn asks before it recalls). ``user_id``
    None or NULL means memories with no user, as in ``MemoryScope``."""
    return sa.exists().where(
        _m.c.developer_id == developer_id,
        _m.c.agent_id == agent_id,
        _m.c.user_id.is_not_distinct_from(user_id),
        _m.c.invalidated_at.is_(None),
    )


@dataclass
class SessionPeople:
    """A session's agents and users, in participant order."""

    session_id: UUID
    agents: list[Row] = field(default_factory=list)
    users: list[Row] = field(default_factory=list)

    @property
    def user(self) -> Row | None:
        """Memories are about the session's first user (the 0.x ``Session.user_id``)."""
        return self.users[0] if self.users else None


async def scope_rows(conn: AsyncConnection, developer_id: UUID, scope: MemoryScope) -> list[Row]:
    """Every memory in scope, embeddings included (for ranking and duplicate checks)."""
    stmt = sa.select(_m).where(*scope.where(developer_id)).order_by(_m.c.created_at, _m.c.id)
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def rank_inputs(conn: AsyncConnection, developer_id: UUID, scope: MemoryScope) -> list[Row]:
    """What ranking reads of every memory in scope: id, content, entities, embedding (the
    full rows of the few winners come from ``rows_by_id``; decoding every column of every
    memory costs more than the ranking)."""
    columns = (_m.c.id, _m.c.content, _m.c.entities, _m.c.embedding)
    stmt = sa.select(*columns).where(*scope.where(developer_id))
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def rows_by_id(conn: AsyncConnection, developer_id: UUID, ids: Sequence[UUID]) -> list[Row]:
    """Memories (no embeddings) in the order of ``ids``; ids deleted meanwhile are skipped."""
    if not ids:
        return []
    stmt = sa.select(*_VIEW_COLUMNS).where(_m.c.developer_id == developer_id, _m.c.id.in_(ids))
    found = {r["id"]: dict(r) for r in (await conn.execute(stmt)).mappings()}
    return [found[i] for i in ids if i in found]


async def recent_rows(
    conn: AsyncConnection, developer_id: UUID, scope: MemoryScope, limit: int, offset: int
) -> list[Row]:
    """Memories in scope, newest first (no embeddings)."""
    stmt = (
        sa.select(*_VIEW_COLUMNS)
        .where(*scope.where(developer_id))
        .order_by(_m.c.created_at.desc(), _m.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def insert_memories(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    if rows:
        await conn.execute(sa.insert(_m), list(rows))


async def invalidate(
    conn: AsyncConnection,
    developer_id: UUID,
    memory_id: UUID,
    superseded_by: UUID | None,
    at: datetime,
    now: datetime,
) -> bool:
    """Close a still-valid memory; False when it was closed (or deleted) meanwhile."""
    stmt = (
        sa.update(_m)
        .where(
            _m.c.id == memory_id,
            _m.c.developer_id == developer_id,
            _m.c.invalidated_at.is_(None),
        )
        .values(invalidated_at=at, superseded_by=superseded_by, updated_at=now)
    )
    return bool((await conn.execute(stmt)).rowcount)


async def touch(
    conn: AsyncConnection, developer_id: UUID, ids: Sequence[UUID], now: datetime
) -> None:
    if ids:
        stmt = (
            sa.update(_m)
            .where(_m.c.developer_id == developer_id, _m.c.id.in_(list(ids)))
            .values(last_accessed_at=now)
        )
        await conn.execute(stmt)


async def delete_memory(
    conn: AsyncConnection, developer_id: UUID, agent_id: UUID, memory_id: UUID
) -> bool:
    """Delete one memory of the agent; rows it superseded no longer point at it."""
    owned = sa.and_(_m.c.developer_id == developer_id, _m.c.agent_id == agent_id)
    result = await conn.execute(sa.delete(_m).where(owned, _m.c.id == memory_id))
    if not result.rowcount:
        return False
    await conn.execute(
        sa.update(_m).where(owned, _m.c.superseded_by == memory_id).values(superseded_by=None)
    )
    return True


async def session_people(
    conn: AsyncConnection, developer_id: UUID, session_id: UUID
) -> SessionPeople | None:
    """The session's agents and users (None when the session does not exist)."""
    s, sp = tables.sessions, tables.session_participants
    found = await conn.execute(
        sa.select(s.c.id).where(s.c.id == session_id, s.c.developer_id == developer_id)
    )
    if found.first() is None:
        return None
    people = SessionPeople(session_id)
    for kind, table, target in (
        ("agent", tables.agents, people.agents),
        ("user", tables.users, people.users),
    ):
        stmt = (
            sa.select(table)
            .join(sp, sp.c.participant_id == table.c.id)
            .where(sp.c.session_id == session_id, sp.c.kind == kind)
            .where(table.c.developer_id == developer_id)
            .order_by(sp.c.position)
        )
        target.extend(dict(r) for r in (await conn.execute(stmt)).mappings())
    return people


async def chat_entries(
    conn: AsyncConnection, session_id: UUID, entry_ids: Sequence[UUID], context: int
) -> list[Row]:
    """The session's user/assistant entries among ``entry_ids``, and up to ``context`` such
    entries just before the first of them; oldest first."""
    e = tables.entries
    chat = sa.and_(e.c.session_id == session_id, e.c.role.in_(CHAT_ROLES))
    stmt = sa.select(e).where(chat, e.c.id.in_(list(entry_ids))).order_by(e.c.seq)
    wanted = [dict(r) for r in (await conn.execute(stmt)).mappings()]
    if not wanted or context <= 0:
        return wanted
    before = (
        sa.select(e).where(chat, e.c.seq < wanted[0]["seq"]).order_by(e.c.seq.desc()).limit(context)
    )
    earlier = [dict(r) for r in (await conn.execute(before)).mappings()]
    return [*reversed(earlier), *wanted]


async def replace_suggestions(
    conn: AsyncConnection, developer_id: UUID, session_id: UUID, message_id: UUID, rows: list[Row]
) -> None:
    """The suggestions of one message: a job run twice leaves one set, not two."""
    sg = tables.suggestions
    await conn.execute(
        sa.delete(sg).where(
            sg.c.developer_id == developer_id,
            sg.c.session_id == session_id,
            sg.c.message_id == message_id,
        )
    )
    if rows:
        await conn.execute(sa.insert(sg), rows)


async def list_suggestions(
    conn: AsyncConnection, developer_id: UUID, session_id: UUID, limit: int, offset: int
) -> list[Row]:
    """Newest message first; one message's suggestions in the order the model gave them."""
    sg = tables.suggestions
    stmt = (
        sa.select(sg)
        .where(sg.c.developer_id == developer_id, sg.c.session_id == session_id)
        .order_by(sg.c.created_at.desc(), sg.c.id.asc())
        .limit(limit)
        .offset(offset)
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


def memory_row(vector: Vectors, when: datetime, now: datetime, **values: Any) -> Row:
    """A memory row: ``values`` (agent_id, content, type...) over empty defaults."""
    return {
        "id": new_id(),
        "user_id": None,
        "session_id": None,
        "type": "belief",
        "entities": [],
        "sentiment": None,
        "source_entry_ids": [],
        "embedding": np.asarray(vector, dtype=np.float32).tobytes(),
        "timestamp": when,
        "valid_from": when,
        "invalidated_at": None,
        "superseded_by": None,
        "last_accessed_at": None,
        "created_at": now,
        "updated_at": now,
        **values,
    }


def view_row(row: Row) -> dict[str, Any]:
    """A memory row without its embedding bytes."""
    return {k: v for k, v in row.items() if k != "embedding"}
