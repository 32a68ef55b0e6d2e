"""``/mcp``: Sprig's MCP server over streamable HTTP, and the older SSE transport
(``GET /mcp/sse``, then ``POST /mcp/messages/?session_id=…``), also under ``/api``.

Every request presents a tenant's API key (``Authorization: Bearer <key>``, or
``X-Auth-Key``): none or a wrong one is a 401 in the one JSON error shape (with
``WWW-Authenticate: Bearer``). The tenant rides in the request's ASGI scope to the handlers
(server.py), and as the SDK's authenticated user. Streamable HTTP is served stateless (every
request stands alone, so any of several API processes answers it); an SSE session answers
only requests with a key of the tenant that opened it (another's get 404).

The ``mcp`` SDK is imported, and its session manager started, at the first request; the
app's shutdown stops it (`close`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from starlette.types import Receive, Scope, Send

from sprig.server.api.deps import presented_key
from sprig.server.auth.keys import authenticate
from sprig.server.errors import AuthenticationError

if TYPE_CHECKING:
    from mcp.server.sse import SseServerTransport
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    from sprig.server.runtime import Runtime

MESSAGES_PATH = "/mcp/messages/"
AsgiHandler = Callable[[Scope, Receive, Send], Awaitable[None]]


class McpEndpoints:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._manager: StreamableHTTPSessionManager | None = None
        self._sse: SseServerTransport | None = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def streamable(self, scope: Scope, receive: Receive, send: Send) -> None:
        tenant_scope = await self._authenticated(scope, receive, send)
        if tenant_scope is not None:
            manager = await self._started()
            await manager.handle_request(tenant_scope, receive, send)

    async def sse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``GET /mcp/sse``: the event stream of one SSE session, served while it is open."""
        tenant_scope = await self._authenticated(scope, receive, send)
        if tenant_scope is None:
            return
        from starlette.responses import Response

        if scope["method"] != "GET":
            await Response(status_code=405, headers={"Allow": "GET"})(scope, receive, send)
            return
        transport, server = self._sse_transport(), self._server()
        async with transport.connect_sse(tenant_scope, receive, send) as (reading, writing):
            await server.run(reading, writing, server.create_initialization_options())

    async def messages(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /mcp/messages/?session_id=…``: a message for an open SSE session."""
        tenant_scope = await self._authenticated(scope, receive, send)
        if tenant_scope is not None:
            await self._sse_transport().handle_post_message(tenant_scope, receive, send)

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _authenticated(self, scope: Scope, receive: Receive, send: Send) -> Scope | None:
        """The scope with the tenant in it, or None once the 401 is sent."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = presented_key(headers)
        developer = None
        if key is not None:
            developer = await authenticate(self.runtime.db, key, self.runtime.key_cache)
        if developer is None:
            await _refused(key is None)(scope, receive, send)
            return None
        return _with_tenant(scope, developer)

    async def _started(self) -> StreamableHTTPSessionManager:
        async with self._lock:
            if self._manager is None:
                from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

                # stateless: any API process answers any request (sprig serve --workers N),
                # and nothing is held between requests; Sprig sends no server requests
                manager = StreamableHTTPSessionManager(app=self._server(), stateless=True)
                ready = asyncio.Event()
                task = asyncio.create_task(self._run(manager, ready), name="sprig-mcp")
                waiting = asyncio.ensure_future(ready.wait())
                await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
                if not ready.is_set():
                    waiting.cancel()
                    await task  # raises what stopped it
                self._task, self._manager = task, manager
        return self._manager

    async def _run(self, manager: StreamableHTTPSessionManager, ready: asyncio.Event) -> None:
        async with manager.run():
            ready.set()
            await self._stop.wait()

    def _server(self) -> Any:
        from sprig.server.mcp.server import build

        return build(self.runtime)

    def _sse_transport(self) -> SseServerTransport:
        if self._sse is None:
            from mcp.server.sse import SseServerTransport

            self._sse = SseServerTransport(MESSAGES_PATH)
        return self._sse


def _with_tenant(scope: Scope, developer: UUID) -> Scope:
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from mcp.server.auth.provider import AccessToken

    from sprig.server.mcp.server import TENANT_KEY

    # the SDK compares this principal with the session's; the token itself is not kept
    token = AccessToken(token="-", client_id=str(developer), scopes=[])  # noqa: S106
    return {**scope, TENANT_KEY: developer, "user": AuthenticatedUser(token)}


def _refused(missing: bool) -> Any:
    from sprig.server.app import error_body

    err = AuthenticationError(
        "Missing API key: send 'Authorization: Bearer <key>'"
        if missing
        else "Could not validate API key"
    )
    challenge = {"WWW-Authenticate": 'Bearer realm="sprig"'}
    return error_body(err.status_code, err.message, err.code, err.type, headers=challenge)


class Asgi:
    """An ASGI app for a route (Starlette treats a bound method as a request handler)."""

    def __init__(self, handle: AsgiHandler) -> None:
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handle(scope, receive, send)
