"""`JulepApi` / `AsyncJulepApi`: the flat client of the Julep API-client docs.

``JulepApi(base_url=None, api_key=..., timeout=300, httpx_client=None)``; every method of
the docs (``create_agent``, ``get_history``, ``chat``, ...) with its argument names. Calls
run through the same request builder, retries and checks as `Client`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

import httpx

from sprig.client import flat_ops as ops
from sprig.client._base import AsyncTransport, ClientConfig, SyncTransport
from sprig.client._methods import (
    AsyncResource,
    SyncResource,
    async_chat,
    async_list,
    async_method,
    sync_chat,
    sync_list,
    sync_method,
)


class JulepApi(SyncResource):
    """The flat sync client (`Client` has the same calls grouped by resource)."""

    _label = "JulepApi"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = 300,
        httpx_client: httpx.Client | None = None,
        max_retries: int = 2,
        additional_headers: Mapping[str, str] | None = None,
    ) -> None:
        config = ClientConfig.build(api_key, base_url, timeout, max_retries, additional_headers)
        super().__init__(SyncTransport(config, httpx_client))

    def close(self) -> None:
        """Close the connection pool (only when this client created it)."""
        self._transport.close()

    def __enter__(self) -> JulepApi:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    list_agents = sync_list(ops.list_agents)
    create_agent = sync_method(ops.create_agent)
    get_agent = sync_method(ops.get_agent)
    update_agent = sync_method(ops.update_agent)
    patch_agent = sync_method(ops.patch_agent)
    delete_agent = sync_method(ops.delete_agent)
    list_users = sync_list(ops.list_users)
    create_user = sync_method(ops.create_user)
    get_user = sync_method(ops.get_user)
    update_user = sync_method(ops.update_user)
    patch_user = sync_method(ops.patch_user)
    delete_user = sync_method(ops.delete_user)
    list_sessions = sync_list(ops.list_sessions)
    create_session = sync_method(ops.create_session)
    get_session = sync_method(ops.get_session)
    update_session = sync_method(ops.update_session)
    patch_session = sync_method(ops.patch_session)
    delete_session = sync_method(ops.delete_session)
    get_suggestions = sync_list(ops.get_suggestions)
    get_history = sync_method(ops.get_history)
    delete_session_history = sync_method(ops.delete_session_history)
    get_agent_memories = sync_list(ops.get_agent_memories)
    delete_agent_memory = sync_method(ops.delete_agent_memory)
    get_agent_docs = sync_list(ops.get_agent_docs)
    get_user_docs = sync_list(ops.get_user_docs)
    create_agent_doc = sync_method(ops.create_agent_doc)
    create_user_doc = sync_method(ops.create_user_doc)
    delete_agent_doc = sync_method(ops.delete_agent_doc)
    delete_user_doc = sync_method(ops.delete_user_doc)
    get_agent_tools = sync_list(ops.get_agent_tools)
    create_agent_tool = sync_method(ops.create_agent_tool)
    update_agent_tool = sync_method(ops.update_agent_tool)
    patch_agent_tool = sync_method(ops.patch_agent_tool)
    delete_agent_tool = sync_method(ops.delete_agent_tool)
    get_job_status = sync_method(ops.get_job_status)
    chat = sync_chat(ops.chat)


class AsyncJulepApi(AsyncResource):
    """The flat async client (twin of `JulepApi`)."""

    _label = "AsyncJulepApi"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = 300,
        httpx_client: httpx.AsyncClient | None = None,
        max_retries: int = 2,
        additional_headers: Mapping[str, str] | None = None,
    ) -> None:
        config = ClientConfig.build(api_key, base_url, timeout, max_retries, additional_headers)
        super().__init__(AsyncTransport(config, httpx_client))

    async def close(self) -> None:
        """Close the connection pool (only when this client created it)."""
        await self._transport.close()

    async def __aenter__(self) -> AsyncJulepApi:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    list_agents = async_list(ops.list_agents)
    create_agent = async_method(ops.create_agent)
    get_agent = async_method(ops.get_agent)
    update_agent = async_method(ops.update_agent)
    patch_agent = async_method(ops.patch_agent)
    delete_agent = async_method(ops.delete_agent)
    list_users = async_list(ops.list_users)
    create_user = async_method(ops.create_user)
    get_user = async_method(ops.get_user)
    update_user = async_method(ops.update_user)
    patch_user = async_method(ops.patch_user)
    delete_user = async_method(ops.delete_user)
    list_sessions = async_list(ops.list_sessions)
    create_session = async_method(ops.create_session)
    get_session = async_method(ops.get_session)
    update_session = async_method(ops.update_session)
    patch_session = async_method(ops.patch_session)
    delete_session = async_method(ops.delete_session)
    get_suggestions = async_list(ops.get_suggestions)
    get_history = async_method(ops.get_history)
    delete_session_history = async_method(ops.delete_session_history)
    get_agent_memories = async_list(ops.get_agent_memories)
    delete_agent_memory = async_method(ops.delete_agent_memory)
    get_agent_docs = async_list(ops.get_agent_docs)
    get_user_docs = async_list(ops.get_user_docs)
    create_agent_doc = async_method(ops.create_agent_doc)
    create_user_doc = async_method(ops.create_user_doc)
    delete_agent_doc = async_method(ops.delete_agent_doc)
    delete_user_doc = async_method(ops.delete_user_doc)
    get_agent_tools = async_list(ops.get_agent_tools)
    create_agent_tool = async_method(ops.create_agent_tool)
    update_agent_tool = async_method(ops.update_agent_tool)
    patch_agent_tool = async_method(ops.patch_agent_tool)
    delete_agent_tool = async_method(ops.delete_agent_tool)
    get_job_status = async_method(ops.get_job_status)
    chat = async_chat(ops.chat)
