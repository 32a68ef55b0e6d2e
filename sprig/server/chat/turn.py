"""Preparing one chat turn: who answers, with which model and settings, seeing what.

Nothing here calls the model except the synchronous ``summarize`` overflow policy.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.chat import templates
from sprig.server.chat.tool_links import link_tool_results
from sprig.server.chat.window import (
    ContextOverflowError,
    Window,
    WindowCache,
    entry_message,
    load_window,
    load_window_cached,
)
from sprig.server.errors import BadRequestError, NotFoundError
from sprig.server.memory.store import scope_has_memories
from sprig.server.models.base import (
    ChatMessage,
    ChatModel,
    CompletionRequest,
    SamplingParams,
    ToolCall,
)
from sprig.server.models.formats import json_format
from sprig.server.models.presets import effective_sampling
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.tools.spec import merge_tools, normalise_tool_choice, tool_specs
from sprig.server.tools.types import ToolDef

DEFAULT_RESERVE = 1024  # completion tokens kept free when max_tokens is not set


class ModelResolver(Protocol):
    def resolve(self, name: str | None) -> ChatModel: ...


@dataclass
class ChatOptions:
    """A chat request after normalisation (see chat/schemas.py)."""

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

    def __post_init__(self) -> None:
        json_format(self.response_format)  # a format that asks for nothing: 400, nothing read


_DEV: sa.BindParameter[Any] = sa.bindparam("developer_id")
_SID: sa.BindParameter[Any] = sa.bindparam("session_id")
_AGENT: sa.BindParameter[Any] = sa.bindparam("agent_id")


@dataclass
class Holdings:
    """What the session's parties have, read with the turn (EXISTS in its one query), so
    that a turn never looks for tools, memories or docs that are not there."""

    tool_agents: set[UUID] = field(default_factory=set)
    memory_agents: set[UUID] = field(default_factory=set)  # valid memories of the first user
    doc_owners: set[UUID] = field(default_factory=set)  # the session, agents, users with docs


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
    holdings: Holdings | None = None  # None: not read, assume anything may be there

    def may_recall_docs(self) -> bool:
        """Whether the session, the answering agent or a user has any doc to search."""
        if self.holdings is None:
            return True
        owners = {self.session["id"], self.agent["id"], *(u["id"] for u in self.users)}
        return not owners.isdisjoint(self.holdings.doc_owners)

    def may_recall_memories(self) -> bool:
        """Whether the answering agent has valid memories about the session's first user."""
        return self.holdings is None or self.agent["id"] in self.holdings.memory_agents

    def auto_run_tools(self, options: ChatOptions) -> bool:
        if options.auto_run_tools is not None:
            return options.auto_run_tools
        return bool(self.session["auto_run_tools"])


@functools.cache
def _turn_stmt() -> sa.Select[Any]:
    """One row per participant (one with no participant when there is none): the session,
    its tenant's ``docs_version``, and what each party holds (EXISTS)."""
    s, dv, sp = tables.sessions, tables.developers, tables.session_participants
    a, u, t = tables.agents, tables.users, tables.tools
    first = sp.alias("first_user")
    first_user = (
        sa.select(first.c.participant_id)
        .where(first.c.session_id == _SID, first.c.developer_id == _DEV, first.c.kind == "user")
        .order_by(first.c.position)
        .limit(1)
        .scalar_subquery()
    )
    has_memories = scope_has_memories(_DEV, a.c.id, first_user)  # what recall would read
    return (
        sa.select(
            *s.c,
            dv.c.docs_version,
            _has_docs(sa.literal("session"), s.c.id),
            sp.c.kind,
            sa.exists().where(t.c.developer_id == _DEV, t.c.agent_id == a.c.id),
            has_memories,
            _has_docs(sp.c.kind, sp.c.participant_id),
            *a.c,
            *u.c,
        )
        .join(dv, dv.c.id == s.c.developer_id)
        .outerjoin(sp, sa.and_(sp.c.session_id == s.c.id, sp.c.developer_id == _DEV))
        .outerjoin(a, sa.and_(sp.c.kind == "agent", a.c.id == sp.c.participant_id))
        .outerjoin(u, sa.and_(sp.c.kind == "user", u.c.id == sp.c.participant_id))
        .where(s.c.id == _SID, s.c.developer_id == _DEV)
        .order_by(sp.c.position)
    )


def _has_docs(kind: sa.ColumnElement[Any], owner: sa.ColumnElement[Any]) -> sa.Exists:
    d = tables.docs
    return sa.exists().where(
        d.c.developer_id == _DEV, d.c.owner_kind == kind, d.c.owner_id == owner
    )


@dataclass
class Parties:
    """The session row (with ``docs_version``), its agents and users in seat order."""

    session: Row
    agents: list[Row] = field(default_factory=list)
    users: list[Row] = field(default_factory=list)
    holdings: Holdings = field(default_factory=Holdings)


async def load_parties(conn: AsyncConnection, developer_id: UUID, session_id: UUID) -> Parties:
    """Everything a turn reads about the session and its participants, in one query."""
    params = {"developer_id": developer_id, "session_id": session_id}
    rows = (await conn.execute(_turn_stmt(), params)).all()
    if not rows:
        raise NotFoundError(f"Session {session_id} not found")
    keys = [*tables.sessions.c.keys(), "docs_version"]
    parties = Parties(dict(zip(keys, rows[0], strict=False)))
    if rows[0][len(keys)]:
        parties.holdings.doc_owners.add(session_id)
    for row in rows:
        _add_party(parties, row[len(keys) + 1 :])
    return parties


def _add_party(parties: Parties, row: Sequence[Any]) -> None:
    kind, tools, memories, docs, *rest = row
    width = len(tables.agents.c)
    if kind == "agent" and rest[0] is not None:
        parties.agents.append(dict(zip(tables.agents.c.keys(), rest[:width], strict=True)))
        _note(parties.holdings, rest[0], tools, memories, docs)
    elif kind == "user" and rest[width] is not None:
        parties.users.append(dict(zip(tables.users.c.keys(), rest[width:], strict=True)))
        _note(parties.holdings, rest[width], False, False, docs)


def _note(holdings: Holdings, owner: UUID, tools: bool, memories: bool, docs: bool) -> None:
    for flag, into in (
        (tools, holdings.tool_agents),
        (memories, holdings.memory_agents),
        (docs, holdings.doc_owners),
    ):
        if flag:
            into.add(owner)


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


def system_source(session: Row, agent: Row) -> str:
    return str(
        session["system_template"]
        or agent["default_system_template"]
        or templates.DEFAULT_SYSTEM_TEMPLATE
    )


async def render_prompts(
    renderer: templates.TemplateRenderer,
    session: Row,
    agent: Row,
    options: ChatOptions,
    variables: dict[str, Any],
) -> tuple[str, list[ChatMessage]]:
    """The system prompt and the request's messages, their templates rendered in one go
    (system and assistant text of the request when ``render_templates``; never user text)."""
    picked = [
        i
        for i, m in enumerate(options.messages)
        if session["render_templates"]
        and m["role"] in ("system", "assistant")
        and isinstance(m.get("content"), str)
    ]
    sources = [system_source(session, agent), *(options.messages[i]["content"] for i in picked)]
    texts = await renderer.render(sources, variables)
    return texts[0].strip(), input_messages(options, dict(zip(picked, texts[1:], strict=True)))


def input_messages(options: ChatOptions, rendered: dict[int, str]) -> list[ChatMessage]:
    out = []
    for i, m in enumerate(options.messages):
        content = rendered.get(i, m.get("content"))
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


@functools.cache
def _tools_stmt() -> sa.Select[Any]:
    t = tables.tools
    return (
        sa.select(t)
        .where(t.c.developer_id == _DEV, t.c.agent_id == _AGENT)
        .order_by(t.c.created_at)
    )


async def agent_tools(
    conn: AsyncConnection, developer_id: UUID, agent_id: UUID, holdings: Holdings
) -> list[Row]:
    if agent_id not in holdings.tool_agents:
        return []
    params = {"developer_id": developer_id, "agent_id": agent_id}
    return [dict(r) for r in (await conn.execute(_tools_stmt(), params)).mappings()]


async def build_turn(
    conn: AsyncConnection,
    developer_id: UUID,
    session_id: UUID,
    options: ChatOptions,
    models: ModelResolver,
    docs: list[Row] | None = None,
    window_cache: WindowCache | None = None,
    memories: list[Row] | None = None,
    *,
    renderer: templates.TemplateRenderer | None = None,
) -> Turn:
    parties = await load_parties(conn, developer_id, session_id)
    session, agents, users = parties.session, parties.agents, parties.users
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
    prompt, inputs = await render_prompts(
        renderer or templates.shared_renderer(), session, agent, options, variables
    )
    system = ChatMessage(role="system", content=prompt)
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
    inputs = link_tool_results(history, inputs)
    defs = merge_tools(
        await agent_tools(conn, developer_id, agent["id"], parties.holdings), options.tools
    )
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
    turn.holdings = parties.holdings
    return turn
