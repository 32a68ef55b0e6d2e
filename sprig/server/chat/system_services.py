"""Sprig's own operations, offered to ``system`` tools (tools/context.py SystemServices).

Every call carries the tenant of the chat turn: a system tool can reach only that tenant's
agents, users, sessions and documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from sprig.server.errors import NotImplementedFeatureError
from sprig.server.store.crud import ListQuery, Row
from sprig.server.tools.context import DocOwner

if TYPE_CHECKING:
    from sprig.server.runtime import Runtime


class RuntimeServices:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def get_agent(self, developer_id: UUID, agent_id: UUID) -> Row:
        return await self.rt.agents.get(developer_id, agent_id)

    async def get_user(self, developer_id: UUID, user_id: UUID) -> Row:
        return await self.rt.users.get(developer_id, user_id)

    async def get_session(self, developer_id: UUID, session_id: UUID) -> Row:
        return await self.rt.sessions.get(developer_id, session_id)

    async def session_history(
        self, developer_id: UUID, session_id: UUID, limit: int | None
    ) -> list[Row]:
        _, entries, _ = await self.rt.history.get(developer_id, session_id)
        return entries[-limit:] if limit else entries

    async def list_docs(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, limit: int, offset: int
    ) -> list[Row]:
        query = ListQuery(limit=limit, offset=offset)
        return await self.rt.docs.list(developer_id, owner, owner_id, query)

    async def create_doc(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, doc: Row
    ) -> Row:
        return await self.rt.docs.create(developer_id, owner, owner_id, doc)

    async def search_docs(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, text: str, limit: int
    ) -> list[Row]:
        search = getattr(self.rt, "search", None)
        if search is None:
            raise NotImplementedFeatureError("Document search is not available yet")
        rows: list[Row] = await search.search_text(developer_id, owner, owner_id, text, limit)
        return rows
