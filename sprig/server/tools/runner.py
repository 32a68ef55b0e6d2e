"""Running one tool call server-side.

`ToolRunner.run` never raises for a tool's own failure: bad argument JSON, schema
mismatches, refused addresses, HTTP failures and provider errors all become an error
`ToolResult` the chat loop feeds back to the model. ``function`` and computer-use tools
cannot run here: they give a ``client_side`` result, and the loop returns the call to
the client. (Cancellation still propagates.)

``mcp`` tools are sources: `expand` turns them into the MCP servers' tools for a turn
(mcp/source.py), which then run here like any other server-side tool.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sprig.server.errors import SprigError
from sprig.server.models.base import ToolCall
from sprig.server.observability import metrics, timeline, tracing
from sprig.server.tools import apicall, sealing
from sprig.server.tools.context import ToolContext
from sprig.server.tools.http import SafeHttpClient
from sprig.server.tools.integrations import IntegrationRegistry, default_integrations
from sprig.server.tools.schema import check_arguments, without
from sprig.server.tools.sealing import Cipher
from sprig.server.tools.system import SystemRegistry
from sprig.server.tools.types import ToolDef, ToolResult, tool_def

if TYPE_CHECKING:
    from sprig.server.mcp.source import McpTools

log = logging.getLogger("sprig.tools")


class ArgumentsError(ValueError):
    """The model's arguments text is not a JSON object."""


def parse_arguments(text: str | None) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArgumentsError(f"Tool arguments are not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise ArgumentsError("Tool arguments are nested too deeply") from None
    if not isinstance(value, dict):
        raise ArgumentsError("Tool arguments must be a JSON object")
    return value


class ToolRunner:
    """Dispatches calls by tool type; shareable between concurrent turns."""

    def __init__(
        self,
        *,
        http: SafeHttpClient | None = None,
        integrations: IntegrationRegistry | None = None,
        system: SystemRegistry | None = None,
        cipher: Cipher | None = None,
        mcp: McpTools | None = None,
    ) -> None:
        from sprig.server.mcp.integration import McpProvider  # imports this package's modules
        from sprig.server.mcp.source import McpTools

        self.http = http or SafeHttpClient()
        self.mcp = mcp or McpTools()
        self.integrations = integrations or default_integrations()
        self.integrations.register(McpProvider(self.mcp))
        self.system = system or SystemRegistry()
        self.cipher = cipher  # opens stored tools' sealed secrets (sealing.py)

    async def expand(self, tools: Sequence[ToolDef], context: ToolContext) -> list[ToolDef]:
        """The tools with each ``mcp`` source replaced by its server's tools. A server that
        cannot be listed offers none (logged); the turn goes on with the others."""
        if not any(t.mcp_source for t in tools):
            return list(tools)
        found = await asyncio.gather(*(self._expanded(t, context) for t in tools))
        return [d for group in found for d in group]

    async def mcp_tools(
        self, tool: ToolDef, developer_id: UUID, *, refresh: bool = False
    ) -> list[ToolDef]:
        """One ``mcp`` source's tools as a turn offers them; its failure raises."""
        opened = self._opened(tool, ToolContext(developer_id))
        return await self.mcp.expand(developer_id, tool, opened, refresh=refresh)

    async def _expanded(self, tool: ToolDef, context: ToolContext) -> list[ToolDef]:
        if not tool.mcp_source:
            return [tool]
        try:
            return await self.mcp.expand(context.developer_id, tool, self._opened(tool, context))
        except SprigError as exc:
            log.warning("mcp tool %s offers no tools this turn: %s", tool.name, exc.message)
            return []

    async def run(
        self, tool: ToolDef | Mapping[str, Any], call: ToolCall, context: ToolContext
    ) -> ToolResult:
        started = time.perf_counter()
        try:
            d = tool_def(tool)
        except SprigError as exc:
            return ToolResult.error(exc.message, code=exc.code)
        if d.client_side:
            return await self._run(d, call, context)
        with timeline.phase(
            timeline.TOOL, f"execute_tool {d.name}", _span(d, call), detail=d.name
        ) as span:
            result = await self._run(d, call, context)
            _traced(span, call, result)
        elapsed = (time.perf_counter() - started) * 1000
        log.info("tool %s (%s) ran in %.0f ms, error=%s", d.name, d.type, elapsed, result.is_error)
        metrics.observe_tool(d.type, result.is_error)
        return result

    async def run_named(
        self,
        tools: Iterable[ToolDef | Mapping[str, Any]],
        call: ToolCall,
        context: ToolContext,
    ) -> ToolResult:
        """Run the call on the tool it names; an unknown name is an error result."""
        defs = {d.name: d for d in map(tool_def, tools)}
        tool = defs.get(call.name)
        if tool is None:
            known = ", ".join(sorted(defs)) or "none"
            return ToolResult.error(
                f"Unknown tool {call.name!r} (tools: {known})", code="unknown_tool"
            )
        return await self.run(tool, call, context)

    async def _run(self, d: ToolDef, call: ToolCall, context: ToolContext) -> ToolResult:
        if d.client_side:
            return ToolResult.for_client(d)
        try:
            arguments = parse_arguments(call.arguments)
            return await self._dispatch(d, arguments, context)
        except ArgumentsError as exc:
            return ToolResult.error(str(exc), code="invalid_arguments")
        except SprigError as exc:
            return ToolResult.error(exc.message, code=exc.code)
        except Exception:
            log.exception("tool %s (%s) failed", d.name, d.type)
            return ToolResult.error(f"Tool {d.name!r} failed unexpectedly", code="internal_error")

    async def _dispatch(
        self, d: ToolDef, arguments: dict[str, Any], context: ToolContext
    ) -> ToolResult:
        if d.type == "api_call":
            body = self._opened(d, context)
            value, failed = await apicall.run_api_call(body, arguments, self.http)
            return ToolResult.ok(value, is_error=failed)
        if d.type == "system":
            return ToolResult.ok(await self.system.run(d.body, arguments, context))
        if d.type == "integration":
            return ToolResult.ok(await self._integration(self._opened(d, context), arguments))
        if d.type == "mcp" and not d.mcp_source:
            return await self.mcp.call(self._opened(d, context), arguments)
        return ToolResult.error(f"Tool type {d.type!r} cannot run on the server", code="bad_type")

    def _opened(self, d: ToolDef, context: ToolContext) -> Mapping[str, Any]:
        """The tool's own object with its sealed secrets decrypted, for this call only."""
        if self.cipher is None:
            return d.body
        return sealing.reveal(d.type, d.body, self.cipher, context.developer_id)

    async def _integration(self, body: Mapping[str, Any], arguments: dict[str, Any]) -> Any:
        provider = self.integrations.get(str(body.get("provider")))
        method, spec = provider.method(body.get("method"))
        fixed = dict(body.get("arguments") or {})
        check_arguments(arguments, without(spec.parameters, fixed), force_closed=False)
        setup = dict(body.get("setup") or {})
        return await provider.run(method, {**arguments, **fixed}, setup)


def _span(d: ToolDef, call: ToolCall) -> dict[str, Any]:
    """GenAI ``execute_tool`` attributes (a function tool: ``function``; the server's own
    kinds: ``extension``)."""
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": d.name,
        "gen_ai.tool.call.id": call.id,
        "gen_ai.tool.type": "function" if d.type == "function" else "extension",
        "sprig.tool.kind": d.type,
    }


def _traced(span: Any, call: ToolCall, result: ToolResult) -> None:
    if span is None:
        return
    if result.is_error:
        tracing.set_attributes(span, {"error.type": "tool_error"})
    tracing.set_content(span, "gen_ai.tool.call.arguments", call.arguments)
    tracing.set_content(span, "gen_ai.tool.call.result", result.content)
