"""The limits set on tenants (``sprig keys limits``): stored in ``tenant_limits``, read by
each API process into `LimitsCache`, where a tenant without limits costs a dict lookup."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from sprig.server.errors import NotFoundError
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database
from sprig.server.usage import store


@dataclass(frozen=True)
class TenantLimits:
    """One tenant's limits; None: no limit of that kind."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    tokens_per_day: int | None = None
    cost_per_month: float | None = None  # USD, as estimated (usage/cost.py)
    concurrent_streams: int | None = None

    @classmethod
    def from_row(cls, row: Row | None) -> TenantLimits:
        return cls(**{name: (row or {}).get(name) for name in store.LIMIT_FIELDS})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def any(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    @property
    def meters_tokens(self) -> bool:
        """Whether a model turn must check the tenant's tokens or cost first."""
        spend = (self.tokens_per_minute, self.tokens_per_day, self.cost_per_month)
        return any(v is not None for v in spend)

    def changed(self, changes: Mapping[str, float | None]) -> TenantLimits:
        """These limits with ``changes`` applied (a None value removes that limit)."""
        unknown = set(changes) - set(store.LIMIT_FIELDS)
        if unknown:
            raise ValueError(f"unknown limits: {sorted(unknown)}")
        if any(v is not None and v <= 0 for v in changes.values()):
            raise ValueError("a limit is a positive number (None removes it)")
        return replace(self, **changes)  # type: ignore[arg-type]


class LimitsCache:
    """Every tenant's limits (one small query: only limited tenants have a row), reloaded
    once ``ttl`` seconds have passed. A limit set by ``sprig keys limits`` (another process)
    applies within ``ttl`` seconds."""

    def __init__(
        self, db: Database, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.ttl = ttl
        self._clock = clock
        self._by_tenant: dict[UUID, TenantLimits] = {}
        self._expires = -math.inf
        self._lock = asyncio.Lock()

    async def get(self, developer_id: UUID) -> TenantLimits | None:
        if self._clock() >= self._expires:
            await self._reload()
        return self._by_tenant.get(developer_id)

    def peek(self, developer_id: UUID) -> TenantLimits | None:
        """What is known now, without a reload."""
        return self._by_tenant.get(developer_id)

    def invalidate(self) -> None:
        self._expires = -math.inf

    async def _reload(self) -> None:
        async with self._lock:
            if self._clock() < self._expires:
                return  # another request reloaded meanwhile
            async with self.db.read() as conn:
                rows = await store.all_limits(conn)
            self._by_tenant = {r["developer_id"]: TenantLimits.from_row(r) for r in rows}
            self._expires = self._clock() + self.ttl


# -- for `sprig keys limits` ---------------------------------------------------------------
async def tenant_named(db: Database, name: str) -> UUID:
    d = tables.developers
    async with db.read() as conn:
        found = (await conn.execute(sa.select(d.c.id).where(d.c.name == name))).scalar()
    if found is None:
        raise NotFoundError(f"No tenant named {name!r}")
    return UUID(str(found))


async def read_limits(db: Database, developer_id: UUID) -> TenantLimits:
    async with db.read() as conn:
        return TenantLimits.from_row(await store.limits_of(conn, developer_id))


async def change_limits(
    db: Database, developer_id: UUID, changes: Mapping[str, float | None], *, clear: bool = False
) -> TenantLimits:
    """Apply ``changes`` to the tenant's limits (all removed first with ``clear``)."""
    async with db.write() as conn:
        stored = None if clear else await store.limits_of(conn, developer_id)
        current = TenantLimits.from_row(stored)
        limits = current.changed(changes)
        await store.put_limits(conn, developer_id, limits.as_dict())
    return limits
