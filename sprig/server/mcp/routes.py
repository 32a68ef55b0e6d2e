"""``GET /agents/{agent_id}/tools/{tool_id}/mcp_tools``: what an ``mcp`` tool offers; and
`mount_server`, which serves Sprig's own MCP server (endpoint.py) on the app.

The server's tools as a turn offers them to the model (namespaced names, descriptions, input
schemas), from the cache; ``?refresh=true`` lists them again now. A server that cannot be
listed answers its error (403 for a refused address or stdio command, 502/504 when the
server fails), where a turn would go on without its tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from starlette.routing import Route

from sprig.server.api.deps import Developer, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.errors import BadRequestError
from sprig.server.mcp.endpoint import MESSAGES_PATH, Asgi, McpEndpoints
from sprig.server.mcp.source import SCHEMA_KEY, TOOL_KEY
from sprig.server.tools.types import tool_def

if TYPE_CHECKING:
    from sprig.server.runtime import Runtime

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


def mount_server(app: FastAPI, runtime: Runtime) -> McpEndpoints:
    """Serve ``/mcp`` (streamable HTTP) and ``/mcp/sse`` + ``/mcp/messages/`` (SSE) on the
    app, outside the OpenAPI document (they speak MCP, not REST)."""
    endpoints = McpEndpoints(runtime)
    app.router.routes.extend(
        [
            Route("/mcp", Asgi(endpoints.streamable), include_in_schema=False),
            Route("/mcp/sse", Asgi(endpoints.sse), include_in_schema=False),
            Route(MESSAGES_PATH, Asgi(endpoints.messages), include_in_schema=False),
        ]
    )
    return endpoints
