"""Agent tools: ``/agents/{agent_id}/tools``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status

from sprig.server.api import responses as out
from sprig.server.api import views
from sprig.server.api.deps import Developer, Legacy, ListQueryDep, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.api.schemas import ToolIn

router = APIRouter(tags=["tools"])
ONE = documented(out.Tool, out.LegacyTool)


@router.get("/agents/{agent_id}/tools", response_model=documented(out.ToolList, out.LegacyToolList))
async def list_tools(
    agent_id: UUID, runtime: RuntimeDep, dev: Developer, query: ListQueryDep, legacy: Legacy
) -> dict[str, Any]:
    rows = await runtime.tools.list(dev, agent_id, query)
    if legacy:
        rows = [r for r in rows if views.legacy_tool_visible(r)]
    return {"items": [views.tool(r, legacy) for r in rows]}


@router.post("/agents/{agent_id}/tools", status_code=status.HTTP_201_CREATED, response_model=ONE)
async def create_tool(
    agent_id: UUID, body: ToolIn, runtime: RuntimeDep, dev: Developer, legacy: Legacy
) -> dict[str, Any]:
    row = await runtime.tools.create(dev, agent_id, body.normalised())
    return views.tool(row, legacy)


@router.put("/agents/{agent_id}/tools/{tool_id}", response_model=ONE)
async def replace_tool(
    agent_id: UUID,
    tool_id: UUID,
    body: ToolIn,
    runtime: RuntimeDep,
    dev: Developer,
    legacy: Legacy,
) -> dict[str, Any]:
    tool = body.normalised(require=False)
    if "name" not in tool or "type" not in tool:
        current = await runtime.tools.get(dev, agent_id, tool_id)
        tool = {"name": current["name"], "type": current["type"], **tool}
    row = await runtime.tools.update(dev, agent_id, tool_id, tool, replace=True)
    return views.tool(row, legacy)


@router.patch("/agents/{agent_id}/tools/{tool_id}", response_model=ONE)
async def patch_tool(
    agent_id: UUID,
    tool_id: UUID,
    body: ToolIn,
    runtime: RuntimeDep,
    dev: Developer,
    legacy: Legacy,
) -> dict[str, Any]:
    row = await runtime.tools.update(
        dev, agent_id, tool_id, body.normalised(require=False), replace=False
    )
    return views.tool(row, legacy)


@router.delete("/agents/{agent_id}/tools/{tool_id}", response_model=documented(out.Deleted))
async def delete_tool(
    agent_id: UUID, tool_id: UUID, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    return views.deleted(await runtime.tools.delete(dev, agent_id, tool_id))
