"""Concurrent-stream slots: a lease row per open stream of a limited tenant, renewed while
the stream runs and deleted when it ends; a process that dies frees its slots when their
leases lapse (``SPRIG_STREAM_LEASE_SECONDS``), and so does a stream whose body is never
read (its client gone before the response started)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TypeVar
from uuid import UUID

from sprig.server.store.db import Database
from sprig.server.usage import store

T = TypeVar("T")
log = logging.getLogger("sprig.usage")


class StreamSlot:
    """A stream of a tenant without a stream limit: nothing is held."""

    def guard(self, events: AsyncIterator[T]) -> AsyncIterator[T]:
        """``events``, the slot held until they end (or are closed)."""
        return events

    async def release(self) -> None:
        """Give the slot back (at most once)."""

    @contextlib.asynccontextmanager
    async def starting(self) -> AsyncIterator[None]:
        """Around what starts the stream: a failure there gives the slot back."""
        try:
            yield
        except BaseException:
            await self.release()
            raise


NO_SLOT = StreamSlot()


class Lease(StreamSlot):
    """A held slot: the lease row ``lease_id``, lapsing ``seconds`` after its last renewal."""

    def __init__(
        self, db: Database, lease_id: UUID, seconds: float, clock: Callable[[], float]
    ) -> None:
        self.db, self.lease_id, self.seconds, self._clock = db, lease_id, seconds, clock
        self._released = False

    def guard(self, events: AsyncIterator[T]) -> AsyncIterator[T]:
        return self._guarded(events)

    async def _guarded(self, events: AsyncIterator[T]) -> AsyncIterator[T]:
        renewing = asyncio.create_task(self._renew_forever(), name="sprig-stream-lease")
        try:
            async for event in events:
                yield event
        finally:
            renewing.cancel()
            try:
                close = getattr(events, "aclose", None)
                if close is not None:  # closed here, closed underneath (a turn saves its part)
                    await close()
            finally:  # a cancelled stream gives its slot back too (the shield outlives it)
                await asyncio.shield(asyncio.ensure_future(self.release()))

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.seconds / 3)
            try:
                async with self.db.write() as conn:
                    await store.renew_lease(conn, self.lease_id, self._clock() + self.seconds)
            except Exception:  # the next renewal may work; the lease lapses otherwise
                log.warning("could not renew a stream lease", exc_info=True)

    async def release(self) -> None:
        if self._released:
            return
        self._released = True
        async with self.db.write() as conn:
            await store.close_lease(conn, self.lease_id)
