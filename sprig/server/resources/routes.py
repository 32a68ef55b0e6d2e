"""Agents, users and sessions: the shared CRUD routes plus each one's list and extras."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from sprig.server.api import responses as out
from sprig.server.api import views
from sprig.server.api.deps import Developer, Legacy, ListQueryDep, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.api.schemas import (
    AgentIn,
    AgentPatch,
    SessionIn,
    UserIn,
    default_recall_options,
)
from sprig.server.resources.crud_routes import CrudSpec, register_crud

router = APIRouter()


@router.get("/agents/models", tags=["agents"], response_model=documented(out.ModelList))
async def list_models(runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    """The models chat can use: the configured default first, then the others by name."""
    return {"models": [{"id": name} for name in runtime.models.names()]}


async def list_agents(
    runtime: RuntimeDep, dev: Developer, query: ListQueryDep, legacy: Legacy
) -> dict[str, Any]:
    return {"items": [views.agent(r, legacy) for r in await runtime.agents.list(dev, query)]}


async def list_users(
    runtime: RuntimeDep, dev: Developer, query: ListQueryDep, legacy: Legacy
) -> dict[str, Any]:
    return {"items": [views.user(r, legacy) for r in await runtime.users.list(dev, query)]}


async def list_sessions(
    runtime: RuntimeDep,
    dev: Developer,
    query: ListQueryDep,
    legacy: Legacy,
    agent_id: UUID | None = None,
    user_id: UUID | None = None,
) -> dict[str, Any]:
    where = []
    if agent_id is not None:
        where.append(runtime.sessions.participant_filter("agent", agent_id))
    if user_id is not None:
        where.append(runtime.sessions.participant_filter("user", user_id))
    rows = await runtime.sessions.list(dev, query, where)
    return {"items": [views.session(r, legacy) for r in rows]}


def _session_defaults(values: dict[str, Any]) -> dict[str, Any]:
    values.setdefault("recall_options", default_recall_options())
    return values


register_crud(
    router,
    CrudSpec(
        "/agents",
        "agents",
        lambda rt: rt.agents,
        views.agent,
        AgentIn,
        AgentPatch,
        model=out.Agent,
        list_model=out.AgentList,
        legacy_model=out.LegacyAgent,
        legacy_list_model=out.LegacyAgentList,
    ),
    list_agents,
)
register_crud(
    router,
    CrudSpec(
        "/users",
        "users",
        lambda rt: rt.users,
        views.user,
        UserIn,
        UserIn,
        model=out.User,
        list_model=out.UserList,
    ),
    list_users,
)
register_crud(
    router,
    CrudSpec(
        "/sessions",
        "sessions",
        lambda rt: rt.sessions,
        views.session,
        SessionIn,
        SessionIn,
        model=out.Session,
        list_model=out.SessionList,
        legacy_model=out.LegacySession,
        legacy_list_model=out.LegacySessionList,
        fill_defaults=_session_defaults,
    ),
    list_sessions,
)
