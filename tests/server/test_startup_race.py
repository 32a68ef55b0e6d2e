"""Several processes starting at once on one database (``sprig serve --workers N``, API
processes beside ``sprig worker``s): each makes sure the default tenant and its key exist,
and none fails on the rows another one is writing at that moment."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from sprig.server.auth.keys import (
    DEFAULT_TENANT,
    TENANTS_LOCK,
    create_tenant,
    ensure_default_tenant,
)
from sprig.server.auth.secret import ServerSecret
from sprig.server.errors import ConflictError
from sprig.server.ids import new_id, utcnow
from sprig.server.settings import Settings
from sprig.server.store import crud, tables
from sprig.server.store.db import Database
from tests.helpers.database import backend_settings, backends, migrate

KEY = "sk-race-" + "r" * 32


@pytest.fixture(params=backends())
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    made = backend_settings(request, tmp_path)
    migrate(made.resolved_database_url)
    return made


async def test_a_process_starting_while_another_makes_the_tenant_waits_for_it(
    settings: Settings,
) -> None:
    secret = ServerSecret.of("s" * 64, "test")
    first, second = Database.from_settings(settings), Database.from_settings(settings)
    try:
        async with first.write() as conn:  # the first process, midway through its start
            await crud.serialize(conn, TENANTS_LOCK)
            made = new_id()
            row = {"id": made, "name": DEFAULT_TENANT, "created_at": utcnow()}
            await conn.execute(sa.insert(tables.developers).values(**row))
            starting = asyncio.create_task(
                ensure_default_tenant(second, settings.data_dir, KEY, secret)
            )
            await asyncio.sleep(0.3)
            assert not starting.done()  # it waits for the first one's transaction
        started = await starting  # then finds the tenant, and adds only its key
        assert started.developer_id == made
        async with second.read() as conn:
            rows = (await conn.execute(tables.developers.select())).all()
        assert [r.name for r in rows] == [DEFAULT_TENANT]
        with pytest.raises(ConflictError):  # a tenant's name is still its own
            await create_tenant(second, DEFAULT_TENANT, secret)
    finally:
        await first.dispose()
        await second.dispose()
