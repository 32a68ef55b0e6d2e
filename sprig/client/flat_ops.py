"""The operations of the flat `JulepApi`, named and shaped as in the Julep API-client docs.

Each is a thin re-spelling of a resource operation with the documented signature: path ids
first, the rest keyword-only, in the documentation's order, then Sprig's own additions;
``update_*`` replaces (``PUT``), ``patch_*`` changes only what is given (``PATCH``);
creates and updates return the ``ResourceCreated``/``ResourceUpdated`` view of the body
(the full resource is still readable on it, as extra attributes).
"""

from __future__ import annotations

from typing import Any

from sprig.client._call import Call, ListCall
from sprig.client._validation import Id
from sprig.client.params import (
    ChatSettings,
    DocParam,
    FunctionDefParam,
    LogitBias,
    MaxTokens,
    PartialFunctionDefParam,
    Penalty,
    Preset,
    ResponseFormatParam,
    Scale,
    Seed,
    Stop,
    Temperature,
    ToolChoiceParam,
    ToolParam,
    Unit,
)
from sprig.client.resources import agents, docs, jobs, memories, sessions, tools, users
from sprig.client.resources._shared import (
    ContextOverflow,
    Limit,
    Metadata,
    MetadataFilter,
    Offset,
    Order,
    SortBy,
    TokenBudget,
)
from sprig.client.resources.chat import Messages, chat_call, given_settings
from sprig.client.types import (
    Agent,
    ChatResponse,
    Doc,
    History,
    JobStatus,
    Memory,
    ResourceCreatedResponse,
    ResourceDeletedResponse,
    ResourceUpdatedResponse,
    Session,
    Suggestion,
    Tool,
    User,
)

created = ResourceCreatedResponse.model_validate
updated = ResourceUpdatedResponse.model_validate


def list_agents(
    *,
    limit: Limit | None = None,
    offset: Offset | None = None,
    metadata_filter: MetadataFilter | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
) -> ListCall[Agent]:
    """List agents (``GET /agents``)."""
    return agents.agent_list(limit, offset, metadata_filter, sort_by, order)


def create_agent(
    *,
    name: str,
    about: str | None = None,
    instructions: str | list[str] | None = None,
    tools: list[ToolParam] | None = None,
    default_settings: dict[str, Any] | None = None,
    model: str | None = None,
    docs: list[DocParam] | None = None,
    metadata: Metadata | None = None,
) -> Call[ResourceCreatedResponse]:
    """Create an agent (``POST /agents``)."""
    call = agents.agent_create(
        name, about, instructions, tools, None, default_settings, model, docs, metadata
    )
    return call.recast(created)


def get_agent(agent_id: Id) -> Call[Agent]:
    """Get an agent (``GET /agents/{id}``)."""
    return agents.agent_get(agent_id)


def update_agent(
    agent_id: Id,
    *,
    about: str,
    instructions: str | list[str] | None = None,
    name: str,
    model: str | None = None,
    default_settings: dict[str, Any] | None = None,
    metadata: Metadata | None = None,
) -> Call[ResourceUpdatedResponse]:
    """Replace an agent (``PUT /agents/{id}``)."""
    call = agents.agent_update(
        agent_id, about, instructions, name, model, default_settings, metadata, overwrite=True
    )
    return call.recast(updated)


def patch_agent(
    agent_id: Id,
    *,
    about: str | None = None,
    instructions: str | list[str] | None = None,
    name: str | None = None,
    model: str | None = None,
    default_settings: dict[str, Any] | None = None,
    metadata: Metadata | None = None,
) -> Call[ResourceUpdatedResponse]:
    """Change the given fields of an agent (``PATCH /agents/{id}``)."""
    call = agents.agent_update(
        agent_id, about, instructions, name, model, default_settings, metadata
    )
    return call.recast(updated)


def delete_agent(agent_id: Id) -> Call[ResourceDeletedResponse]:
    """Delete an agent (``DELETE /agents/{id}``)."""
    return agents.agent_delete(agent_id)


def list_users(
    *,
    limit: Limit | None = None,
    offset: Offset | None = None,
    metadata_filter: MetadataFilter | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
) -> ListCall[User]:
    """List users (``GET /users``)."""
    return users.user_list(limit, offset, metadata_filter, sort_by, order)


def create_user(
    *,
    name: str | None = None,
    about: str | None = None,
    docs: list[DocParam] | None = None,
    metadata: Metadata | None = None,
) -> Call[ResourceCreatedResponse]:
    """Create a user (``POST /users``)."""
    return users.user_create(name, about, docs, metadata).recast(created)


def get_user(user_id: Id) -> Call[User]:
    """Get a user (``GET /users/{id}``)."""
    return users.user_get(user_id)


def update_user(
    user_id: Id, *, about: str, name: str, metadata: Metadata | None = None
) -> Call[ResourceUpdatedResponse]:
    """Replace a user (``PUT /users/{id}``)."""
    return users.user_update(user_id, about, name, metadata, overwrite=True).recast(updated)


def patch_user(
    user_id: Id,
    *,
    about: str | None = None,
    name: str | None = None,
    metadata: Metadata | None = None,
) -> Call[ResourceUpdatedResponse]:
    """Change the given fields of a user (``PATCH /users/{id}``)."""
    return users.user_update(user_id, about, name, metadata).recast(updated)


def delete_user(user_id: Id) -> Call[ResourceDeletedResponse]:
    """Delete a user (``DELETE /users/{id}``)."""
    return users.user_delete(user_id)


def list_sessions(
    *,
    limit: Limit | None = None,
    offset: Offset | None = None,
    metadata_filter: MetadataFilter | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
) -> ListCall[Session]:
    """List sessions (``GET /sessions``)."""
    return sessions.session_list(limit, offset, metadata_filter, sort_by, order)


def create_session(
    *,
    user_id: Id | None = None,
    agent_id: Id,
    situation: str | None = None,
    metadata: Metadata | None = None,
    render_templates: bool | None = None,
    token_budget: TokenBudget | None = None,
    context_overflow: ContextOverflow | None = None,
) -> Call[ResourceCreatedResponse]:
    """Create a session (``POST /sessions``)."""
    call = sessions.session_create(
        agent_id,
        user_id,
        situation,
        metadata,
        render_templates,
        token_budget=token_budget,
        context_overflow=context_overflow,
    )
    return call.recast(created)


def get_session(session_id: Id) -> Call[Session]:
    """Get a session (``GET /sessions/{id}``)."""
    return sessions.session_get(session_id)


def update_session(
    session_id: Id,
    *,
    situation: str,
    metadata: Metadata | None = None,
    token_budget: TokenBudget | None = None,
    context_overflow: ContextOverflow | None = None,
) -> Call[ResourceUpdatedResponse]:
    """Replace a session's settings (``PUT /sessions/{id}``)."""
    call = sessions.session_update(
        session_id,
        situation,
        metadata,
        overwrite=True,
        token_budget=token_budget,
        context_overflow=context_overflow,
    )
    return call.recast(updated)


def patch_session(
    session_id: Id,
    *,
    situation: str | None = None,
    metadata: Metadata | None = None,
    token_budget: TokenBudget | None = None,
    context_overflow: ContextOverflow | None = None,
) -> Call[ResourceUpdatedResponse]:
    """Change the given settings of a session (``PATCH /sessions/{id}``)."""
    call = sessions.session_update(
        session_id,
        situation,
        metadata,
        token_budget=token_budget,
        context_overflow=context_overflow,
    )
    return call.recast(updated)


def delete_session(session_id: Id) -> Call[ResourceDeletedResponse]:
    """Delete a session (``DELETE /sessions/{id}``)."""
    return sessions.session_delete(session_id)


def get_suggestions(
    session_id: Id, *, limit: Limit | None = None, offset: Offset | None = None
) -> ListCall[Suggestion]:
    """A session's suggestions (``GET /sessions/{id}/suggestions``)."""
    return sessions.session_suggestions(session_id, limit, offset)


def get_history(
    session_id: Id, *, limit: Limit | None = None, offset: Offset | None = None
) -> Call[History]:
    """A session's history (``GET /sessions/{id}/history``)."""
    return sessions.session_history(session_id, limit, offset)


def delete_session_history(session_id: Id) -> Call[ResourceDeletedResponse]:
    """Clear a session's history (``DELETE /sessions/{id}/history``)."""
    return sessions.session_clear(session_id)


def get_agent_memories(
    agent_id: Id,
    *,
    query: str,
    user_id: Id | None = None,
    limit: Limit | None = None,
    offset: Offset | None = None,
    types: str | list[str] | None = None,
) -> ListCall[Memory]:
    """Search an agent's memories (``GET /agents/{id}/memories``)."""
    return memories.memory_list(agent_id, query, types, user_id, limit, offset)


def delete_agent_memory(agent_id: Id, memory_id: Id) -> Call[ResourceDeletedResponse]:
    """Forget one memory (``DELETE /agents/{id}/memories/{memory_id}``)."""
    return memories.memory_delete(agent_id, memory_id)


def get_agent_docs(
    agent_id: Id,
    *,
    limit: Limit | None = None,
    offset: Offset | None = None,
    metadata_filter: MetadataFilter | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
) -> ListCall[Doc]:
    """An agent's documents (``GET /agents/{id}/docs``)."""
    return docs.doc_list(agent_id, None, limit, offset, metadata_filter, sort_by, order)


def get_user_docs(
    user_id: Id,
    *,
    limit: Limit | None = None,
    offset: Offset | None = None,
    metadata_filter: MetadataFilter | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
) -> ListCall[Doc]:
    """A user's documents (``GET /users/{id}/docs``)."""
    return docs.doc_list(None, user_id, limit, offset, metadata_filter, sort_by, order)


def create_agent_doc(agent_id: Id, *, request: DocParam) -> Call[ResourceCreatedResponse]:
    """Add a document to an agent (``POST /agents/{id}/docs``).

    ``request`` is the document: ``{"title": ..., "content": ..., "metadata": ...}``.
    """
    return docs.doc_create(agent_id, doc=request).recast(created)


def create_user_doc(user_id: Id, *, request: DocParam) -> Call[ResourceCreatedResponse]:
    """Add a document to a user (``POST /users/{id}/docs``); ``request`` is the document."""
    return docs.doc_create(None, user_id, doc=request).recast(created)


def delete_agent_doc(agent_id: Id, doc_id: Id) -> Call[ResourceDeletedResponse]:
    """Delete an agent's document (``DELETE /agents/{id}/docs/{doc_id}``)."""
    return docs.doc_delete(doc_id, agent_id)


def delete_user_doc(user_id: Id, doc_id: Id) -> Call[ResourceDeletedResponse]:
    """Delete a user's document (``DELETE /users/{id}/docs/{doc_id}``)."""
    return docs.doc_delete(doc_id, None, user_id)


def get_agent_tools(
    agent_id: Id, *, limit: Limit | None = None, offset: Offset | None = None
) -> ListCall[Tool]:
    """An agent's tools (``GET /agents/{id}/tools``)."""
    return tools.tool_get(agent_id, limit, offset)


def create_agent_tool(agent_id: Id, *, request: ToolParam) -> Call[ResourceCreatedResponse]:
    """Add a tool to an agent (``POST /agents/{id}/tools``).

    ``request`` is the tool: ``{"type": "function", "function": {"name": ..., ...}}``.
    """
    return tools.tool_create(agent_id, request).recast(created)


def update_agent_tool(
    agent_id: Id, tool_id: Id, *, function: FunctionDefParam
) -> Call[ResourceUpdatedResponse]:
    """Replace a tool's function (``PUT /agents/{id}/tools/{tool_id}``)."""
    return tools.tool_update(agent_id, tool_id, function, overwrite=True).recast(updated)


def patch_agent_tool(
    agent_id: Id, tool_id: Id, *, function: PartialFunctionDefParam
) -> Call[ResourceUpdatedResponse]:
    """Change a tool's function (``PATCH /agents/{id}/tools/{tool_id}``)."""
    return tools.tool_update(agent_id, tool_id, function).recast(updated)


def delete_agent_tool(agent_id: Id, tool_id: Id) -> Call[ResourceDeletedResponse]:
    """Remove a tool (``DELETE /agents/{id}/tools/{tool_id}``)."""
    return tools.tool_delete(agent_id, tool_id)


def get_job_status(job_id: Id) -> Call[JobStatus]:
    """A background job's state (``GET /jobs/{id}``)."""
    return jobs.job_get(job_id)


def chat(
    session_id: Id,
    *,
    messages: Messages,
    tools: list[ToolParam] | None = None,
    tool_choice: ToolChoiceParam | None = None,
    frequency_penalty: Penalty | None = None,
    length_penalty: Scale | None = None,
    logit_bias: LogitBias | None = None,
    max_tokens: MaxTokens | None = None,
    presence_penalty: Penalty | None = None,
    repetition_penalty: Scale | None = None,
    response_format: ResponseFormatParam | None = None,
    seed: Seed | None = None,
    stop: Stop | None = None,
    stream: bool | None = None,
    temperature: Temperature | None = None,
    top_p: Unit | None = None,
    min_p: Unit | None = None,
    preset: Preset | None = None,
    recall: bool | None = None,
    record: bool | None = None,
    remember: bool | None = None,
    save: bool | None = None,
    recall_tools: bool | None = None,
    auto_run_tools: bool | None = None,
    model: str | None = None,
    agent: Id | None = None,
    metadata: Metadata | None = None,
    settings: ChatSettings | None = None,
) -> Call[ChatResponse]:
    """One chat turn (``POST /sessions/{id}/chat``); ``None`` leaves a setting unsent.

    With ``stream=True``, a stream of chunks: iterate it, or use it in a ``with`` block
    (it always closes the connection). ``settings={...}`` may hold the same settings nested.
    """
    given = given_settings(locals())
    return chat_call(session_id, messages, stream, settings, given)
