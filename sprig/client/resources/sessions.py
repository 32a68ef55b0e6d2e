"""``client.sessions``: conversations between agents and users, their history and chat."""

from __future__ import annotations

from datetime import datetime

from sprig.client._base import AsyncTransport, SyncTransport
from sprig.client._call import Call, ListCall, compact, list_params, path
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
from sprig.client._validation import Id
from sprig.client.params import RecallOptionsParam
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
from sprig.client.resources.chat import session_chat
from sprig.client.resources.session_docs import AsyncSessionDocs, SessionDocs
from sprig.client.types import (
    History,
    ResourceDeletedResponse,
    Session,
    Suggestion,
    TurnTrace,
)


def session_create(
    agent_id: Id,
    user_id: Id | None = None,
    situation: str | None = None,
    metadata: Metadata | None = None,
    render_templates: bool | None = None,
    token_budget: TokenBudget | None = None,
    context_overflow: ContextOverflow | None = None,
    recall_options: RecallOptionsParam | None = None,
    system_template: str | None = None,
    auto_run_tools: bool | None = None,
    forward_tool_calls: bool | None = None,
) -> Call[Session]:
    """Start a session of an agent, with or without a user (``POST /sessions``).

    ``context_overflow`` says what chat does when history outgrows ``token_budget``:
    ``truncate`` (drop the oldest), ``summarize`` or ``adaptive``.
    """
    body = compact(
        agent_id=agent_id,
        user_id=user_id,
        situation=situation,
        metadata=metadata,
        render_templates=render_templates,
        context_overflow=context_overflow,
        token_budget=token_budget,
        recall_options=recall_options,
        system_template=system_template,
        auto_run_tools=auto_run_tools,
        forward_tool_calls=forward_tool_calls,
    )
    return Call("POST", "/sessions", Session.model_validate, json=body)


def session_get(id: Id) -> Call[Session]:
    """Get a session by id (``GET /sessions/{id}``)."""
    return Call("GET", path("/sessions/{}", id), Session.model_validate)


def session_list(
    limit: Limit | None = None,
    offset: Offset | None = None,
    metadata_filter: MetadataFilter | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
    agent_id: Id | None = None,
    user_id: Id | None = None,
) -> ListCall[Session]:
    """List sessions (``GET /sessions``), optionally those of one agent and/or one user."""
    params = list_params(
        limit, offset, metadata_filter, sort_by, order, agent_id=agent_id, user_id=user_id
    )
    return ListCall("/sessions", Session.model_validate, params)


def session_update(
    session_id: Id,
    situation: str | None = None,
    metadata: Metadata | None = None,
    overwrite: bool = False,
    render_templates: bool | None = None,
    token_budget: TokenBudget | None = None,
    context_overflow: ContextOverflow | None = None,
    recall_options: RecallOptionsParam | None = None,
    system_template: str | None = None,
    auto_run_tools: bool | None = None,
    forward_tool_calls: bool | None = None,
) -> Call[Session]:
    """Update a session: the given fields (``PATCH``), or replace them (``overwrite=True``)."""
    body = compact(
        situation=situation,
        metadata=metadata,
        render_templates=render_templates,
        token_budget=token_budget,
        context_overflow=context_overflow,
        recall_options=recall_options,
        system_template=system_template,
        auto_run_tools=auto_run_tools,
        forward_tool_calls=forward_tool_calls,
    )
    method = "PUT" if overwrite else "PATCH"
    return Call(method, path("/sessions/{}", session_id), Session.model_validate, json=body)


def session_delete(session_id: Id) -> Call[ResourceDeletedResponse]:
    """Delete a session and its history (``DELETE /sessions/{id}``)."""
    route = path("/sessions/{}", session_id)
    return Call("DELETE", route, ResourceDeletedResponse.model_validate)


def session_history(
    session_id: Id,
    limit: Limit | None = None,
    offset: Offset | None = None,
    before: datetime | None = None,
) -> Call[History]:
    """A session's history (``GET /sessions/{id}/history``), oldest first.

    ``entries`` are the stored entries (with token counts and sources); ``items`` the same
    messages in the legacy shape. ``limit``/``offset``/``before`` select a window.
    """
    params = compact(limit=limit, offset=offset, before=before)
    return Call("GET", path("/sessions/{}/history", session_id), History.model_validate, params)


def session_clear(session_id: Id) -> Call[ResourceDeletedResponse]:
    """Delete a session's history, keeping the session (``DELETE /sessions/{id}/history``)."""
    route = path("/sessions/{}/history", session_id)
    return Call("DELETE", route, ResourceDeletedResponse.model_validate)


def session_suggestions(
    session_id: Id, limit: Limit | None = None, offset: Offset | None = None
) -> ListCall[Suggestion]:
    """Suggestions made during a session (``GET /sessions/{id}/suggestions``)."""
    params = list_params(limit, offset)
    return ListCall(path("/sessions/{}/suggestions", session_id), Suggestion.model_validate, params)


def session_trace(session_id: Id, entry_id: Id) -> Call[TurnTrace]:
    """A turn's stored trace, by its reply's entry id (the chat response's ``id``):
    phases and timings, model and settings, tokens, recall, tool calls, the prompt
    (``GET /sessions/{id}/turns/{entry_id}/trace``)."""
    route = path("/sessions/{}/turns/{}/trace", session_id, entry_id)
    return Call("GET", route, TurnTrace.model_validate)


def session_traces(
    session_id: Id, limit: Limit | None = None, offset: Offset | None = None
) -> ListCall[TurnTrace]:
    """A session's stored turn traces, newest first, without their prompts
    (``GET /sessions/{id}/traces``)."""
    params = list_params(limit, offset)
    return ListCall(path("/sessions/{}/traces", session_id), TurnTrace.model_validate, params)


class Sessions(SyncResource):
    _label = "sessions"
    create = sync_method(session_create)
    get = sync_method(session_get)
    list = sync_list(session_list)
    update = sync_method(session_update)
    delete = sync_method(session_delete)
    chat = sync_chat(session_chat)
    history = sync_method(session_history)
    clear = sync_method(session_clear)
    delete_history = sync_method(session_clear)
    suggestions = sync_list(session_suggestions)
    trace = sync_method(session_trace)
    traces = sync_list(session_traces)

    def __init__(self, transport: SyncTransport) -> None:
        super().__init__(transport)
        self.docs = SessionDocs(transport)


class AsyncSessions(AsyncResource):
    _label = "sessions"
    create = async_method(session_create)
    get = async_method(session_get)
    list = async_list(session_list)
    update = async_method(session_update)
    delete = async_method(session_delete)
    chat = async_chat(session_chat)
    history = async_method(session_history)
    clear = async_method(session_clear)
    delete_history = async_method(session_clear)
    suggestions = async_list(session_suggestions)
    trace = async_method(session_trace)
    traces = async_list(session_traces)

    def __init__(self, transport: AsyncTransport) -> None:
        super().__init__(transport)
        self.docs = AsyncSessionDocs(transport)
