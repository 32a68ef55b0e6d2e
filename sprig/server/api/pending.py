"""Routes of the Julep API whose feature Sprig does not have yet: an honest 501.

Each first checks that the path's resource exists for the caller (404 otherwise, so tenant
isolation holds), then answers 501 naming what is missing.
"""

from __future__ import annotations

from typing import Any, NoReturn
from uuid import UUID

from fastapi import APIRouter

from sprig.server.api.deps import Developer, RuntimeDep
from sprig.server.errors import NotImplementedFeatureError

router = APIRouter()


def _later(feature: str) -> NoReturn:
    raise NotImplementedFeatureError(f"{feature} is not implemented in this Sprig version yet")


@router.get("/agents/{agent_id}/memories", tags=["memories"])
async def list_memories(agent_id: UUID, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    await runtime.agents.get(dev, agent_id)
    _later("Long-term memory")


@router.delete("/agents/{agent_id}/memories/{memory_id}", tags=["memories"])
async def delete_memory(
    agent_id: UUID, memory_id: UUID, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    await runtime.agents.get(dev, agent_id)
    _later("Long-term memory")


@router.get("/sessions/{session_id}/suggestions", tags=["sessions"])
async def list_suggestions(session_id: UUID, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    await runtime.sessions.get(dev, session_id)
    _later("Suggestions")
