"""One connection to an MCP server, and what its failures mean to Sprig.

`listed` and `called` open a connection (the ``mcp`` SDK's `Client`: streamable HTTP, the
older SSE, or a stdio subprocess), do one thing within the call's time limit, and close it.
HTTP goes through `GuardedTransport` (guard.py); a stdio server starts only when the
settings enable stdio servers and list its command, with only the tool's ``env`` over a
minimal environment (the SDK's: HOME, PATH, …), never the server's secrets.

Every failure becomes a `SprigError` naming the server by scheme and host (or command):
refused addresses and settings keep their own, a timeout is an `UpstreamTimeoutError`,
anything else an `UpstreamError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from sprig import __version__
from sprig.server.errors import PermissionDeniedError, SprigError, UpstreamError
from sprig.server.errors import UpstreamTimeoutError as TimedOut
from sprig.server.mcp.config import McpPolicy, ServerConfig
from sprig.server.tools.netguard import AllowList, Resolver

if TYPE_CHECKING:
    from mcp import Client
    from mcp.types import CallToolResult, Tool

    from sprig.server.mcp.guard import GuardedTransport

log = logging.getLogger("sprig.mcp")
MAX_LIST_PAGES = 20
HTTP_OVERHEAD_BYTES = 256 * 1024  # room for JSON-RPC framing and base64 over the output cap


class StdioRefusedError(PermissionDeniedError):
    code = "mcp_stdio_refused"


async def listed(config: ServerConfig, policy: McpPolicy, resolver: Resolver | None) -> list[Tool]:
    """The server's tools, every page (at most `MAX_LIST_PAGES`)."""
    async with _opened(config, policy, resolver, config.limit(policy)) as client:
        tools: list[Tool] = []
        cursor: str | None = None
        for _ in range(MAX_LIST_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        return tools


async def called(
    config: ServerConfig,
    policy: McpPolicy,
    resolver: Resolver | None,
    call: tuple[str, dict[str, Any]],
    limit: float,
) -> CallToolResult:
    """The result of one tool call (``call``: the server's tool name and the arguments)."""
    name, arguments = call
    async with _opened(config, policy, resolver, limit) as client:
        return await client.call_tool(name, arguments)


@contextlib.asynccontextmanager
async def _opened(
    config: ServerConfig, policy: McpPolicy, resolver: Resolver | None, limit: float
) -> AsyncIterator[Client]:
    """A connected client; the connection and all done with it within ``limit`` seconds."""
    from mcp import Client
    from mcp.types import Implementation

    guard = _guard(config, policy, resolver)
    info = Implementation(name="sprig", version=__version__)
    try:
        async with asyncio.timeout(limit), contextlib.AsyncExitStack() as stack:
            transport = _stdio(config, policy) if guard is None else _http(config, guard, stack)
            yield await stack.enter_async_context(Client(transport, cache=None, client_info=info))
    except SprigError:
        raise
    except Exception as exc:
        raise failure(exc, config, guard, limit) from None


def _guard(
    config: ServerConfig, policy: McpPolicy, resolver: Resolver | None
) -> GuardedTransport | None:
    if config.transport == "stdio":
        return None
    from sprig.server.mcp.guard import GuardedTransport

    cap = policy.max_output_bytes * 2 + HTTP_OVERHEAD_BYTES
    return GuardedTransport(AllowList.parse(policy.allow), cap, resolver)


def _http(config: ServerConfig, guard: GuardedTransport, stack: contextlib.AsyncExitStack) -> Any:
    """The SDK's transport over a client of ours (SSE: the SDK closes it; streamable HTTP:
    ``stack`` does)."""
    import httpx2
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client

    assert config.url is not None
    given = dict(config.headers)

    def client(
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        """Our headers and transport; no timeout of its own (the call's limit applies)."""
        return httpx2.AsyncClient(transport=guard, headers=given, timeout=None)

    if config.transport == "sse":
        return sse_client(config.url, httpx_client_factory=client)
    http = client()
    stack.push_async_callback(http.aclose)
    return streamable_http_client(config.url, http_client=http)


def _stdio(config: ServerConfig, policy: McpPolicy) -> Any:
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    if not policy.stdio:
        raise StdioRefusedError(
            "stdio MCP servers are disabled on this server (SPRIG_MCP_STDIO_SERVERS)"
        )
    if config.command not in policy.commands:
        raise StdioRefusedError(
            f"The command {config.command!r} is not one stdio MCP servers may be started "
            "with (SPRIG_MCP_STDIO_COMMANDS)"
        )
    assert config.command is not None
    params = StdioServerParameters(
        command=config.command, args=list(config.args), env=dict(config.env), cwd=config.cwd
    )
    return stdio_client(params)


def failure(
    exc: BaseException, config: ServerConfig, guard: GuardedTransport | None, limit: float
) -> SprigError:
    """What a failed connection or call means, as one `SprigError`."""
    refused = guard.refused if guard is not None else None
    if refused is not None:
        return refused
    leaves = list(_leaves(exc))
    for leaf in leaves:
        if isinstance(leaf, SprigError):
            return leaf
    return _upstream(leaves[0] if leaves else exc, config, limit)


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def _upstream(exc: BaseException, config: ServerConfig, limit: float) -> SprigError:
    import httpx2
    from mcp import MCPError

    where = f"MCP server {config.label}"
    if isinstance(exc, TimeoutError | httpx2.TimeoutException) or _timed_out(exc):
        return TimedOut(f"{where} did not answer within {limit:g}s")
    if isinstance(exc, httpx2.HTTPStatusError):
        return UpstreamError(f"{where} answered HTTP {exc.response.status_code}")
    if isinstance(exc, MCPError):
        return UpstreamError(f"{where} answered an error: {exc.error.message}")
    if isinstance(exc, httpx2.HTTPError):
        return UpstreamError(f"{where} could not be reached ({type(exc).__name__})")
    if isinstance(exc, OSError):
        return UpstreamError(f"{where} could not be started ({exc.strerror or type(exc).__name__})")
    log.warning("MCP connection to %s failed: %s", config.label, type(exc).__name__)
    return UpstreamError(f"{where} failed ({type(exc).__name__})")


def _timed_out(exc: BaseException) -> bool:
    from mcp import MCPError
    from mcp.types import REQUEST_TIMEOUT

    return isinstance(exc, MCPError) and exc.error.code == REQUEST_TIMEOUT
