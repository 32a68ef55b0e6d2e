"""``client.tools``: an agent's tools (functions the model may call, and server-run tools)."""

from __future__ import annotations

from typing import Any

from sprig.client._call import Call, ListCall, compact, jsonable, list_params, path
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
from sprig.client.params import FunctionDefParam, PartialFunctionDefParam, ToolParam
from sprig.client.resources._shared import Limit, Offset, Order, SortBy
from sprig.client.types import ResourceDeletedResponse, Tool


def tool_create(
    agent_id: Id,
    tool: ToolParam | None = None,
    *,
    name: str | None = None,
    type: str | None = None,
    description: str | None = None,
    function: FunctionDefParam | None = None,
    integration: dict[str, Any] | None = None,
    system: dict[str, Any] | None = None,
    api_call: dict[str, Any] | None = None,
) -> Call[Tool]:
    """Add a tool to an agent (``POST /agents/{id}/tools``).

    Give the whole ``tool`` dict (``{"type": "function", "function": {...}}``, as in the
    Julep docs) or its fields as keywords; keywords win over the dict's keys.
    """
    fields = compact(
        name=name,
        type=type,
        description=description,
        function=function,
        integration=integration,
        system=system,
        api_call=api_call,
    )
    body = {**(jsonable(tool) if tool else {}), **fields}
    if "type" not in body and "function" in body:
        body["type"] = "function"
    if "type" not in body:
        raise ArgumentValueError("give a tool type (or a function)")
    return Call("POST", path("/agents/{}/tools", agent_id), Tool.model_validate, json=body)


def tool_get(
    agent_id: Id, limit: Limit | None = None, offset: Offset | None = None
) -> ListCall[Tool]:
    """An agent's tools (``GET /agents/{id}/tools``); the Julep docs call this ``get``."""
    params = list_params(limit, offset)
    return ListCall(path("/agents/{}/tools", agent_id), Tool.model_validate, params)


def tool_list(
    agent_id: Id,
    limit: Limit | None = None,
    offset: Offset | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
) -> ListCall[Tool]:
    """An agent's tools (``GET /agents/{id}/tools``), with sorting."""
    params = list_params(limit, offset, None, sort_by, order)
    return ListCall(path("/agents/{}/tools", agent_id), Tool.model_validate, params)


def tool_update(
    agent_id: Id,
    tool_id: Id,
    function: FunctionDefParam | PartialFunctionDefParam | None = None,
    overwrite: bool = False,
    *,
    name: str | None = None,
    type: str | None = None,
    description: str | None = None,
    integration: dict[str, Any] | None = None,
    system: dict[str, Any] | None = None,
    api_call: dict[str, Any] | None = None,
) -> Call[Tool]:
    """Update a tool: the given fields (``PATCH``; ``function`` may then be partial), or
    replace it (``overwrite=True``)."""
    body = compact(
        function=function,
        name=name,
        type=type,
        description=description,
        integration=integration,
        system=system,
        api_call=api_call,
    )
    route = path("/agents/{}/tools/{}", agent_id, tool_id)
    return Call("PUT" if overwrite else "PATCH", route, Tool.model_validate, json=body)


def tool_delete(agent_id: Id, tool_id: Id) -> Call[ResourceDeletedResponse]:
    """Remove a tool from an agent (``DELETE /agents/{id}/tools/{tool_id}``)."""
    route = path("/agents/{}/tools/{}", agent_id, tool_id)
    return Call("DELETE", route, ResourceDeletedResponse.model_validate)


class Tools(SyncResource):
    _label = "tools"
    create = sync_method(tool_create)
    get = sync_list(tool_get)
    list = sync_list(tool_list)
    update = sync_method(tool_update)
    delete = sync_method(tool_delete)


class AsyncTools(AsyncResource):
    _label = "tools"
    create = async_method(tool_create)
    get = async_list(tool_get)
    list = async_list(tool_list)
    update = async_method(tool_update)
    delete = async_method(tool_delete)
