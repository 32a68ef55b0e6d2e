"""Agent tools: every v1 type stored as given; legacy function/webhook shapes accepted.

Secret fields (api_call credentials, integration setup keys: tools/sealing.py) are stored
encrypted with the server secret's cipher, bound to the tenant; an update that sends a secret
back as views show it (``***``) keeps the stored one. `seal_stored` encrypts the secrets of
tools stored in clear by earlier versions, once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import NotFoundError
from sprig.server.ids import new_id, utcnow
from sprig.server.mcp.config import check_tool
from sprig.server.resources.crud import writing
from sprig.server.store import crud, tables
from sprig.server.store.crud import ListQuery, Row, Rows
from sprig.server.store.db import Database
from sprig.server.tools import sealing
from sprig.server.tools.sealing import Cipher

SEALED_TYPES = ("api_call", "integration", "mcp")
SEALED_MARK = "tool_secrets_sealed"
TOOL_TYPES = (
    "function",
    "integration",
    "system",
    "api_call",
    "computer_20241022",
    "text_editor_20241022",
    "bash_20241022",
    "mcp",
)


def tool_values(tool: dict[str, Any]) -> Row:
    """Columns of a validated tool definition (see resources/tool_routes.py for the wire shapes)."""
    kind = tool["type"]
    if kind == "mcp":
        check_tool(tool.get(kind))
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


def sealed_values(tool: dict[str, Any], cipher: Cipher, developer_id: UUID) -> Row:
    """`tool_values` with the type object's secret fields encrypted."""
    values = tool_values(tool)
    kind = values["type"]
    values["spec"][kind] = sealing.seal(kind, values["spec"][kind], cipher, developer_id)
    return values


async def insert_tool(
    conn: AsyncConnection,
    developer_id: UUID,
    agent_id: UUID,
    tool: dict[str, Any],
    cipher: Cipher,
) -> Row:
    now = utcnow()
    row = {
        "id": new_id(),
        "developer_id": developer_id,
        "agent_id": agent_id,
        "created_at": now,
        "updated_at": now,
        **sealed_values(tool, cipher, developer_id),
    }
    await crud.insert(conn, tables.tools, row)
    return row


class ToolService:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self.db = db
        self.cipher = cipher

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
            return await insert_tool(conn, developer_id, agent_id, tool, self.cipher)

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
            merged = _keep_secrets(tool if replace else _merge_tool(current, tool), current)
            values = {**sealed_values(merged, self.cipher, developer_id), "updated_at": utcnow()}
            await crud.update(conn, tables.tools, developer_id, tool_id, values)
            return await self._tool(conn, developer_id, agent_id, tool_id)

    async def delete(self, developer_id: UUID, agent_id: UUID, tool_id: UUID) -> Row:
        async with self.db.write() as conn:
            await self._tool(conn, developer_id, agent_id, tool_id)
            await crud.delete(conn, tables.tools, developer_id, tool_id)
        return {"id": tool_id, "deleted_at": utcnow()}

    async def seal_stored(self) -> int:
        """Encrypt the clear secrets of tools stored before secrets were sealed; how many
        tools changed. Runs once per database (a mark in ``store_meta``)."""
        t, meta = tables.tools, tables.store_meta
        async with self.db.write() as conn:
            done = sa.select(meta.c.key).where(meta.c.key == SEALED_MARK)
            if (await conn.execute(done)).first() is not None:
                return 0
            # processes starting together: one claims the task, the others skip it
            if not await crud.claim_meta(conn, SEALED_MARK, {"done": True}):
                return 0
            stmt = sa.select(t.c.id, t.c.developer_id, t.c.type, t.c.spec).where(
                t.c.type.in_(SEALED_TYPES)
            )
            changed = 0
            for row in (await conn.execute(stmt)).all():
                changed += await self._seal_row(conn, row._mapping)
        return changed

    async def _seal_row(self, conn: AsyncConnection, row: Any) -> int:
        spec = dict(row["spec"] or {})
        kind = row["type"]
        body = spec.get(kind)
        if not isinstance(body, dict):
            return 0
        sealed = sealing.seal(kind, body, self.cipher, row["developer_id"])
        if sealed == body:
            return 0
        spec[kind] = sealed
        await conn.execute(
            sa.update(tables.tools).where(tables.tools.c.id == row["id"]).values(spec=spec)
        )
        return 1


def _keep_secrets(tool: dict[str, Any], current: Row) -> dict[str, Any]:
    """Secrets sent back redacted (as the API showed them) keep their stored values."""
    kind = tool["type"]
    incoming, stored = tool.get(kind), current["spec"].get(kind)
    if kind != current["type"] or not isinstance(incoming, dict) or not isinstance(stored, dict):
        return tool
    return {**tool, kind: sealing.keep_unchanged(kind, incoming, stored)}


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
