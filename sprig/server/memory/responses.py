"""The bodies of the memory and suggestion routes, as documented (see api/responses.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field


class Memory(BaseModel):
    """A memory: the 0.x ``Memory`` fields (``user_id`` is the nil UUID for "no user") plus
    Sprig's type, session, validity and provenance."""

    id: UUID
    agent_id: UUID
    user_id: UUID
    session_id: UUID | None
    type: Literal["episode", "belief", "entity"]
    content: str
    entities: list[dict[str, Any]]
    sentiment: float | None
    timestamp: datetime | None
    valid_from: datetime | None
    invalidated_at: datetime | None
    superseded_by: UUID | None
    source_entry_ids: list[Any]
    last_accessed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class FoundMemory(Memory):
    score: float | None = Field(default=None, description="In a search: the rank's score")


class MemoryList(BaseModel):
    items: list[FoundMemory]


class MemorySearchResult(MemoryList):
    time: float = Field(description="Seconds the search took")


class CreatedMemory(Memory):
    """One memory stored (a list answers `CreatedMemories`)."""

    jobs: list[UUID]


class CreatedMemories(BaseModel):
    items: list[Memory]


class Suggestion(BaseModel):
    id: UUID
    target: str
    content: str
    message_id: UUID
    session_id: UUID
    created_at: datetime


class SuggestionList(BaseModel):
    items: list[Suggestion]
