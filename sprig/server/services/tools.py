"""Agent tools: every v1 type stored as given; legacy function/webhook shapes accepted."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import NotFoundError
from sprig.server.ids import new_id, utcnow
from sprig.server.services.resources import writing
from sprig.server.store import crud, tables
from sprig.server.store.crud import ListQuery, Row, Rows
from sprig.server.store.db import Database

TOOL_TYPES = (
    "function",
    "integration",
    "system",
    "api_call",
    "computer_20241022",
    "text_editor_20241022",
    "bash_20241022",
)


def tool_values(tool: dict[str, Any]) -> Row:
    """Columns of a validated tool definition (see api/tools.py for the wire shapes)."""
    kind = tool["type"]
    spec = {kind: tool.get(kind) or {}}
    if kind == "function":
        spec["function"] = {**spec["function"], "name": tool["name"]}
    if tool.get("legacy_type"):
        spec["legacy_type"] = tool["legacy_type"]
    return {
        "name": tool["name"],
        "type": kind,
        "description": tool.get("description"),
        "spec": spec,
    }


async def insert_tool(
    conn: AsyncConnection, developer_id: UUID, agent_id: UUID, tool: dict[str, Any]
) -> Row:
    now = utcnow()
    row = {
        "id": new_id(),
        "developer_id": developer_id,
        "agent_id": agent_id,
        "created_at": now,
        "updated_at": now,
        **tool_values(tool),
    }
    await crud.insert(conn, tables.tools, row)
    return row


class ToolService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _agent(self, conn: AsyncConnection, developer_id: UUID, agent_id: UUID) -> None:
        if await crud.get(conn, tables.agents, developer_id, agent_id) is None:
            raise NotFoundError(f"Agent {agent_id} not found")

    async def _tool(
        self, conn: AsyncConnection, developer_id: UUID, agent_id: UUID, tool_id: UUID
    ) -> Row:
        await self._agent(conn, developer_id, agent_id)
        row = await crud.get(conn, tables.tools, developer_id, tool_id)
        if row is None or row["agent_id"] != agent_id:
            raise NotFoundError(f"Tool {tool_id} not found")
        return row

    async def get(self, developer_id: UUID, agent_id: UUID, tool_id: UUID) -> Row:
        async with self.db.read() as conn:
            return await self._tool(conn, developer_id, agent_id, tool_id)

    async def create(self, developer_id: UUID, agent_id: UUID, tool: dict[str, Any]) -> Row:
        async with writing(self.db, "Tool") as conn:
            await self._agent(conn, developer_id, agent_id)
            return await insert_tool(conn, developer_id, agent_id, tool)

    async def list(self, developer_id: UUID, agent_id: UUID, query: ListQuery) -> Rows:
        async with self.db.read() as conn:
            await self._agent(conn, developer_id, agent_id)
            where = [tables.tools.c.agent_id == agent_id]
            stmt = sa.select(tables.tools).where(
                tables.tools.c.developer_id == developer_id, *where
            )
            column = tables.tools.c[query.sort_by]
            stmt = stmt.order_by(column.asc() if query.direction == "asc" else column.desc())
            stmt = stmt.limit(query.limit).offset(query.offset)
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def all_for_agent(
        self, conn: AsyncConnection, developer_id: UUID, agent_id: UUID
    ) -> Rows:
        stmt = (
            sa.select(tables.tools)
            .where(tables.tools.c.developer_id == developer_id, tables.tools.c.agent_id == agent_id)
            .order_by(tables.tools.c.created_at)
        )
        return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def update(
        self,
        developer_id: UUID,
        agent_id: UUID,
        tool_id: UUID,
        tool: dict[str, Any],
        *,
        replace: bool,
    ) -> Row:
        async with writing(self.db, "Tool") as conn:
            current = await self._tool(conn, developer_id, agent_id, tool_id)
            merged = tool if replace else _merge_tool(current, tool)
            values = {**tool_values(merged), "updated_at": utcnow()}
            await crud.update(conn, tables.tools, developer_id, tool_id, values)
            return await self._tool(conn, developer_id, agent_id, tool_id)

    async def delete(self, developer_id: UUID, agent_id: UUID, tool_id: UUID) -> Row:
        async with self.db.write() as conn:
            await self._tool(conn, developer_id, agent_id, tool_id)
            await crud.delete(conn, tables.tools, developer_id, tool_id)
        return {"id": tool_id, "deleted_at": utcnow()}


def _merge_tool(current: Row, patch: dict[str, Any]) -> dict[str, Any]:
    """A PATCH: given keys win; the type's own object is merged key by key."""
    kind = patch.get("type") or current["type"]
    base = {
        "name": current["name"],
        "type": current["type"],
        "description": current["description"],
        current["type"]: current["spec"].get(current["type"], {}),
    }
    if current["spec"].get("legacy_type"):
        base["legacy_type"] = current["spec"]["legacy_type"]
    merged = {**base, **{k: v for k, v in patch.items() if k != kind}}
    merged["type"] = kind
    own = base.get(kind, {}) if kind == current["type"] else {}
    merged[kind] = {**own, **(patch.get(kind) or {})}
    if kind == "function" and "name" not in patch and merged[kind].get("name"):
        merged["name"] = merged[kind]["name"]
    return merged
