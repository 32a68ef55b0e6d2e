"""Enforcing tenants' limits, the same on every API process (the state is in the database).

- Requests per minute: a token bucket per tenant (GCRA: one ``tat`` per bucket, taken by one
  conditional upsert), holding ``limit`` requests and refilling one every ``minute / limit``
  seconds. A refused request changes nothing.
- Tokens per minute: a bucket of the same kind, charged with each turn's tokens after it
  (it may go into debt); a turn starts only while the bucket is not past its capacity.
- Tokens per day and cost per month: the recorded usage of the UTC day / month, checked
  before a turn.
- Concurrent streams: `streams.Lease` rows.

A tenant without limits costs a cached dict lookup (`limits.LimitsCache`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.ids import new_id
from sprig.server.store.db import Database
from sprig.server.usage import refusals, store
from sprig.server.usage.limits import LimitsCache, TenantLimits
from sprig.server.usage.streams import NO_SLOT, Lease, StreamSlot

REQUESTS, TOKENS = "requests", "tokens"


def utc_day(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date()


def _seconds_until(now: float, moment: date) -> float:
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC).timestamp() - now


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


class Quotas:
    """``minute``: the period of the per-minute limits (60 s; tests shorten it)."""

    def __init__(
        self,
        db: Database,
        limits: LimitsCache,
        *,
        minute: float = 60.0,
        lease_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.limits = limits
        self.minute = minute
        self.lease_seconds = lease_seconds
        self.clock = clock

    async def admit(self, developer_id: UUID) -> None:
        """Count a request against the tenant's requests per minute, or refuse it (429)."""
        limits = await self.limits.get(developer_id)
        if limits is not None and limits.requests_per_minute is not None:
            await self._take_request(developer_id, limits.requests_per_minute)

    async def _take_request(self, developer_id: UUID, most: int) -> None:
        now, interval = self.clock(), self.minute / most
        async with self.db.write() as conn:
            taken = await store.take(conn, developer_id, REQUESTS, now, interval, self.minute)
            tat = taken if taken is not None else await store.tat_of(conn, developer_id, REQUESTS)
        if taken is None:
            tat = now if tat is None else tat
            raise refusals.requests(most, tat + interval - self.minute - now, tat - now)

    async def check_spend(self, developer_id: UUID) -> None:
        """Before a model turn: refuse it (429) if the tenant's tokens per minute or per
        day, or its cost this month, are used up."""
        limits = await self.limits.get(developer_id)
        if limits is None or not limits.meters_tokens:
            return
        now = self.clock()
        async with self.db.read() as conn:
            await self._check_minute(conn, developer_id, limits, now)
            await self._check_day(conn, developer_id, limits, now)
            await self._check_month(conn, developer_id, limits, now)

    async def _check_minute(
        self, conn: AsyncConnection, developer_id: UUID, limits: TenantLimits, now: float
    ) -> None:
        if limits.tokens_per_minute is None:
            return
        tat = await store.tat_of(conn, developer_id, TOKENS)
        if tat is not None and tat - now > self.minute:
            wait = tat - now - self.minute
            raise refusals.tokens_per_minute(limits.tokens_per_minute, wait, tat - now)

    async def _check_day(
        self, conn: AsyncConnection, developer_id: UUID, limits: TenantLimits, now: float
    ) -> None:
        if limits.tokens_per_day is None:
            return
        today = utc_day(now)
        used = await store.tokens_since(conn, developer_id, today)
        if used >= limits.tokens_per_day:
            wait = _seconds_until(now, today + timedelta(days=1))
            raise refusals.tokens_per_day(limits.tokens_per_day, used, wait)

    async def _check_month(
        self, conn: AsyncConnection, developer_id: UUID, limits: TenantLimits, now: float
    ) -> None:
        if limits.cost_per_month is None:
            return
        first = utc_day(now).replace(day=1)
        spent = await store.cost_since(conn, developer_id, first)
        if spent >= limits.cost_per_month:
            wait = _seconds_until(now, _next_month(first))
            raise refusals.cost_per_month(limits.cost_per_month, spent, wait)

    async def charge_tokens(self, conn: AsyncConnection, developer_id: UUID, tokens: int) -> None:
        """Take a turn's tokens from the tenant's tokens-per-minute bucket (if it has one),
        in the caller's transaction."""
        limits = self.limits.peek(developer_id)
        if limits is None or limits.tokens_per_minute is None or tokens <= 0:
            return
        seconds = tokens * self.minute / limits.tokens_per_minute
        await store.charge(conn, developer_id, TOKENS, self.clock(), seconds)

    async def open_stream(self, developer_id: UUID) -> StreamSlot:
        """A slot for one more stream of the tenant, or 429 if all are taken."""
        limits = await self.limits.get(developer_id)
        if limits is None or limits.concurrent_streams is None:
            return NO_SLOT
        most, lease_id, now = limits.concurrent_streams, new_id(), self.clock()
        async with self.db.write() as conn:
            until = now + self.lease_seconds
            held = await store.open_lease(conn, developer_id, lease_id, now, until, most)
        if not held:
            raise refusals.streams(most)
        return Lease(self.db, lease_id, self.lease_seconds, self.clock)
