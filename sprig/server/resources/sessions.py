"""Sessions: one or many agents and users, settings for chat, participants kept in order."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.docs.service import delete_owned_docs
from sprig.server.errors import BadRequestError
from sprig.server.resources.crud import ResourceService
from sprig.server.store import tables
from sprig.server.store.crud import Row

PARTICIPANT_TABLES = {"agent": tables.agents, "user": tables.users}
# A new session's settings, where the request gives none.
SESSION_DEFAULTS: Row = {
    "situation": None,
    "summary": None,
    "system_template": None,
    "render_templates": True,
    "token_budget": None,
    "context_overflow": None,
    "auto_run_tools": False,
    "forward_tool_calls": False,
    "recall": True,
    "remember": False,
    "recall_options": None,
    "metadata": {},
    "next_seq": 0,
}
# ``extra`` key of a session made without agents (an OpenAI conversation): its first
# response names the agent that joins it (``join_agent``).
OPEN = "open"


async def join_agent(
    conn: AsyncConnection, developer_id: UUID, session_id: UUID, agent_id: UUID
) -> None:
    """Make ``agent_id`` (the tenant's) a participant of the session, after any others."""
    sp = tables.session_participants
    mine = sa.and_(sp.c.session_id == session_id, sp.c.developer_id == developer_id)
    agents = sa.and_(mine, sp.c.kind == "agent")
    present = await conn.execute(sa.select(sp.c.participant_id).where(agents))
    ids = [row[0] for row in present]
    if agent_id in ids:
        return
    await _require_all(conn, developer_id, "agent", [agent_id])
    values = {"session_id": session_id, "kind": "agent", "participant_id": agent_id}
    await conn.execute(sa.insert(sp).values(**values, position=len(ids), developer_id=developer_id))


class SessionService(ResourceService):
    table = tables.sessions
    label = "Session"

    def defaults(self) -> Row:
        return {**SESSION_DEFAULTS, "metadata": {}}

    async def after_write(
        self, conn: AsyncConnection, developer_id: UUID, row: Row, extra: Row, created: bool
    ) -> None:
        agents, users = extra.get("agents"), extra.get("users")
        if created and not agents and not extra.get(OPEN):
            raise BadRequestError("A session needs at least one agent")
        if agents is not None:
            await self._set(conn, developer_id, row["id"], "agent", agents)
        if users is not None:
            await self._set(conn, developer_id, row["id"], "user", users)

    async def _set(
        self,
        conn: AsyncConnection,
        developer_id: UUID,
        session_id: UUID,
        kind: str,
        ids: list[UUID],
    ) -> None:
        if kind == "agent" and not ids:
            raise BadRequestError("A session needs at least one agent")
        if len(set(ids)) != len(ids):
            raise BadRequestError(f"The same {kind} is listed twice")
        await _require_all(conn, developer_id, kind, ids)
        sp = tables.session_participants
        await conn.execute(sa.delete(sp).where(sp.c.session_id == session_id, sp.c.kind == kind))
        rows = [
            {
                "session_id": session_id,
                "kind": kind,
                "participant_id": pid,
                "position": i,
                "developer_id": developer_id,
            }
            for i, pid in enumerate(ids)
        ]
        if rows:
            await conn.execute(sa.insert(sp), rows)

    async def before_delete(self, conn: AsyncConnection, developer_id: UUID, id_: UUID) -> None:
        await delete_owned_docs(conn, developer_id, "session", id_)

    async def expand(self, conn: AsyncConnection, rows: list[Row]) -> list[Row]:
        if not rows:
            return rows
        sp = tables.session_participants
        stmt = (
            sa.select(sp.c.session_id, sp.c.kind, sp.c.participant_id)
            .where(sp.c.session_id.in_([r["id"] for r in rows]))
            .order_by(sp.c.session_id, sp.c.kind, sp.c.position)
        )
        found: dict[tuple[UUID, str], list[UUID]] = defaultdict(list)
        for sid, kind, pid in await conn.execute(stmt):
            found[(sid, kind)].append(pid)
        for row in rows:
            row["agents"] = found[(row["id"], "agent")]
            row["users"] = found[(row["id"], "user")]
        return rows

    @staticmethod
    def participant_filter(kind: str, participant_id: UUID) -> sa.ColumnElement[bool]:
        sp = tables.session_participants
        sub = sa.select(sp.c.session_id).where(
            sp.c.kind == kind, sp.c.participant_id == participant_id
        )
        return tables.sessions.c.id.in_(sub)


async def _require_all(
    conn: AsyncConnection, developer_id: UUID, kind: str, ids: list[UUID]
) -> None:
    if not ids:
        return
    table = PARTICIPANT_TABLES[kind]
    stmt = sa.select(table.c.id).where(table.c.developer_id == developer_id, table.c.id.in_(ids))
    present = {r[0] for r in await conn.execute(stmt)}
    missing = [str(i) for i in ids if i not in present]
    if missing:  # the route exists, the body names what is not there: 400, as upstream
        raise BadRequestError(f"{kind.capitalize()} {', '.join(missing)} not found")
