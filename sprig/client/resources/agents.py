"""``client.agents``: create, get, list, update, delete."""

from __future__ import annotations

from typing import Any

from sprig.client._call import Call, ListCall, compact, list_params, path
from sprig.client._methods import (
    AsyncResource,
    SyncResource,
    async_list,
    async_method,
    sync_list,
    sync_method,
)
from sprig.client._validation import Id
from sprig.client.errors import ArgumentValueError
from sprig.client.params import DocParam, FunctionDefParam, ToolParam
from sprig.client.resources._shared import Limit, Metadata, MetadataFilter, Offset, Order, SortBy
from sprig.client.types import Agent, ResourceDeletedResponse


def agent_create(
    name: str,
    about: str | None = None,
    instructions: str | list[str] | None = None,
    tools: list[ToolParam] | None = None,
    functions: list[FunctionDefParam] | None = None,
    default_settings: dict[str, Any] | None = None,
    model: str | None = None,
    docs: list[DocParam] | None = None,
    metadata: Metadata | None = None,
    canonical_name: str | None = None,
    default_system_template: str | None = None,
) -> Call[Agent]:
    """Create an agent (``POST /agents``) with its inline tools and documents.

    ``functions`` is the legacy spelling of function tools: each becomes
    ``{"type": "function", "function": ...}``. Without ``model`` the server's default is used.
    """
    as_tools = [{"type": "function", "function": f} for f in functions or []]
    all_tools = [*(tools or []), *as_tools]
    body = compact(
        name=name,
        about=about,
        instructions=instructions,
        tools=all_tools or None,
        default_settings=default_settings,
        model=model,
        docs=docs,
        metadata=metadata,
        canonical_name=canonical_name,
        default_system_template=default_system_template,
    )
    return Call("POST", "/agents", Agent.model_validate, json=body)


def agent_get(id: Id) -> Call[Agent]:
    """Get an agent by id (``GET /agents/{id}``)."""
    return Call("GET", path("/agents/{}", id), Agent.model_validate)


def agent_list(
    limit: Limit | None = None,
    offset: Offset | None = None,
    metadata_filter: MetadataFilter | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
) -> ListCall[Agent]:
    """List agents (``GET /agents``), newest first unless ``order="asc"``."""
    params = list_params(limit, offset, metadata_filter, sort_by, order)
    return ListCall("/agents", Agent.model_validate, params)


def agent_update(
    agent_id: Id,
    about: str | None = None,
    instructions: str | list[str] | None = None,
    name: str | None = None,
    model: str | None = None,
    default_settings: dict[str, Any] | None = None,
    metadata: Metadata | None = None,
    overwrite: bool = False,
    canonical_name: str | None = None,
    default_system_template: str | None = None,
) -> Call[Agent]:
    """Update an agent: only the given fields (``PATCH``), or replace it (``overwrite=True``,
    ``PUT``; ``name`` is then required and unset fields take their defaults)."""
    if overwrite and not name:
        raise ArgumentValueError("overwrite=True replaces the agent: give name")
    body = compact(
        about=about,
        instructions=instructions,
        name=name,
        model=model,
        default_settings=default_settings,
        metadata=metadata,
        canonical_name=canonical_name,
        default_system_template=default_system_template,
    )
    method = "PUT" if overwrite else "PATCH"
    return Call(method, path("/agents/{}", agent_id), Agent.model_validate, json=body)


def agent_delete(agent_id: Id) -> Call[ResourceDeletedResponse]:
    """Delete an agent with its tools, documents and memories (``DELETE /agents/{id}``)."""
    return Call("DELETE", path("/agents/{}", agent_id), ResourceDeletedResponse.model_validate)


class Agents(SyncResource):
    _label = "agents"
    create = sync_method(agent_create)
    get = sync_method(agent_get)
    list = sync_list(agent_list)
    update = sync_method(agent_update)
    delete = sync_method(agent_delete)


class AsyncAgents(AsyncResource):
    _label = "agents"
    create = async_method(agent_create)
    get = async_method(agent_get)
    list = async_list(agent_list)
    update = async_method(agent_update)
    delete = async_method(agent_delete)
