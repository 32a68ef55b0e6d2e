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
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.ids import utcnow
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.store.types import uuid_type

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


def _dialect(conn: AsyncConnection) -> str:
    return "postgresql" if conn.dialect.name == "postgresql" else "sqlite"


# The statements of every request and turn are built once (building and keying one per call
# cost ~1 ms of Python per turn): plain SQL that both databases run, typed parameters.
_UPSERT_USAGE = sa.text(
    "INSERT INTO usage_daily (developer_id, day, model, tokens_in, tokens_out, turns, "
    "tool_calls, embedded_chunks, cost) VALUES (:developer_id, :day, :model, :tokens_in, "
    ":tokens_out, :turns, :tool_calls, :embedded_chunks, :cost) "
    "ON CONFLICT (developer_id, day, model) DO UPDATE SET "
    "tokens_in = usage_daily.tokens_in + excluded.tokens_in, "
    "tokens_out = usage_daily.tokens_out + excluded.tokens_out, "
    "turns = usage_daily.turns + excluded.turns, "
    "tool_calls = usage_daily.tool_calls + excluded.tool_calls, "
    "embedded_chunks = usage_daily.embedded_chunks + excluded.embedded_chunks, "
    "cost = coalesce(usage_daily.cost + excluded.cost, usage_daily.cost, excluded.cost)"
).bindparams(
    sa.bindparam("developer_id", type_=uuid_type()),
    sa.bindparam("day", type_=sa.Date()),
    sa.bindparam("cost", type_=sa.Double()),
)


# -- usage_daily ---------------------------------------------------------------------------
async def add_usage(
    conn: AsyncConnection, developer_id: UUID, day: date, model: str, counts: Counts
) -> None:
    """Add ``counts`` to the tenant's row of ``day`` and ``model`` (made if new)."""
    values = {f.name: getattr(counts, f.name) for f in _COUNTED}
    params = {"developer_id": developer_id, "day": day, "model": model[:255], **values}
    await conn.execute(_UPSERT_USAGE, {**params, "cost": counts.cost})


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


def _since(total: str) -> sa.TextClause:
    sql = f"SELECT coalesce(sum({total}), 0) FROM usage_daily "  # noqa: S608 - a constant
    sql += "WHERE developer_id = :developer_id AND day >= :day"
    return sa.text(sql).bindparams(
        sa.bindparam("developer_id", type_=uuid_type()), sa.bindparam("day", type_=sa.Date())
    )


_TOKENS_SINCE, _COST_SINCE = _since("tokens_in + tokens_out"), _since("cost")


async def tokens_since(conn: AsyncConnection, developer_id: UUID, day: date) -> int:
    found = await conn.execute(_TOKENS_SINCE, {"developer_id": developer_id, "day": day})
    return int(found.scalar_one())


async def cost_since(conn: AsyncConnection, developer_id: UUID, day: date) -> float:
    found = await conn.execute(_COST_SINCE, {"developer_id": developer_id, "day": day})
    return float(found.scalar_one())


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
# A bucket's tat moves to max(tat, now) + seconds: a take only while that stays within
# :most of now (the new tat returned; no row: refused), a charge whatever it becomes.
_TAKE_SQL = (
    "INSERT INTO rate_buckets (developer_id, kind, tat) VALUES (:developer_id, :kind, "
    ":now + :seconds) ON CONFLICT (developer_id, kind) DO UPDATE SET "
    "tat = max(rate_buckets.tat, :now) + :seconds "
    "WHERE max(rate_buckets.tat, :now) + :seconds - :now <= :most RETURNING tat"
)
_CHARGE_SQL = (
    "INSERT INTO rate_buckets (developer_id, kind, tat) VALUES (:developer_id, :kind, "
    ":now + :seconds) ON CONFLICT (developer_id, kind) DO UPDATE SET "
    "tat = max(rate_buckets.tat, :now) + :seconds"
)


def _bucket_sql(sql: str) -> dict[str, sa.TextClause]:
    """The statement for each database (SQLite's two-argument max() is PostgreSQL's
    greatest()), its numbers typed."""
    names = [n for n in ("now", "seconds", "most") if f":{n}" in sql]
    typed: list[sa.BindParameter[Any]] = [sa.bindparam("developer_id", type_=uuid_type())]
    typed += [sa.bindparam(n, type_=sa.Double()) for n in names]
    return {
        "sqlite": sa.text(sql).bindparams(*typed),
        "postgresql": sa.text(sql.replace("max(", "greatest(")).bindparams(*typed),
    }


_TAKE, _CHARGE = _bucket_sql(_TAKE_SQL), _bucket_sql(_CHARGE_SQL)
_TAT = sa.text(
    "SELECT tat FROM rate_buckets WHERE developer_id = :developer_id AND kind = :kind"
).bindparams(sa.bindparam("developer_id", type_=uuid_type()))


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
    params = {"developer_id": developer_id, "kind": kind, "now": now, "seconds": interval}
    found = await conn.execute(_TAKE[_dialect(conn)], {**params, "most": period + EPSILON})
    tat = found.scalar_one_or_none()
    return None if tat is None else float(tat)


async def charge(
    conn: AsyncConnection, developer_id: UUID, kind: str, now: float, seconds: float
) -> None:
    """Take ``seconds`` worth of units whatever the bucket holds (it may go into debt)."""
    params = {"developer_id": developer_id, "kind": kind, "now": now, "seconds": seconds}
    await conn.execute(_CHARGE[_dialect(conn)], params)


async def tat_of(conn: AsyncConnection, developer_id: UUID, kind: str) -> float | None:
    found = (await conn.execute(_TAT, {"developer_id": developer_id, "kind": kind})).scalar()
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
