"""Memory tests run on SQLite and PostgreSQL (as the API suite), with no in-process worker:
tests run jobs themselves (``runtime.worker.run_once()``), so scripted replies are consumed
in a known order.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from tests.helpers.database import backend_settings, backends
from tests.helpers.memory import World


@pytest.fixture(params=backends())
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return backend_settings(request, tmp_path, in_process_worker=False)


@pytest.fixture
async def world(client: httpx.AsyncClient, runtime: Runtime) -> World:
    agent = (await client.post("/agents", json={"name": "Sage", "about": "a helper"})).json()
    user = (await client.post("/users", json={"name": "Ana"})).json()
    session = (
        await client.post("/sessions", json={"agent": agent["id"], "user": user["id"]})
    ).json()
    assert runtime.startup_key is not None
    return World(
        runtime.startup_key.developer_id,
        uuid.UUID(agent["id"]),
        uuid.UUID(user["id"]),
        uuid.UUID(session["id"]),
    )
