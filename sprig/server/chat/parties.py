"""Who takes part in a turn: the session, its agents and users, and what each of them holds.

One query reads them all (``load_parties``); its EXISTS checks say which parties have tools,
memories or docs, so a turn never looks for any that are not there. Rows are decoded by
column label, never by position.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import BadRequestError, NotFoundError
from sprig.server.ids import new_id
from sprig.server.memory.store import scope_has_memories
from sprig.server.resources.sessions import SESSION_DEFAULTS
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.store.types import uuid_type

_DEV: sa.BindParameter[Any] = sa.bindparam("developer_id")
_SID: sa.BindParameter[Any] = sa.bindparam("session_id")
_AGENT: sa.BindParameter[Any] = sa.bindparam("agent_id")
_SESSION, _AGENT_COL, _USER = "session__", "agent__", "user__"  # column label prefixes


@dataclass
class Holdings:
    """What the session's parties have, read with the turn (EXISTS in its one query)."""

    tool_agents: set[UUID] = field(default_factory=set)
    memory_agents: set[UUID] = field(default_factory=set)  # valid memories of the first user
    doc_owners: set[UUID] = field(default_factory=set)  # the session, agents, users with docs


@dataclass
class Parties:
    """The session row (with ``docs_version``), its agents and users in seat order."""

    session: Row
    agents: list[Row] = field(default_factory=list)
    users: list[Row] = field(default_factory=list)
    holdings: Holdings = field(default_factory=Holdings)


def _labelled(table: sa.Table, prefix: str) -> list[sa.Label[Any]]:
    return [c.label(prefix + c.key) for c in table.c]


def _decoded(row: RowMapping, table: sa.Table, prefix: str) -> Row:
    return {c.key: row[prefix + c.key] for c in table.c}


@functools.cache
def _parties_stmt() -> sa.Select[Any]:
    """One row per participant (one with no participant when there is none): the session,
    its tenant's ``docs_version``, and what each party holds (EXISTS)."""
    s, dv, sp = tables.sessions, tables.developers, tables.session_participants
    a, u = tables.agents, tables.users
    return (
        sa.select(
            *_labelled(s, _SESSION),
            dv.c.docs_version,
            _has_docs(sa.literal("session"), s.c.id).label("session_has_docs"),
            sp.c.kind.label("party_kind"),
            *_holding_flags(a.c.id),
            *_labelled(a, _AGENT_COL),
            *_labelled(u, _USER),
        )
        .join(dv, dv.c.id == s.c.developer_id)
        .outerjoin(sp, sa.and_(sp.c.session_id == s.c.id, sp.c.developer_id == _DEV))
        .outerjoin(a, sa.and_(sp.c.kind == "agent", a.c.id == sp.c.participant_id))
        .outerjoin(u, sa.and_(sp.c.kind == "user", u.c.id == sp.c.participant_id))
        .where(s.c.id == _SID, s.c.developer_id == _DEV)
        .order_by(sp.c.position)
    )


def _holding_flags(agent_id: sa.ColumnElement[Any]) -> list[sa.Label[Any]]:
    sp, t = tables.session_participants, tables.tools
    has_tools = sa.exists().where(t.c.developer_id == _DEV, t.c.agent_id == agent_id)
    has_memories = scope_has_memories(_DEV, agent_id, _first_user())  # what recall would read
    return [
        has_tools.label("has_tools"),
        has_memories.label("has_memories"),
        _has_docs(sp.c.kind, sp.c.participant_id).label("has_docs"),
    ]


def _first_user() -> sa.ScalarSelect[Any]:
    first = tables.session_participants.alias("first_user")
    return (
        sa.select(first.c.participant_id)
        .where(first.c.session_id == _SID, first.c.developer_id == _DEV, first.c.kind == "user")
        .order_by(first.c.position)
        .limit(1)
        .scalar_subquery()
    )


def _has_docs(kind: sa.ColumnElement[Any], owner: sa.ColumnElement[Any]) -> sa.Exists:
    d = tables.docs
    return sa.exists().where(
        d.c.developer_id == _DEV, d.c.owner_kind == kind, d.c.owner_id == owner
    )


async def load_parties(conn: AsyncConnection, developer_id: UUID, session_id: UUID) -> Parties:
    """Everything a turn reads about the session and its participants, in one query."""
    params = {"developer_id": developer_id, "session_id": session_id}
    rows = (await conn.execute(_parties_stmt(), params)).mappings().all()
    if not rows:
        raise NotFoundError(f"Session {session_id} not found")
    session = _decoded(rows[0], tables.sessions, _SESSION)
    parties = Parties({**session, "docs_version": rows[0]["docs_version"]})
    if rows[0]["session_has_docs"]:
        parties.holdings.doc_owners.add(session_id)
    for row in rows:
        _add_party(parties, row)
    parties.session["agents"] = [r["id"] for r in parties.agents]
    parties.session["users"] = [r["id"] for r in parties.users]
    return parties


def _add_party(parties: Parties, row: RowMapping) -> None:
    kind, holdings = row["party_kind"], parties.holdings
    if kind == "agent" and row[_AGENT_COL + "id"] is not None:
        parties.agents.append(_decoded(row, tables.agents, _AGENT_COL))
        _note(holdings, row[_AGENT_COL + "id"], row["has_tools"], row["has_memories"], row)
    elif kind == "user" and row[_USER + "id"] is not None:
        parties.users.append(_decoded(row, tables.users, _USER))
        _note(holdings, row[_USER + "id"], False, False, row)


def _note(holdings: Holdings, owner: UUID, tools: bool, memories: bool, row: RowMapping) -> None:
    for flag, into in (
        (tools, holdings.tool_agents),
        (memories, holdings.memory_agents),
        (row["has_docs"], holdings.doc_owners),
    ):
        if flag:
            into.add(owner)


@dataclass(frozen=True)
class Transient:
    """A turn without a stored session (the OpenAI front door's stateless requests): the
    agent answers with its instructions, tools, docs and memories (those about ``user_id``);
    there is no history and nothing is saved."""

    agent_id: UUID
    user_id: UUID | None = None


# What a transient turn's session says: a new session's defaults, but server-side tools run
# (the agent's own; a client's function tools still go back to it) and nothing is remembered.
TRANSIENT_SESSION: Row = {
    **SESSION_DEFAULTS,
    "auto_run_tools": True,
    "remember": False,
    "summary_until": -1,
    "transient": True,
}

_USER_ID: sa.BindParameter[Any] = sa.bindparam("user_id", type_=uuid_type())


@functools.cache
def _transient_stmt() -> sa.Select[Any]:
    """The agent, the user (when named), the tenant's ``docs_version`` and what they hold."""
    a, u, dv, t = tables.agents, tables.users, tables.developers, tables.tools
    has_tools = sa.exists().where(t.c.developer_id == _DEV, t.c.agent_id == a.c.id)
    return (
        sa.select(
            *_labelled(a, _AGENT_COL),
            *_labelled(u, _USER),
            dv.c.docs_version,
            has_tools.label("has_tools"),
            scope_has_memories(_DEV, a.c.id, _USER_ID).label("has_memories"),
            _has_docs(sa.literal("agent"), a.c.id).label("has_docs"),
            _has_docs(sa.literal("user"), u.c.id).label("user_has_docs"),
        )
        .join(dv, dv.c.id == a.c.developer_id)
        .outerjoin(u, sa.and_(u.c.id == _USER_ID, u.c.developer_id == _DEV))
        .where(a.c.id == _AGENT, a.c.developer_id == _DEV)
    )


async def load_transient_parties(
    conn: AsyncConnection, developer_id: UUID, target: Transient
) -> Parties:
    """A transient turn's parties, in one query; a 404 for an unknown agent or user."""
    params = {"developer_id": developer_id, "agent_id": target.agent_id, "user_id": target.user_id}
    row = (await conn.execute(_transient_stmt(), params)).mappings().first()
    if row is None:
        raise NotFoundError(f"Agent {target.agent_id} not found")
    if target.user_id is not None and row[_USER + "id"] is None:
        raise NotFoundError(f"User {target.user_id} not found")
    agent = _decoded(row, tables.agents, _AGENT_COL)
    users = [_decoded(row, tables.users, _USER)] if target.user_id is not None else []
    session = {**TRANSIENT_SESSION, "id": new_id(), "docs_version": row["docs_version"]}
    session |= {"agents": [agent["id"]], "users": [u["id"] for u in users]}
    parties = Parties(session, [agent], users)
    _note(parties.holdings, agent["id"], row["has_tools"], row["has_memories"], row)
    if users and row["user_has_docs"]:
        parties.holdings.doc_owners.add(users[0]["id"])
    return parties


def answering_agent(agents: list[Row], wanted: UUID | None) -> Row:
    if not agents:
        raise BadRequestError("This session has no agent to answer")
    if wanted is None:
        return agents[0]
    for agent in agents:
        if agent["id"] == wanted:
            return agent
    raise BadRequestError(f"Agent {wanted} is not a participant of this session")


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
    """The agent's stored tools; no query when the parties read found none."""
    if agent_id not in holdings.tool_agents:
        return []
    params = {"developer_id": developer_id, "agent_id": agent_id}
    return [dict(r) for r in (await conn.execute(_tools_stmt(), params)).mappings()]
