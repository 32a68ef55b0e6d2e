"""Memory tests' world (one tenant's agent, user and session) and steps: say something,
script the model's memories, read the rows, run the formation job."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from sprig.server.memory.service import enqueue_after_turn
from sprig.server.memory.store import MemoryQuery
from sprig.server.runtime import Runtime
from sprig.server.store import tables


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
