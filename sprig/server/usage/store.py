"""The SQL of usage and quotas, the same on SQLite and PostgreSQL.

Every write that must hold across processes is one statement: an upsert (``INSERT … ON
CONFLICT DO UPDATE``), conditional where a limit decides (``… WHERE``, ``RETURNING`` the row
only if it changed).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.ids import utcnow
from sprig.server.store import tables
from sprig.server.store.crud import Row

GroupBy = Literal["day", "model"]
COUNTERS = ("tokens_in", "tokens_out", "turns", "tool_calls", "embedded_chunks")
LIMIT_FIELDS = (
    "requests_per_minute",
    "tokens_per_minute",
    "tokens_per_day",
    "cost_per_month",
    "concurrent_streams",
)
# Slack for float sums in a bucket's test (L requests at one instant fill it exactly).
EPSILON = 1e-6


@dataclass
class Counts:
    """What one turn (or a batch of them) used; ``cost`` in USD, None where unknown."""

    tokens_in: int = 0
    tokens_out: int = 0
    turns: int = 0
    tool_calls: int = 0
    embedded_chunks: int = 0
    cost: float | None = None

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    def __add__(self, other: Counts) -> Counts:
        summed = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in _COUNTED}
        unknown = self.cost is None and other.cost is None
        return Counts(**summed, cost=None if unknown else (self.cost or 0.0) + (other.cost or 0.0))


_COUNTED = [f for f in fields(Counts) if f.name in COUNTERS]


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_update`` and ``excluded``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _greatest(conn: AsyncConnection, a: Any, b: Any) -> Any:
    name = "greatest" if conn.dialect.name == "postgresql" else "max"  # SQLite: scalar max
    return getattr(sa.func, name)(a, b)


# -- usage_daily ---------------------------------------------------------------------------
async def add_usage(
    conn: AsyncConnection, developer_id: UUID, day: date, model: str, counts: Counts
) -> None:
    """Add ``counts`` to the tenant's row of ``day`` and ``model`` (made if new)."""
    u = tables.usage_daily
    values = {f.name: getattr(counts, f.name) for f in _COUNTED}
    stmt = _insert(conn, u).values(
        developer_id=developer_id, day=day, model=model[:255], cost=counts.cost, **values
    )
    new = stmt.excluded
    summed: dict[str, Any] = {name: u.c[name] + new[name] for name in COUNTERS}
    summed["cost"] = sa.func.coalesce(u.c.cost + new.cost, u.c.cost, new.cost)
    index = [u.c.developer_id, u.c.day, u.c.model]
    await conn.execute(stmt.on_conflict_do_update(index_elements=index, set_=summed))


async def usage_rows(
    conn: AsyncConnection, developer_id: UUID, start: date, end: date, group_by: GroupBy
) -> list[Row]:
    """Sums per day or per model over ``start``…``end`` (both included), in order."""
    u = tables.usage_daily
    key = u.c.day if group_by == "day" else u.c.model
    sums = [sa.func.sum(u.c[name]).label(name) for name in COUNTERS]
    stmt = (
        sa.select(key, *sums, sa.func.sum(u.c.cost).label("cost"))
        .where(u.c.developer_id == developer_id, u.c.day >= start, u.c.day <= end)
        .group_by(key)
        .order_by(key)
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def tokens_since(conn: AsyncConnection, developer_id: UUID, day: date) -> int:
    u = tables.usage_daily
    stmt = sa.select(sa.func.coalesce(sa.func.sum(u.c.tokens_in + u.c.tokens_out), 0)).where(
        u.c.developer_id == developer_id, u.c.day >= day
    )
    return int((await conn.execute(stmt)).scalar_one())


async def cost_since(conn: AsyncConnection, developer_id: UUID, day: date) -> float:
    u = tables.usage_daily
    stmt = sa.select(sa.func.coalesce(sa.func.sum(u.c.cost), 0.0)).where(
        u.c.developer_id == developer_id, u.c.day >= day
    )
    return float((await conn.execute(stmt)).scalar_one())


# -- tenant_limits ---------------------------------------------------------------------------
async def all_limits(conn: AsyncConnection) -> list[Row]:
    return [dict(r) for r in (await conn.execute(sa.select(tables.tenant_limits))).mappings()]


async def limits_of(conn: AsyncConnection, developer_id: UUID) -> Row | None:
    t = tables.tenant_limits
    found = await conn.execute(sa.select(t).where(t.c.developer_id == developer_id))
    row = found.mappings().first()
    return dict(row) if row else None


async def put_limits(conn: AsyncConnection, developer_id: UUID, values: dict[str, Any]) -> None:
    """Replace the tenant's limits (a row of only NULLs is deleted: no limits)."""
    t = tables.tenant_limits
    await conn.execute(sa.delete(t).where(t.c.developer_id == developer_id))
    if any(values.get(name) is not None for name in LIMIT_FIELDS):
        row = {name: values.get(name) for name in LIMIT_FIELDS}
        await conn.execute(
            sa.insert(t).values(developer_id=developer_id, updated_at=utcnow(), **row)
        )


# -- rate_buckets (GCRA) -------------------------------------------------------------------
async def take(
    conn: AsyncConnection,
    developer_id: UUID,
    kind: str,
    now: float,
    interval: float,
    period: float,
) -> float | None:
    """Take one unit from the bucket if it has one: its new ``tat``, or None (unchanged).

    The bucket holds ``period / interval`` units and refills one per ``interval``: a take
    at ``now`` moves ``tat`` to ``max(tat, now) + interval``, allowed while that is at most
    ``period`` ahead of ``now``."""
    b = tables.rate_buckets
    stmt = _insert(conn, b).values(developer_id=developer_id, kind=kind, tat=now + interval)
    moved = _greatest(conn, b.c.tat, now) + interval
    stmt = stmt.on_conflict_do_update(
        index_elements=[b.c.developer_id, b.c.kind],
        set_={"tat": moved},
        where=moved - now <= period + EPSILON,
    )
    return (await conn.execute(stmt.returning(b.c.tat))).scalar_one_or_none()


async def charge(
    conn: AsyncConnection, developer_id: UUID, kind: str, now: float, seconds: float
) -> None:
    """Take ``seconds`` worth of units whatever the bucket holds (it may go into debt)."""
    b = tables.rate_buckets
    stmt = _insert(conn, b).values(developer_id=developer_id, kind=kind, tat=now + seconds)
    moved = _greatest(conn, b.c.tat, now) + seconds
    index = [b.c.developer_id, b.c.kind]
    await conn.execute(stmt.on_conflict_do_update(index_elements=index, set_={"tat": moved}))


async def tat_of(conn: AsyncConnection, developer_id: UUID, kind: str) -> float | None:
    b = tables.rate_buckets
    stmt = sa.select(b.c.tat).where(b.c.developer_id == developer_id, b.c.kind == kind)
    found = (await conn.execute(stmt)).scalar_one_or_none()
    return None if found is None else float(found)


# -- stream_leases -----------------------------------------------------------------------------
async def open_lease(
    conn: AsyncConnection, developer_id: UUID, lease_id: UUID, now: float, until: float, most: int
) -> bool:
    """Hold a stream slot until ``until`` if fewer than ``most`` are held (lapsed leases are
    dropped first); whether it was. The tenant's limits row is locked (PostgreSQL) so two
    processes never both take the last slot; SQLite's writer is one at a time anyway."""
    s, t = tables.stream_leases, tables.tenant_limits
    await conn.execute(
        sa.select(t.c.developer_id).where(t.c.developer_id == developer_id).with_for_update()
    )
    mine = s.c.developer_id == developer_id
    await conn.execute(sa.delete(s).where(mine, s.c.expires_at < now))
    counted = sa.select(sa.func.count()).select_from(s).where(mine)
    if int((await conn.execute(counted)).scalar_one()) >= most:
        return False
    values = {"id": lease_id, "developer_id": developer_id, "expires_at": until}
    await conn.execute(sa.insert(s).values(**values))
    return True


async def renew_lease(conn: AsyncConnection, lease_id: UUID, until: float) -> None:
    s = tables.stream_leases
    await conn.execute(sa.update(s).where(s.c.id == lease_id).values(expires_at=until))


async def close_lease(conn: AsyncConnection, lease_id: UUID) -> None:
    s = tables.stream_leases
    await conn.execute(sa.delete(s).where(s.c.id == lease_id))
