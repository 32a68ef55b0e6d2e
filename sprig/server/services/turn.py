"""Preparing one chat turn: who answers, with which model and settings, seeing what.

Nothing here calls the model except the synchronous ``summarize`` overflow policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import BadRequestError, NotFoundError
from sprig.server.models.base import (
    ChatMessage,
    ChatModel,
    CompletionRequest,
    SamplingParams,
    ToolCall,
)
from sprig.server.models.presets import effective_sampling
from sprig.server.services import templates
from sprig.server.services.context import (
    ContextOverflowError,
    Window,
    WindowCache,
    entry_message,
    load_window,
    load_window_cached,
)
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.tools.spec import merge_tools, normalise_tool_choice, tool_specs
from sprig.server.tools.types import ToolDef

DEFAULT_RESERVE = 1024  # completion tokens kept free when max_tokens is not set


class ModelResolver(Protocol):
    def resolve(self, name: str | None) -> ChatModel: ...


@dataclass
class ChatOptions:
    """A chat request after normalisation (see api/chat_schemas.py)."""

    messages: list[dict[str, Any]]
    sampling: dict[str, Any] = field(default_factory=dict)
    response_format: dict[str, Any] | None = None
    agent_id: UUID | None = None
    model: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    save: bool = True
    remember: bool | None = None
    recall: bool | None = None
    recall_tools: bool = True
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: str | dict[str, Any] | None = None
    auto_run_tools: bool | None = None


@dataclass
class Turn:
    session: Row
    agent: Row
    agents: list[Row]
    users: list[Row]
    model: ChatModel
    request: CompletionRequest
    inputs: list[ChatMessage]  # the request's messages, rendered, as sent
    window: Window
    docs: list[Row] = field(default_factory=list)
    summary: str | None = None
    jobs: list[Row] = field(default_factory=list)
    tools: list[ToolDef] = field(default_factory=list)
    steps: list[ChatMessage] = field(default_factory=list)  # tool calls run this turn
    docs_version: int | None = None  # the tenant's, read with the turn (recall caches by it)
    stop_reason: str | None = None

    def auto_run_tools(self, options: ChatOptions) -> bool:
        if options.auto_run_tools is not None:
            return options.auto_run_tools
        return bool(self.session["auto_run_tools"])


async def load_participants(
    conn: AsyncConnection, developer_id: UUID, session_id: UUID
) -> tuple[list[Row], list[Row]]:
    """The session's agents and users in seat order, in one query."""
    sp, a, u = tables.session_participants, tables.agents, tables.users
    stmt = (
        sa.select(sp.c.kind, *a.c, *u.c)
        .select_from(sp)
        .outerjoin(a, sa.and_(sp.c.kind == "agent", a.c.id == sp.c.participant_id))
        .outerjoin(u, sa.and_(sp.c.kind == "user", u.c.id == sp.c.participant_id))
        .where(sp.c.session_id == session_id, sp.c.developer_id == developer_id)
        .order_by(sp.c.position)
    )
    agents: list[Row] = []
    users: list[Row] = []
    width = len(a.c)
    for row in await conn.execute(stmt):
        if row[0] == "agent" and row[1] is not None:
            agents.append(dict(zip(a.c.keys(), row[1 : 1 + width], strict=True)))
        elif row[0] == "user" and row[1 + width] is not None:
            users.append(dict(zip(u.c.keys(), row[1 + width :], strict=True)))
    return agents, users


def answering_agent(agents: list[Row], wanted: UUID | None) -> Row:
    if not agents:
        raise BadRequestError("This session has no agent to answer")
    if wanted is None:
        return agents[0]
    for agent in agents:
        if agent["id"] == wanted:
            return agent
    raise BadRequestError(f"Agent {wanted} is not a participant of this session")


def template_variables(
    turn_session: Row,
    agent: Row,
    agents: list[Row],
    users: list[Row],
    metadata: dict[str, Any],
    docs: list[Row],
    memories: list[Row] | None = None,
) -> dict[str, Any]:
    def person(row: Row) -> dict[str, Any]:
        keys = ("id", "name", "about", "metadata", "instructions", "model")
        return {k: (str(row[k]) if k == "id" else row[k]) for k in keys if k in row}

    instructions = agent["instructions"]
    agent_vars = {
        **person(agent),
        "instructions": [instructions] if isinstance(instructions, str) else instructions,
    }
    return {
        "agent": agent_vars,
        "agents": [person(a) for a in agents],
        "user": person(users[0]) if users else None,
        "users": [person(u) for u in users],
        "session": {
            "id": str(turn_session["id"]),
            "situation": turn_session["situation"],
            "metadata": turn_session["metadata"],
        },
        "situation": turn_session["situation"],
        "metadata": {**(turn_session["metadata"] or {}), **metadata},
        "docs": [
            {"title": d.get("title"), "content": d.get("content"), "metadata": d.get("metadata")}
            for d in docs
        ],
        "memories": [
            {"content": m["content"], "type": m.get("type"), "timestamp": m.get("timestamp")}
            for m in memories or []
        ],
    }


def system_prompt(session: Row, agent: Row, variables: dict[str, Any]) -> str:
    source = (
        session["system_template"]
        or agent["default_system_template"]
        or templates.DEFAULT_SYSTEM_TEMPLATE
    )
    return templates.render(source, variables).strip()


def input_messages(
    options: ChatOptions, variables: dict[str, Any], render: bool
) -> list[ChatMessage]:
    out = []
    for m in options.messages:
        content = m.get("content")
        if render and m["role"] in ("system", "assistant") and isinstance(content, str):
            content = templates.render(content, variables)
        out.append(
            ChatMessage(
                role=m["role"],
                content=_model_content(content),
                name=m.get("name"),
                tool_call_id=m.get("tool_call_id"),
                tool_calls=[_tool_call(c) for c in m.get("tool_calls") or []],
            )
        )
    return out


def _model_content(content: Any) -> str | list[dict[str, Any]]:
    if content is None:
        return ""
    if isinstance(content, list) and all(isinstance(p, str) for p in content):
        return "\n".join(content)
    return content  # type: ignore[no-any-return]


def _tool_call(raw: dict[str, Any]) -> ToolCall:
    fn = raw.get("function") or {}
    args = fn.get("arguments", raw.get("arguments", "{}"))
    import json

    return ToolCall(
        id=str(raw.get("id") or ""),
        name=str(fn.get("name") or raw.get("name") or ""),
        arguments=args if isinstance(args, str) else json.dumps(args),
    )


def budget_for(session: Row, model: ChatModel, sampling: SamplingParams) -> int:
    if session["token_budget"]:
        return int(session["token_budget"])
    reserve = sampling.max_tokens or min(DEFAULT_RESERVE, model.context_window // 4)
    return max(model.context_window - reserve, 1)


async def agent_tools(conn: AsyncConnection, developer_id: UUID, agent_id: UUID) -> list[Row]:
    t = tables.tools
    stmt = (
        sa.select(t)
        .where(t.c.developer_id == developer_id, t.c.agent_id == agent_id)
        .order_by(t.c.created_at)
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def build_turn(
    conn: AsyncConnection,
    developer_id: UUID,
    session_id: UUID,
    options: ChatOptions,
    models: ModelResolver,
    docs: list[Row] | None = None,
    window_cache: WindowCache | None = None,
    memories: list[Row] | None = None,
) -> Turn:
    session = await _session_row(conn, developer_id, session_id)
    agents, users = await load_participants(conn, developer_id, session_id)
    session["agents"] = [r["id"] for r in agents]
    session["users"] = [r["id"] for r in users]
    agent = answering_agent(agents, options.agent_id)
    model = models.resolve(options.model or agent["model"])
    sampling = effective_sampling(
        model.default_sampling, agent_settings=agent["default_settings"], request=options.sampling
    )
    variables = template_variables(
        session, agent, agents, users, options.metadata, docs or [], memories
    )
    system = ChatMessage(role="system", content=system_prompt(session, agent, variables))
    inputs = input_messages(options, variables, session["render_templates"])
    head = [system] + (
        [
            ChatMessage(
                role="system", content=f"Summary of the earlier conversation: {session['summary']}"
            )
        ]
        if session["summary"]
        else []
    )
    fixed = model.count_message_tokens(head + inputs)
    budget = budget_for(session, model, sampling)
    if fixed > budget:
        raise ContextOverflowError(
            f"The system prompt and new messages need {fixed} tokens; the token budget is {budget}"
        )
    if window_cache is not None:
        window = await load_window_cached(
            conn, model, session, budget - fixed, window_cache, with_tools=options.recall_tools
        )
    else:
        window = await load_window(
            conn, model, session, budget - fixed, with_tools=options.recall_tools
        )
    if window.overflowed and session["context_overflow"] is None:
        raise ContextOverflowError(
            f"The session history needs more than its token budget ({budget} tokens). "
            "Set the session's context_overflow to 'truncate', 'summarize' or 'adaptive'."
        )
    history = [entry_message(r) for r in window.entries]
    defs = merge_tools(await agent_tools(conn, developer_id, agent["id"]), options.tools)
    specs = tool_specs(defs) if model.capabilities.tools else []
    choice = normalise_tool_choice(options.tool_choice, [d.name for d in defs]) if specs else None
    request = CompletionRequest(
        messages=head + history + inputs,
        sampling=sampling,
        response_format=options.response_format,
        tools=specs,
        tool_choice=choice,
    )
    turn = Turn(
        session,
        agent,
        agents,
        users,
        model,
        request,
        inputs,
        window,
        docs or [],
        session["summary"],
    )
    turn.tools = defs
    turn.docs_version = session["docs_version"]
    return turn


async def _session_row(conn: AsyncConnection, developer_id: UUID, session_id: UUID) -> Row:
    """The session, with its tenant's ``docs_version`` (one query)."""
    s, d = tables.sessions, tables.developers
    stmt = (
        sa.select(s, d.c.docs_version)
        .join(d, d.c.id == s.c.developer_id)
        .where(s.c.id == session_id, s.c.developer_id == developer_id)
    )
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise NotFoundError(f"Session {session_id} not found")
    return dict(row)
