"""``GET /agents/{agent_id}/tools/{tool_id}/mcp_tools``: what an ``mcp`` tool offers.

The server's tools as a turn offers them to the model (namespaced names, descriptions, input
schemas), from the cache; ``?refresh=true`` lists them again now. A server that cannot be
listed answers its error (403 for a refused address or stdio command, 502/504 when the
server fails), where a turn would go on without its tools.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from sprig.server.api.deps import Developer, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.errors import BadRequestError
from sprig.server.mcp.source import SCHEMA_KEY, TOOL_KEY
from sprig.server.tools.types import tool_def

router = APIRouter(tags=["tools"])


class McpTool(BaseModel):
    name: str
    server_tool: str
    description: str
    parameters: dict[str, Any]


class McpToolList(BaseModel):
    items: list[McpTool]


@router.get("/agents/{agent_id}/tools/{tool_id}/mcp_tools", response_model=documented(McpToolList))
async def list_mcp_tools(
    agent_id: UUID, tool_id: UUID, runtime: RuntimeDep, dev: Developer, refresh: bool = False
) -> dict[str, Any]:
    row = await runtime.tools.get(dev, agent_id, tool_id)
    if row["type"] != "mcp":
        raise BadRequestError(f"Tool {tool_id} is a {row['type']} tool, not an mcp tool")
    offered = await runtime.chat.tools.mcp_tools(tool_def(row), dev, refresh=refresh)
    return {"items": [_view(d.name, d.description, d.body) for d in offered]}


def _view(name: str, description: str, body: dict[str, Any] | Any) -> dict[str, Any]:
    return {
        "name": name,
        "server_tool": body[TOOL_KEY],
        "description": description,
        "parameters": body[SCHEMA_KEY],
    }
