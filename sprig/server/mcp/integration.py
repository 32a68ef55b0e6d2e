"""Julep's ``mcp`` integration: ``{type: integration, integration: {provider: "mcp", ...}}``.

``setup`` names the server (`config.from_setup`); the methods, as upstream declares them:

- ``call_tool`` (the default): ``{tool_name, arguments?, timeout_seconds?}`` calls one of the
  server's tools. What the tool's ``arguments`` fix (e.g. ``tool_name``) the model cannot
  change; the rest it fills.
- ``list_tools``: the server's tools, with their descriptions and input schemas.

A tool call's failure is an error for the model (`UpstreamError`). The ``mcp`` tool type
(one model-facing tool per server tool, images passed on) is the richer way to use a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sprig.server.errors import BadRequestError, NotImplementedFeatureError, UpstreamError
from sprig.server.mcp.config import from_setup
from sprig.server.tools.integrations import IntegrationMethod, IntegrationProvider

if TYPE_CHECKING:
    from sprig.server.mcp.source import McpTools

CALL_TOOL = IntegrationMethod(
    "Call a tool on the MCP server: its name and its arguments.",
    {
        "type": "object",
        "properties": {
            "tool_name": {"type": "string", "description": "The MCP tool to call"},
            "arguments": {
                "type": "object",
                "description": "The tool's arguments, as its input schema describes them",
            },
            "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 600},
        },
        "required": ["tool_name"],
    },
)
LIST_TOOLS = IntegrationMethod(
    "List the MCP server's tools with their descriptions and input schemas.",
    {"type": "object", "properties": {"dummy": {"type": "string"}}},
)


class McpProvider(IntegrationProvider):
    name = "mcp"
    description = "Tools of a Model Context Protocol server."
    default_method = "call_tool"
    methods = {"call_tool": CALL_TOOL, "list_tools": LIST_TOOLS}

    def __init__(self, tools: McpTools | None = None) -> None:
        self._tools = tools

    async def run(
        self, method: str | None, arguments: Mapping[str, Any], setup: Mapping[str, Any]
    ) -> Any:
        chosen, _ = self.method(method)
        if self._tools is None:
            raise NotImplementedFeatureError("MCP integrations are not configured here")
        config = from_setup(setup, self._tools.policy)
        if chosen == "list_tools":
            listed = await self._tools.listing(None, config, refresh=True)
            return {"tools": [asdict(t) for t in listed]}
        args = arguments.get("arguments") or {}
        if not isinstance(args, dict):
            raise BadRequestError("arguments must be an object")
        timeout = arguments.get("timeout_seconds")
        name = str(arguments.get("tool_name"))
        limit = float(timeout) if timeout else None
        converted = await self._tools.call_server(config, name, args, limit)
        if converted.is_error:
            raise UpstreamError(converted.error_message())
        return converted.payload
