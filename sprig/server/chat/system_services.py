"""Sprig's own operations, offered to ``system`` tools (tools/context.py SystemServices).

Every call carries the tenant of the chat turn: a system tool can reach only that tenant's
agents, users, sessions and documents.
"""

from __future__ import annotations

from uuid import UUID

from sprig.server.docs.service import DocService
from sprig.server.history.service import HistoryService
from sprig.server.resources.agents import AgentService, UserService
from sprig.server.resources.sessions import SessionService
from sprig.server.search.service import SearchService
from sprig.server.store.crud import ListQuery, Row
from sprig.server.tools.context import DocOwner


class RuntimeServices:
    """The server's services as ``SystemServices``."""

    def __init__(
        self,
        agents: AgentService,
        users: UserService,
        sessions: SessionService,
        history: HistoryService,
        docs: DocService,
        search: SearchService,
    ) -> None:
        self.agents, self.users, self.sessions = agents, users, sessions
        self.history, self.docs, self.search = history, docs, search

    async def get_agent(self, developer_id: UUID, agent_id: UUID) -> Row:
        return await self.agents.get(developer_id, agent_id)

    async def get_user(self, developer_id: UUID, user_id: UUID) -> Row:
        return await self.users.get(developer_id, user_id)

    async def get_session(self, developer_id: UUID, session_id: UUID) -> Row:
        return await self.sessions.get(developer_id, session_id)

    async def session_history(
        self, developer_id: UUID, session_id: UUID, limit: int | None
    ) -> list[Row]:
        _, entries, _ = await self.history.get(developer_id, session_id)
        return entries[-limit:] if limit else entries

    async def list_docs(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, limit: int, offset: int
    ) -> list[Row]:
        query = ListQuery(limit=limit, offset=offset)
        return await self.docs.list(developer_id, owner, owner_id, query)

    async def create_doc(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, doc: Row
    ) -> Row:
        return await self.docs.create(developer_id, owner, owner_id, doc)

    async def search_docs(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, text: str, limit: int
    ) -> list[Row]:
        return await self.search.search_text(developer_id, owner, owner_id, text, limit)
