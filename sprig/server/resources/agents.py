"""Agents and users: CRUD, inline tools and docs (legacy), cascading deletes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.docs.indexing import DocIndexer
from sprig.server.docs.service import delete_owned_docs, insert_doc
from sprig.server.resources.crud import ResourceService
from sprig.server.resources.tools import insert_tool
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database
from sprig.server.tools.sealing import Cipher


class AgentService(ResourceService):
    table = tables.agents
    label = "Agent"

    def __init__(
        self,
        db: Database,
        default_model: str,
        indexer: DocIndexer,
        cipher: Cipher,
        check_model: Callable[[str], object] | None = None,
    ) -> None:
        super().__init__(db)
        self.default_model = default_model
        self.indexer = indexer
        self.cipher = cipher  # seals inline tools' secrets (resources/tools.py)
        self.check_model = check_model  # raises when no provider serves the name

    def defaults(self) -> Row:
        return {
            "about": "",
            "canonical_name": None,
            "model": self.default_model,
            "instructions": [],
            "default_settings": {},
            "default_system_template": None,
            "metadata": {},
            "project": None,
        }

    async def prepare(self, conn: AsyncConnection, developer_id: UUID, values: Row) -> Row:
        if "model" in values and not values["model"]:
            values["model"] = self.default_model
        if values.get("model") and self.check_model is not None:
            self.check_model(values["model"])
        return values

    async def after_write(
        self, conn: AsyncConnection, developer_id: UUID, row: Row, extra: Row, created: bool
    ) -> None:
        for tool in extra.get("tools") or []:
            await insert_tool(conn, developer_id, row["id"], tool, self.cipher)
        await insert_inline_docs(conn, self.indexer, developer_id, "agent", row["id"], extra)

    async def before_delete(self, conn: AsyncConnection, developer_id: UUID, id_: UUID) -> None:
        await forget(conn, developer_id, "agent", id_)


class UserService(ResourceService):
    table = tables.users
    label = "User"

    def __init__(self, db: Database, indexer: DocIndexer) -> None:
        super().__init__(db)
        self.indexer = indexer

    def defaults(self) -> Row:
        return {"name": "", "about": "", "metadata": {}, "project": None}

    async def after_write(
        self, conn: AsyncConnection, developer_id: UUID, row: Row, extra: Row, created: bool
    ) -> None:
        await insert_inline_docs(conn, self.indexer, developer_id, "user", row["id"], extra)

    async def before_delete(self, conn: AsyncConnection, developer_id: UUID, id_: UUID) -> None:
        await forget(conn, developer_id, "user", id_)


async def insert_inline_docs(
    conn: AsyncConnection,
    indexer: DocIndexer,
    developer_id: UUID,
    kind: Literal["agent", "user"],
    owner_id: UUID,
    extra: Row,
) -> None:
    """Legacy inline docs of a create: stored now (full text at once), embedded by a job."""
    for doc in extra.get("docs") or []:
        prepared = await indexer.prepare(doc["title"], doc["content"], inline=False)
        await insert_doc(conn, developer_id, kind, owner_id, doc, prepared)


async def forget(
    conn: AsyncConnection, developer_id: UUID, kind: Literal["agent", "user"], id_: UUID
) -> None:
    """What goes with a deleted agent or user: its docs, its memories, its session seats."""
    await delete_owned_docs(conn, developer_id, kind, id_)
    mem = tables.memories
    column = mem.c.agent_id if kind == "agent" else mem.c.user_id
    await conn.execute(sa.delete(mem).where(mem.c.developer_id == developer_id, column == id_))
    await drop_participant(conn, developer_id, kind, id_)


async def drop_participant(
    conn: AsyncConnection, developer_id: UUID, kind: str, participant_id: UUID
) -> None:
    """Remove an agent or user from its sessions; sessions left with no agent go too."""
    sp = tables.session_participants
    owned = sa.and_(sp.c.developer_id == developer_id, sp.c.kind == kind)
    stmt = sa.select(sp.c.session_id).where(owned, sp.c.participant_id == participant_id)
    session_ids = [r[0] for r in await conn.execute(stmt)]
    await conn.execute(sa.delete(sp).where(owned, sp.c.participant_id == participant_id))
    if kind != "agent" or not session_ids:
        return
    with_agents = sa.select(sp.c.session_id).where(
        sp.c.session_id.in_(session_ids), sp.c.kind == "agent"
    )
    orphans = [s for s in session_ids if s not in {r[0] for r in await conn.execute(with_agents)}]
    if orphans:
        await delete_owned_docs_many(conn, developer_id, orphans)
        await conn.execute(sa.delete(tables.sessions).where(tables.sessions.c.id.in_(orphans)))


async def delete_owned_docs_many(
    conn: AsyncConnection, developer_id: UUID, session_ids: list[UUID]
) -> None:
    docs = tables.docs
    await conn.execute(
        sa.delete(docs).where(
            docs.c.developer_id == developer_id,
            docs.c.owner_kind == "session",
            docs.c.owner_id.in_(session_ids),
        )
    )
