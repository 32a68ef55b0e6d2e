"""Recording usage: per tenant, UTC day and model, in ``usage_daily``.

A saved chat turn's usage is added in the transaction that saves it (`UsageMeter.add`);
what is not saved (a turn with ``save: false``, a raw model's reply, embeddings) is noted
(`UsageMeter.note`) and written right after, off the response's path, by one task that
folds whatever has gathered meanwhile into one transaction; for a tenant whose tokens or
cost are limited it is written before the response (`UsageMeter.record`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import date
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.embeddings.base import Embedder
from sprig.server.models.base import ChatModel, Usage
from sprig.server.store.db import Database
from sprig.server.usage import store
from sprig.server.usage.quotas import Quotas, utc_day
from sprig.server.usage.store import Counts

log = logging.getLogger("sprig.usage")
Key = tuple[UUID, date, str]


def model_counts(model: ChatModel, usage: Usage, *, turns: int = 1, tool_calls: int = 0) -> Counts:
    """A model's tokens with their estimated cost (None where no price is known)."""
    prices = model.token_prices
    cost = None
    if prices is not None:
        cost = usage.prompt_tokens * prices[0] + usage.completion_tokens * prices[1]
    return Counts(usage.prompt_tokens, usage.completion_tokens, turns, tool_calls, 0, cost)


def embedding_counts(embedder: Embedder, texts: int) -> Counts:
    return Counts(embedded_chunks=texts, cost=0.0 if embedder.local else None)


async def add_embedded(
    conn: AsyncConnection, developer_id: UUID, embedder: Embedder, texts: int
) -> None:
    """Record ``texts`` embedded for the tenant today, in the caller's transaction."""
    counts = embedding_counts(embedder, texts)
    await store.add_usage(conn, developer_id, utc_day(time.time()), embedder.name, counts)


class UsageMeter:
    def __init__(
        self, db: Database, quotas: Quotas, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.quotas = quotas
        self.clock = clock
        self._pending: dict[Key, Counts] = {}
        self._task: asyncio.Task[None] | None = None

    async def add(
        self, conn: AsyncConnection, developer_id: UUID, model: str, counts: Counts
    ) -> None:
        """Record ``counts`` in the caller's transaction (and charge the tokens to the
        tenant's tokens-per-minute bucket)."""
        await store.add_usage(conn, developer_id, utc_day(self.clock()), model, counts)
        await self.quotas.charge_tokens(conn, developer_id, counts.tokens)

    async def record(self, developer_id: UUID, model: str, counts: Counts) -> None:
        """Record ``counts`` of what is not saved: at once for a tenant whose tokens or cost
        are limited (its next turn, in any process, must see them), else right after."""
        limits = self.quotas.limits.peek(developer_id)
        if limits is None or not limits.meters_tokens:
            self.note(developer_id, model, counts)
            return
        async with self.db.write() as conn:
            await self.add(conn, developer_id, model, counts)

    def note(self, developer_id: UUID, model: str, counts: Counts) -> None:
        """Record ``counts`` right after, in the background."""
        key = (developer_id, utc_day(self.clock()), model)
        self._pending[key] = self._pending[key] + counts if key in self._pending else counts
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="sprig-usage")

    async def flush(self) -> None:
        """Wait until what was noted so far is written."""
        if self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        if self._pending:
            await self._drain()

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            try:
                await self._write(batch)
            except Exception:
                for key, counts in batch.items():  # kept for the next try
                    mine = self._pending.get(key)
                    self._pending[key] = counts if mine is None else counts + mine
                log.exception("could not record usage; kept for the next write")
                return

    async def _write(self, batch: dict[Key, Counts]) -> None:
        """Rows in one order in every process, usage rows before buckets, as a saved turn
        takes them (PostgreSQL: no two transactions wait on each other's rows)."""
        tokens: dict[UUID, int] = {}
        async with self.db.write() as conn:
            for key in sorted(batch, key=_order):
                developer_id, day, model = key
                await store.add_usage(conn, developer_id, day, model, batch[key])
                tokens[developer_id] = tokens.get(developer_id, 0) + batch[key].tokens
            for developer_id in sorted(tokens, key=str):
                await self.quotas.charge_tokens(conn, developer_id, tokens[developer_id])


def _order(key: Key) -> tuple[str, date, str]:
    developer_id, day, model = key
    return str(developer_id), day, model
