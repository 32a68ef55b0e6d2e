"""Usage as a tenant (``GET /usage``) or an operator (``sprig keys usage``) reads it."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sprig.server.errors import BadRequestError
from sprig.server.store.db import Database
from sprig.server.usage import store
from sprig.server.usage.limits import TenantLimits
from sprig.server.usage.meter import UsageMeter
from sprig.server.usage.store import COUNTERS, GroupBy


def period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The days asked for: ``end`` defaults to today, ``start`` to the 1st of ``end``'s month."""
    end = end or today
    start = start or end.replace(day=1)
    if start > end:  # each is valid: a rule the schema cannot say (400, not 422)
        raise BadRequestError(f"`from` ({start}) is after `to` ({end})", param="from")
    return start, end


class UsageService:
    def __init__(self, db: Database, meter: UsageMeter) -> None:
        self.db = db
        self.meter = meter

    async def report(
        self, developer_id: UUID, start: date, end: date, group_by: GroupBy
    ) -> dict[str, Any]:
        await self.meter.flush()  # what this process noted is in the answer
        return await report(self.db, developer_id, start, end, group_by)


async def report(
    db: Database, developer_id: UUID, start: date, end: date, group_by: GroupBy
) -> dict[str, Any]:
    """The tenant's usage over ``start``…``end`` by day or model, the total, its limits."""
    async with db.read() as conn:
        rows = await store.usage_rows(conn, developer_id, start, end, group_by)
        limits = TenantLimits.from_row(await store.limits_of(conn, developer_id))
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "group_by": group_by,
        "data": [_row(r, group_by) for r in rows],
        "total": _total(rows),
        "limits": limits.as_dict(),
    }


def _counters(row: dict[str, Any]) -> dict[str, Any]:
    counted: dict[str, Any] = {name: int(row.get(name) or 0) for name in COUNTERS}
    cost = row.get("cost")
    counted["cost"] = None if cost is None else round(float(cost), 8)
    return counted


def _row(row: dict[str, Any], group_by: GroupBy) -> dict[str, Any]:
    """A row names its day or its model (the other is null)."""
    day = row["day"].isoformat() if group_by == "day" else None
    return {"day": day, "model": row.get("model"), **_counters(row)}


def _total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {name: sum(int(r[name] or 0) for r in rows) for name in COUNTERS}
    costs = [float(r["cost"]) for r in rows if r["cost"] is not None]
    total["cost"] = round(sum(costs), 8) if costs else None
    return total
