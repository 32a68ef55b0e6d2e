"""`Client` / `AsyncClient`: the resource managers of the Julep SDK docs.

``client.agents``, ``client.users``, ``client.sessions`` (with ``client.sessions.docs``),
``client.docs``, ``client.memories``, ``client.tools`` and ``client.jobs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

import httpx

from sprig.client._base import AsyncTransport, ClientConfig, SyncTransport
from sprig.client.resources.agents import Agents, AsyncAgents
from sprig.client.resources.docs import AsyncDocs, Docs
from sprig.client.resources.jobs import AsyncJobs, Jobs
from sprig.client.resources.memories import AsyncMemories, Memories
from sprig.client.resources.sessions import AsyncSessions, Sessions
from sprig.client.resources.tools import AsyncTools, Tools
from sprig.client.resources.users import AsyncUsers, Users


class Client:
    """Sync client. ``Client(api_key=..., base_url=...)``; both default to the environment
    (``SPRIG_API_KEY``, ``SPRIG_BASE_URL``, else ``http://127.0.0.1:8080``)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = 300,
        max_retries: int = 2,
        httpx_client: httpx.Client | None = None,
        additional_headers: Mapping[str, str] | None = None,
    ) -> None:
        config = ClientConfig.build(api_key, base_url, timeout, max_retries, additional_headers)
        self._transport = transport = SyncTransport(config, httpx_client)
        self.agents = Agents(transport)
        self.users = Users(transport)
        self.sessions = Sessions(transport)
        self.docs = Docs(transport)
        self.memories = Memories(transport)
        self.tools = Tools(transport)
        self.jobs = Jobs(transport)

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    def close(self) -> None:
        """Close the connection pool (only when this client created it)."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient:
    """Async client (twin of `Client`): every method is awaited."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = 300,
        max_retries: int = 2,
        httpx_client: httpx.AsyncClient | None = None,
        additional_headers: Mapping[str, str] | None = None,
    ) -> None:
        config = ClientConfig.build(api_key, base_url, timeout, max_retries, additional_headers)
        self._transport = transport = AsyncTransport(config, httpx_client)
        self.agents = AsyncAgents(transport)
        self.users = AsyncUsers(transport)
        self.sessions = AsyncSessions(transport)
        self.docs = AsyncDocs(transport)
        self.memories = AsyncMemories(transport)
        self.tools = AsyncTools(transport)
        self.jobs = AsyncJobs(transport)

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    async def close(self) -> None:
        """Close the connection pool (only when this client created it)."""
        await self._transport.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
