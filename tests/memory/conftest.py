"""Memory tests run on SQLite and PostgreSQL (as the API suite), with no in-process worker:
tests run jobs themselves (``runtime.worker.run_once()``), so scripted replies are consumed
in a known order.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from sprig.server.memory.service import enqueue_after_turn
from sprig.server.memory.store import MemoryQuery
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from sprig.server.store import tables
from tests.api.conftest import _backends, backend_settings, pg_server

__all__ = ["pg_server"]


@pytest.fixture(params=_backends())
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return backend_settings(request, tmp_path, in_process_worker=False)


@dataclass
class World:
    """One tenant's agent, user and session (the session has both)."""

    dev: uuid.UUID
    agent: uuid.UUID
    user: uuid.UUID
    session: uuid.UUID

    def query(self, text: str, **fields: Any) -> MemoryQuery:
        """A search of this agent's memories of this user."""
        return MemoryQuery(agent_id=self.agent, user_id=self.user, text=text, **fields)


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


async def say(
    runtime: Runtime, world: World, user_text: str, reply: str, when: datetime
) -> list[uuid.UUID]:
    """Append a user message and the agent's reply (at ``when``); their entry ids."""
    rows = await runtime.history.append(
        world.dev,
        world.session,
        [
            {"role": "user", "name": "Ana", "content": user_text, "timestamp": when},
            {"role": "assistant", "name": "Sage", "content": reply, "timestamp": when},
        ],
    )
    return [row["id"] for row in rows]


def memories_reply(*ops: dict[str, Any]) -> str:
    return json.dumps({"memories": list(ops)})


async def memory_rows(runtime: Runtime, world: World) -> list[dict[str, Any]]:
    """Every memory of the world's agent (embeddings included), oldest first."""
    m = tables.memories
    async with runtime.db.read() as conn:
        stmt = sa.select(m).where(m.c.agent_id == world.agent).order_by(m.c.created_at)
        return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def run_form_job(runtime: Runtime, world: World, entry_ids: list[uuid.UUID]) -> Any:
    """Queue ``form_memories`` over these entries, run it with the worker; the job after."""
    async with runtime.db.write() as conn:
        jobs = await enqueue_after_turn(conn, world.dev, world.session, entry_ids, True, False)
    assert runtime.worker is not None
    assert await runtime.worker.run_once() is True
    return await runtime.jobs.get(world.dev, jobs[0]["id"])
