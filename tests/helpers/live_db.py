"""Writing straight to the ``live_url`` server's database from a sync (browser) test: states
the API cannot make on demand (a superseded memory, a failed job) set up with the services'
own functions. The server's runtime lives on its thread's event loop; this opens a second
``Database`` on the same data dir (SQLite in WAL mode takes the two) and runs the coroutine
on a loop of its own, in another thread (Playwright's sync API owns this thread's loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.settings import Settings
from sprig.server.store.db import Database

T = TypeVar("T")


def write_live(settings: Settings, change: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run ``change(conn)`` in one write transaction on the live server's database."""

    async def main() -> T:
        db = Database.from_settings(settings)
        try:
            async with db.write() as conn:
                return await change(conn)
        finally:
            await db.dispose()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=60)


def revoke_live(settings: Settings, tenant: str) -> int:
    """Revoke a tenant's keys on the live server's database (as `sprig keys revoke` does)."""
    from sprig.server.auth.keys import revoke

    async def main() -> int:
        db = Database.from_settings(settings)
        try:
            return await revoke(db, tenant)
        finally:
            await db.dispose()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=60)
