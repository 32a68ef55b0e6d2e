"""``client.memories``: an agent's long-term memories about its users."""

from __future__ import annotations

from sprig.client._call import Call, ListCall, compact, path
from sprig.client._methods import (
    AsyncResource,
    SyncResource,
    async_list,
    async_method,
    sync_list,
    sync_method,
)
from sprig.client._validation import Id
from sprig.client.resources._shared import Limit, Offset
from sprig.client.types import Memory, ResourceDeletedResponse


def memory_list(
    agent_id: Id,
    query: str,
    types: str | list[str] | None = None,
    user_id: Id | None = None,
    limit: Limit | None = None,
    offset: Offset | None = None,
) -> ListCall[Memory]:
    """Search an agent's memories (``GET /agents/{id}/memories?query=``), best match first.

    ``types`` narrows the kinds of memory (e.g. ``"episode"``, ``"fact"``) where the server
    supports it; ``user_id`` keeps the memories about one user.
    """
    params = compact(query=query, types=types, user_id=user_id, limit=limit, offset=offset)
    return ListCall(path("/agents/{}/memories", agent_id), Memory.model_validate, params)


def memory_delete(agent_id: Id, memory_id: Id) -> Call[ResourceDeletedResponse]:
    """Forget one memory (``DELETE /agents/{id}/memories/{memory_id}``)."""
    route = path("/agents/{}/memories/{}", agent_id, memory_id)
    return Call("DELETE", route, ResourceDeletedResponse.model_validate)


class Memories(SyncResource):
    _label = "memories"
    list = sync_list(memory_list)
    delete = sync_method(memory_delete)


class AsyncMemories(AsyncResource):
    _label = "memories"
    list = async_list(memory_list)
    delete = async_method(memory_delete)
