"""Sprig as an MCP server: the ``mcp`` SDK's low-level `Server` over the runtime's services.

Every handler runs for one tenant: the one whose API key authenticated the HTTP request
that carried the message (endpoint.py puts it in the request's scope), or, over stdio
(``sprig mcp``), the one the key given at start belongs to.

Errors: a tool's bad arguments, and a failure of what it asked (an unknown agent, another
tenant's session…), come back as tool results with ``isError`` and the reason, so a model can
correct itself; an unknown tool, resource or prompt is an MCP error (invalid params). Nothing
reaches the client as an internal error but a real fault (logged, without its details).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any
from uuid import UUID

import mcp.types as types
import pydantic
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError

from sprig import __version__
from sprig.server.errors import AuthenticationError, NotFoundError, SprigError
from sprig.server.mcp import server_resources as res
from sprig.server.mcp.server_tools import BY_NAME, TOOLS, Caller, ServerTool

if TYPE_CHECKING:
    from sprig.server.runtime import Runtime

log = logging.getLogger("sprig.mcp")
TENANT_KEY = "sprig.developer_id"  # the ASGI scope key endpoint.py sets
INSTRUCTIONS = """\
Sprig hosts AI agents with memory and documents. Find an agent with list_agents, then talk to \
it with chat (keep the session_id it returns to continue the conversation). search_documents \
and add_document work on an agent's, a user's or a session's documents; search_memories and \
remember on what an agent knows about users; get_history reads a session. Agents, sessions \
and documents are also resources (sprig://...), and each agent's system prompt is a prompt."""

Ctx = ServerRequestContext[Any, Any]


def build(runtime: Runtime, developer_id: UUID | None = None) -> Server[Any]:
    """The server; ``developer_id`` fixes the tenant (stdio), else each request's is used."""
    handlers = _Handlers(runtime, developer_id)
    return Server(
        "sprig",
        version=__version__,
        title="Sprig",
        instructions=INSTRUCTIONS,
        get_tool_input_schema=_input_schema,
        on_list_tools=handlers.list_tools,
        on_call_tool=handlers.call_tool,
        on_list_resources=handlers.list_resources,
        on_list_resource_templates=handlers.list_templates,
        on_read_resource=handlers.read_resource,
        on_list_prompts=handlers.list_prompts,
        on_get_prompt=handlers.get_prompt,
    )


def _input_schema(name: str) -> dict[str, Any] | None:
    tool = BY_NAME.get(name)
    return tool.input_schema if tool else None


def tenant_of(ctx: Ctx) -> UUID:
    """The tenant of the HTTP request that carried this message."""
    scope = getattr(ctx.request, "scope", None) or {}
    developer = scope.get(TENANT_KEY)
    if not isinstance(developer, UUID):
        raise MCPError(types.INVALID_REQUEST, "Not authenticated")
    return developer


class _Handlers:
    def __init__(self, runtime: Runtime, developer_id: UUID | None) -> None:
        self.runtime = runtime
        self.developer_id = developer_id

    def caller(self, ctx: Ctx) -> Caller:
        return Caller(self.runtime, self.developer_id or tenant_of(ctx))

    async def list_tools(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_tool(t) for t in TOOLS])

    async def call_tool(
        self, ctx: Ctx, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = BY_NAME.get(params.name)
        if tool is None:
            known = ", ".join(BY_NAME)
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool {params.name[:100]!r} ({known})")
        caller = self.caller(ctx)
        try:
            args = tool.args.model_validate(params.arguments or {})
        except pydantic.ValidationError as exc:
            return _failed(f"Invalid arguments: {_described(exc)}")
        try:
            result = await tool.handler(caller, args)
        except SprigError as exc:
            return _failed(f"{exc.message} ({exc.code})")
        except Exception:
            log.exception("MCP tool %s failed", tool.name)
            return _failed(f"Tool {tool.name} failed unexpectedly")
        text = json.dumps(result, ensure_ascii=False, default=str)
        return types.CallToolResult(
            content=[types.TextContent(text=text)], structured_content=json.loads(text)
        )

    async def list_resources(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        found = await res.listed(self.caller(ctx))
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=r.uri,
                    name=r.name,
                    title=r.title,
                    description=r.description,
                    mime_type=res.JSON,
                )
                for r in found
            ]
        )

    async def list_templates(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=t.uri_template,
                    name=t.name,
                    description=t.description,
                    mime_type=res.JSON,
                )
                for t in res.TEMPLATES
            ]
        )

    async def read_resource(
        self, ctx: Ctx, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        try:
            text = await res.read(self.caller(ctx), uri)
        except NotFoundError as exc:
            raise MCPError(types.INVALID_PARAMS, exc.message) from None
        contents = types.TextResourceContents(uri=uri, mime_type=res.JSON, text=text)
        return types.ReadResourceResult(contents=[contents])

    async def list_prompts(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        agents = await res.prompts(self.caller(ctx))
        return types.ListPromptsResult(prompts=[_prompt(a) for a in agents])

    async def get_prompt(
        self, ctx: Ctx, params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        try:
            agent, text = await res.system_prompt(
                self.caller(ctx), params.name, params.arguments or {}
            )
        except (NotFoundError, AuthenticationError) as exc:
            raise MCPError(types.INVALID_PARAMS, exc.message) from None
        except SprigError as exc:
            raise MCPError(types.INVALID_PARAMS, f"{exc.message} ({exc.code})") from None
        message = types.PromptMessage(role="user", content=types.TextContent(text=text))
        return types.GetPromptResult(
            description=res.describe(agent)["description"], messages=[message]
        )


def _tool(tool: ServerTool) -> types.Tool:
    hints = types.ToolAnnotations(
        title=tool.title,
        read_only_hint=tool.read_only,
        destructive_hint=False,
        open_world_hint=False,
    )
    return types.Tool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.input_schema,
        annotations=hints,
    )


def _prompt(agent: dict[str, Any]) -> types.Prompt:
    user = types.PromptArgument(
        name="user_id", description="Render it for this user (their id)", required=False
    )
    shown = res.describe(agent)
    return types.Prompt(
        name=res.prompt_name(agent["id"]),
        title=shown["title"],
        description=shown["description"],
        arguments=[user],
    )


def _failed(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _described(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
