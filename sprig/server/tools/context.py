"""Who a tool call runs for, and the Sprig services ``system`` tools may call.

`SystemServices` is the narrow port system tools need; the server adapts its own services
(agents, users, sessions, history, docs, search) to it. Every method takes the developer
(tenant) id first and must scope its query by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol
from uuid import UUID

Row = dict[str, Any]
DocOwner = Literal["agent", "user"]


class SystemServices(Protocol):
    async def get_agent(self, developer_id: UUID, agent_id: UUID) -> Row: ...

    async def get_user(self, developer_id: UUID, user_id: UUID) -> Row: ...

    async def get_session(self, developer_id: UUID, session_id: UUID) -> Row: ...

    async def session_history(
        self, developer_id: UUID, session_id: UUID, limit: int | None
    ) -> list[Row]:
        """The session's entries, oldest first; the last ``limit`` when given."""
        ...

    async def list_docs(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, limit: int, offset: int
    ) -> list[Row]: ...

    async def create_doc(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, doc: Row
    ) -> Row:
        """Create ``{title, content, metadata?}``; the doc is searchable when this returns."""
        ...

    async def search_docs(
        self, developer_id: UUID, owner: DocOwner, owner_id: UUID, text: str, limit: int
    ) -> list[Row]:
        """Best matches first (DocReference-like rows)."""
        ...


@dataclass(frozen=True, slots=True)
class ToolContext:
    """The tenant and conversation a call belongs to; ids default the system tools' targets."""

    developer_id: UUID
    agent_id: UUID | None = None
    session_id: UUID | None = None
    user_ids: tuple[UUID, ...] = ()
    services: SystemServices | None = None
