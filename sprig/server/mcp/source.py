"""MCP servers as a source of tools: lists cached per process, calls run on demand.

An agent's (or a request's) ``mcp`` tool is a *source*: for a turn it becomes one tool per
server tool (`expand`), named ``<source name>__<server tool name>`` (characters other than
letters, digits, ``_`` and ``-`` become ``_``; at most 64 characters), described and
parametrised as the server says. Each expanded tool keeps the source's object (secrets still
sealed) plus the server's tool name, so running it (`call`) needs no list.

Lists are cached per tenant and server (`ServerConfig.fingerprint`) for the policy's TTL,
fetched once however many turns ask at the same time, and refreshed on demand
(``refresh=True``). A failed fetch is remembered for a short while (so a server that is down
does not slow every turn), and the last good list, if any, is kept meanwhile. Turns of
agents without ``mcp`` tools never reach this module.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sprig.server.errors import SprigError
from sprig.server.mcp import connect, results
from sprig.server.mcp.config import McpPolicy, ServerConfig, from_tool
from sprig.server.tools.netguard import Resolver
from sprig.server.tools.types import MCP_TOOL_KEY, ToolDef, ToolResult, dumps

log = logging.getLogger("sprig.mcp")
SEPARATOR = "__"
MAX_NAME = 64
MAX_DESCRIPTION = 2048
FAILURE_RETRY_SECONDS = 30.0
MAX_CACHED = 1024
# Keys an expanded tool adds to its source's object.
TOOL_KEY, SCHEMA_KEY = MCP_TOOL_KEY, "input_schema"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class RemoteTool:
    """A server's tool as listed: its own name, description and input schema."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(slots=True)
class _Listing:
    tools: list[RemoteTool] | None
    error: SprigError | None
    until: float  # monotonic time the entry is good until


def tool_name(source: str, remote: str) -> str:
    """The model-facing name of a server's tool offered by the source ``source``."""
    name = f"{source}{SEPARATOR}{_UNSAFE.sub('_', remote)}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(remote.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def server_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """An expanded tool's object without what expansion added: the source's own."""
    return {k: v for k, v in body.items() if k not in (TOOL_KEY, SCHEMA_KEY)}


class McpTools:
    """Lists and calls MCP servers' tools under one `McpPolicy`; shared by all turns."""

    def __init__(
        self,
        policy: McpPolicy | None = None,
        *,
        resolver: Resolver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or McpPolicy()
        self._resolver = resolver
        self._clock = clock
        self._cache: OrderedDict[tuple[UUID | None, str], _Listing] = OrderedDict()
        self._locks: dict[tuple[UUID | None, str], asyncio.Lock] = {}

    def config(self, body: Mapping[str, Any]) -> ServerConfig:
        """The server an ``mcp`` tool's opened object names."""
        return from_tool(server_body(body), self.policy)

    async def expand(
        self,
        developer_id: UUID,
        source: ToolDef,
        opened: Mapping[str, Any],
        *,
        refresh: bool = False,
    ) -> list[ToolDef]:
        """The source's tools for a turn (``opened``: its object with secrets revealed);
        ``refresh``: listed again now, whatever the cache holds."""
        config = self.config(opened)
        listed = await self.listing(developer_id, config, refresh=refresh)
        wanted = [t for t in listed if config.only is None or t.name in config.only]
        return [_expanded(source, t) for t in wanted]

    async def listing(
        self, developer_id: UUID | None, config: ServerConfig, *, refresh: bool = False
    ) -> list[RemoteTool]:
        key = (developer_id, config.fingerprint())
        cached = self._fresh(key, refresh)
        if cached is not None:
            return _served(cached)
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._fresh(key, refresh)
            if cached is not None:
                return _served(cached)
            return await self._fetch(key, config)

    def forget(self, developer_id: UUID | None) -> None:
        """Drop the tenant's cached lists (their next use fetches them)."""
        for key in [k for k in self._cache if k[0] == developer_id]:
            del self._cache[key]

    async def call(self, opened: Mapping[str, Any], arguments: dict[str, Any]) -> ToolResult:
        """Run an expanded tool's call (``opened``: its object with secrets revealed)."""
        converted = await self.call_server(self.config(opened), str(opened[TOOL_KEY]), arguments)
        if converted.is_error:
            return ToolResult.error(converted.error_message(), code="mcp_tool_error")
        return ToolResult(dumps(converted.payload), parts=tuple(converted.parts))

    async def call_server(
        self,
        config: ServerConfig,
        name: str,
        arguments: dict[str, Any],
        seconds: float | None = None,
    ) -> results.Converted:
        """One call of the server's tool ``name``, within ``seconds`` when given (and the
        tool's and the settings' limits)."""
        limit = config.limit(self.policy, seconds)
        resolver = self._resolver
        outcome = await connect.called(config, self.policy, resolver, (name, arguments), limit)
        return results.convert(outcome, self.policy.max_output_bytes)

    def _fresh(self, key: tuple[UUID | None, str], refresh: bool) -> _Listing | None:
        entry = self._cache.get(key)
        if entry is None or refresh or entry.until <= self._clock():
            return None
        return entry

    async def _fetch(self, key: tuple[UUID | None, str], config: ServerConfig) -> list[RemoteTool]:
        previous = self._cache.get(key)
        retry = self._clock() + min(self.policy.ttl, FAILURE_RETRY_SECONDS)
        try:
            tools = [_remote(t) for t in await connect.listed(config, self.policy, self._resolver)]
        except SprigError as exc:
            log.warning("listing the tools of MCP server %s failed: %s", config.label, exc.code)
            if previous is not None and previous.tools is not None:
                self._store(key, _Listing(previous.tools, None, retry))
                return previous.tools
            self._store(key, _Listing(None, exc, retry))
            raise
        self._store(key, _Listing(tools, None, self._clock() + self.policy.ttl))
        return tools

    def _store(self, key: tuple[UUID | None, str], entry: _Listing) -> None:
        self._cache[key] = entry
        self._cache.move_to_end(key)
        while len(self._cache) > MAX_CACHED:
            old, _ = self._cache.popitem(last=False)
            self._locks.pop(old, None)


def _served(entry: _Listing) -> list[RemoteTool]:
    if entry.error is not None:
        raise entry.error
    return entry.tools or []


def _remote(tool: Any) -> RemoteTool:
    schema = dict(tool.input_schema or {})
    if schema.get("type", "object") != "object":
        schema = {"type": "object", "properties": {}}
    description = (tool.description or tool.title or "")[:MAX_DESCRIPTION]
    return RemoteTool(tool.name, description, schema)


def _expanded(source: ToolDef, tool: RemoteTool) -> ToolDef:
    body = {**source.body, TOOL_KEY: tool.name, SCHEMA_KEY: tool.input_schema}
    return ToolDef(tool_name(source.name, tool.name), "mcp", tool.description, body)
