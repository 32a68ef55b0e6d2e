"""Stored responses (``tables.responses``): save, read, delete, and a chain's items.

A response's id on the wire is ``resp_<hex>`` of its UUID. A chain is read in one
recursive query, newest first, at most ``MAX_CHAIN`` responses back.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import NotFoundError
from sprig.server.ids import utcnow
from sprig.server.store import tables
from sprig.server.store.crud import Row

PREFIX = "resp_"
MAX_CHAIN = 1000
_r = tables.responses


class ResponseNotFoundError(NotFoundError):
    def __init__(self, given: str, *, previous: bool = False) -> None:
        super().__init__(f"Response with id '{given}' not found.", param=_param(previous))
        if previous:
            self.code = "previous_response_not_found"


def _param(previous: bool) -> str | None:
    return "previous_response_id" if previous else None


def wire_id(response_id: UUID) -> str:
    return f"{PREFIX}{response_id.hex}"


def parse_id(given: str, *, previous: bool = False) -> UUID:
    try:
        return UUID(given.removeprefix(PREFIX))
    except ValueError:
        raise ResponseNotFoundError(given, previous=previous) from None


async def save(
    conn: AsyncConnection,
    developer_id: UUID,
    response_id: UUID,
    *,
    previous_id: UUID | None,
    session_id: UUID | None,
    input_items: list[dict[str, Any]],
    body: dict[str, Any],
) -> None:
    now = utcnow()
    values = {
        "id": response_id,
        "developer_id": developer_id,
        "previous_id": previous_id,
        "session_id": session_id,
        "status": body["status"],
        "input": input_items,
        "body": body,
        "created_at": now,
        "updated_at": now,
    }
    await conn.execute(sa.insert(_r).values(values))


async def get(conn: AsyncConnection, developer_id: UUID, response_id: UUID) -> Row | None:
    stmt = sa.select(_r).where(_r.c.id == response_id, _r.c.developer_id == developer_id)
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def delete(conn: AsyncConnection, developer_id: UUID, response_id: UUID) -> bool:
    stmt = sa.delete(_r).where(_r.c.id == response_id, _r.c.developer_id == developer_id)
    return bool((await conn.execute(stmt)).rowcount)


async def chain_items(
    conn: AsyncConnection, developer_id: UUID, response_id: UUID
) -> tuple[list[dict[str, Any]], Row]:
    """The items of the chain ending at ``response_id``, oldest first (each response's
    input, then its output), and that response's row; a 404 when it is not stored."""
    start = sa.select(_r.c.id, _r.c.previous_id, _r.c.input, _r.c.body, _r.c.session_id)
    start = start.add_columns(sa.literal(0).label("depth"))
    chain = start.where(_r.c.id == response_id, _r.c.developer_id == developer_id).cte(
        "chain", recursive=True
    )
    older = _r.alias("older")
    chain = chain.union_all(
        sa.select(
            older.c.id,
            older.c.previous_id,
            older.c.input,
            older.c.body,
            older.c.session_id,
            (chain.c.depth + 1).label("depth"),
        ).where(
            older.c.id == chain.c.previous_id,
            older.c.developer_id == developer_id,
            chain.c.depth < MAX_CHAIN,
        )
    )
    stmt = sa.select(chain).order_by(chain.c.depth.desc())
    rows = [dict(r) for r in (await conn.execute(stmt)).mappings()]
    if not rows:
        raise ResponseNotFoundError(wire_id(response_id), previous=True)
    items: list[dict[str, Any]] = []
    for row in rows:
        items += row["input"] + row["body"]["output"]
    return items, rows[-1]


FINISHED = ("completed", "incomplete", "failed", "cancelled")


async def settle(
    conn: AsyncConnection, developer_id: UUID, response_id: UUID, body: dict[str, Any]
) -> bool:
    """Write a background response's new state, unless it was cancelled (False then)."""
    stmt = (
        sa.update(_r)
        .where(
            _r.c.id == response_id,
            _r.c.developer_id == developer_id,
            _r.c.status != "cancelled",
        )
        .values(status=body["status"], body=body, updated_at=utcnow())
    )
    return bool((await conn.execute(stmt)).rowcount)
