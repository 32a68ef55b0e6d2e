"""What a request's ``model`` names, and ``GET /v1/models``.

An agent is ``agent:<agent-id>``, or its name when no other agent of the tenant has it;
anything else is a raw model the registry knows (``GET /agents/models``). An unknown name
is OpenAI's 404 ``model_not_found``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import BadRequestError, NotFoundError, SprigError
from sprig.server.models.base import ChatModel
from sprig.server.models.registry import ModelRegistry
from sprig.server.store import tables
from sprig.server.store.crud import Row

AGENT_PREFIX = "agent:"


@dataclass(frozen=True)
class AgentTarget:
    agent: Row


@dataclass(frozen=True)
class RawTarget:
    model: ChatModel


Target = AgentTarget | RawTarget


class ModelNotFoundError(NotFoundError):
    code = "model_not_found"
    type = "invalid_request_error"

    def __init__(self, name: str) -> None:
        message = f"The model `{name}` does not exist or you do not have access to it."
        super().__init__(message, param="model")


async def resolve(
    conn: AsyncConnection, developer_id: UUID, models: ModelRegistry, name: str
) -> Target:
    if name.startswith(AGENT_PREFIX):
        return AgentTarget(await _agent_by_id(conn, developer_id, name))
    named = await _agents_named(conn, developer_id, name)
    if len(named) > 1:
        raise BadRequestError(
            f"{len(named)} agents are named {name!r}; name one as `agent:<id>`", param="model"
        )
    if named:
        return AgentTarget(named[0])
    try:
        return RawTarget(models.resolve(name))
    except SprigError:
        raise ModelNotFoundError(name) from None


async def _agent_by_id(conn: AsyncConnection, developer_id: UUID, name: str) -> Row:
    try:
        agent_id = UUID(name[len(AGENT_PREFIX) :])
    except ValueError:
        raise ModelNotFoundError(name) from None
    a = tables.agents
    stmt = sa.select(a).where(a.c.id == agent_id, a.c.developer_id == developer_id)
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise ModelNotFoundError(name)
    return dict(row)


async def _agents_named(conn: AsyncConnection, developer_id: UUID, name: str) -> list[Row]:
    a = tables.agents
    stmt = sa.select(a).where(a.c.developer_id == developer_id, a.c.name == name).limit(2)
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def list_models(
    conn: AsyncConnection, developer_id: UUID, models: ModelRegistry
) -> list[dict[str, Any]]:
    """The tenant's agents (oldest first), then the raw models, as OpenAI ``Model``s."""
    a = tables.agents
    owner = await owner_name(conn, developer_id)
    stmt = (
        sa.select(a.c.id, a.c.name, a.c.model, a.c.created_at)
        .where(a.c.developer_id == developer_id)
        .order_by(a.c.created_at, a.c.id)
    )
    agents = (await conn.execute(stmt)).mappings().all()
    counts: dict[str, int] = {}
    for agent in agents:
        counts[agent["name"]] = counts.get(agent["name"], 0) + 1
    listed = [_agent_model(r, counts[r["name"]] == 1, owner) for r in agents]
    return listed + [_raw_model(name) for name in models.names()]


async def owner_name(conn: AsyncConnection, developer_id: UUID) -> str:
    """``owned_by``: the tenant's name (its id when it has none)."""
    d = tables.developers
    name = (await conn.execute(sa.select(d.c.name).where(d.c.id == developer_id))).scalar()
    return str(name or developer_id)


def _agent_model(row: Any, unique: bool, owner: str) -> dict[str, Any]:
    model_id = row["name"] if unique and row["name"] else f"{AGENT_PREFIX}{row['id']}"
    return {
        "id": model_id,
        "object": "model",
        "created": int(row["created_at"].timestamp()),
        "owned_by": owner,
        "agent_id": str(row["id"]),
        "agent_model": row["model"],
    }


def _raw_model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "sprig"}


def model_entry(target: Target, name: str, owner: str) -> dict[str, Any]:
    """``GET /v1/models/{id}``: the entry of one resolved name."""
    if isinstance(target, RawTarget):
        return _raw_model(name)
    row = target.agent
    return {**_agent_model(row, True, owner), "id": name}
