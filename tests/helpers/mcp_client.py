"""The ``mcp`` SDK's client on Sprig's MCP server: over streamable HTTP or SSE with an API key,
and a tenant added to a live server's database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from sprig.server.settings import Settings


@contextlib.asynccontextmanager
async def mcp_client(
    base_url: str, key: str | None, *, sse: bool = False, mode: str = "auto"
) -> AsyncIterator[Client]:
    """A connected client of ``<base_url>/mcp`` (``sse``: ``/mcp/sse``)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with contextlib.AsyncExitStack() as stack:
        transport: Any
        if sse:
            transport = sse_client(f"{base_url}/mcp/sse", headers=headers)
        else:
            http = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=30))
            transport = streamable_http_client(f"{base_url}/mcp", http_client=http)
        yield await stack.enter_async_context(Client(transport, mode=mode))


async def add_tenant(settings: Settings, name: str) -> str:
    """A new tenant in the database of a server running on ``settings``; its key."""

    async def make() -> str:
        from sprig.server.auth.keys import create_tenant
        from sprig.server.auth.secret import ServerSecret
        from sprig.server.store.db import Database

        db = Database.from_settings(settings)
        try:
            _, key = await create_tenant(db, name, ServerSecret.from_settings(settings))
            return key
        finally:
            await db.dispose()

    return await asyncio.to_thread(asyncio.run, make())
