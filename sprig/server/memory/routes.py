"""Long-term memories of an agent, and the suggestions of a session.

- ``GET /agents/{id}/memories?query=&types=&user_id=&limit=&offset=`` (0.x): hybrid-ranked
  when ``query`` is given, newest first otherwise; ``types`` repeats or is comma-separated.
- ``POST /agents/{id}/memories/search`` (v1 style): ``{text, user_id, types, limit, offset,
  include_invalidated, lang}`` -> ``{items, time}`` (``lang``: how ``text`` and the
  memories are analysed for BM25; default ``en-US``).
- ``POST /agents/{id}/memories`` (Sprig): store one memory, or a list, as given (imports).
- ``GET /agents/{id}/memories/{memory_id}`` (Sprig): one memory, valid or not (the
  console follows ``superseded_by`` with it).
- ``DELETE /agents/{id}/memories/{memory_id}`` -> ``{id, deleted_at, jobs}`` (202).
- ``GET /sessions/{id}/suggestions?limit&offset`` (0.x) -> ``{items}``.

A memory carries the 0.x ``Memory`` fields (``user_id`` is never null: the nil UUID stands
for "no user") plus Sprig's: type, session, validity, provenance, and ``score`` in searches.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import Field, StringConstraints, field_validator

from sprig.server.api.body import Body
from sprig.server.api.deps import Developer, MemoryDep
from sprig.server.api.responses import Deleted, documented
from sprig.server.api.views import NIL_UUID
from sprig.server.errors import ValidationError
from sprig.server.ids import rfc3339
from sprig.server.memory import responses as out
from sprig.server.memory.prompts import TYPES
from sprig.server.memory.store import MEMORY_TYPES, MemoryQuery
from sprig.server.search.options import DEFAULT_LANG
from sprig.server.store.crud import Row

router = APIRouter(tags=["memories"])
MemoryType = Literal["episode", "belief", "entity"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
MAX_OFFSET = 1_000_000  # larger offsets overflow the database's integers


def _s(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def memory_view(row: Row) -> dict[str, Any]:
    body = {
        "id": _s(row["id"]),
        "agent_id": _s(row["agent_id"]),
        "user_id": _s(row["user_id"]) or NIL_UUID,
        "session_id": _s(row["session_id"]),
        "type": row["type"],
        "content": row["content"],
        "entities": row["entities"] or [],
        "sentiment": row["sentiment"],
        "timestamp": rfc3339(row["timestamp"]),
        "valid_from": rfc3339(row["valid_from"]),
        "invalidated_at": rfc3339(row["invalidated_at"]),
        "superseded_by": _s(row["superseded_by"]),
        "source_entry_ids": row["source_entry_ids"] or [],
        "last_accessed_at": rfc3339(row["last_accessed_at"]),
        "created_at": rfc3339(row["created_at"]),
        "updated_at": rfc3339(row["updated_at"]),
    }
    if "score" in row:
        body["score"] = row["score"]
    return body


def suggestion_view(row: Row) -> dict[str, Any]:
    return {
        "id": _s(row["id"]),
        "target": row["target"],
        "content": row["content"],
        "message_id": _s(row["message_id"]),
        "session_id": _s(row["session_id"]),
        "created_at": rfc3339(row["created_at"]),
    }


def parse_types(values: list[str] | None) -> list[str]:
    """``types=a&types=b`` and ``types=a,b`` alike; synonyms as the model's (``fact`` is a
    belief, ``event`` an episode); an unknown type is a 422."""
    wanted = [t.strip().lower() for v in values or [] for t in v.split(",") if t.strip()]
    unknown = sorted({t for t in wanted if t not in TYPES})
    if unknown:
        message = f"unknown memory type(s) {', '.join(unknown)}; use {', '.join(MEMORY_TYPES)}"
        raise ValidationError(
            f"Validation error: query.types: {message}",
            details=[{"loc": ["query", "types"], "msg": message, "type": "value_error"}],
        )
    return list(dict.fromkeys(TYPES[t] for t in wanted))


class MemoryIn(Body):
    content: Text
    type: MemoryType = "belief"
    user_id: UUID | None = None
    session_id: UUID | None = None
    entities: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    sentiment: float | None = Field(default=None, ge=-1, le=1)
    timestamp: datetime | None = None

    @field_validator("entities", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        """Entities may be given as names: ``["Max"]`` is ``[{"name": "Max"}]``."""
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value


class MemorySearchIn(Body):
    text: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    user_id: UUID | None = None
    types: list[MemoryType] | None = None
    limit: int = Field(default=10, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    include_invalidated: bool = False
    lang: Annotated[str, StringConstraints(max_length=32)] = DEFAULT_LANG

    def query(self, agent_id: UUID) -> MemoryQuery:
        return MemoryQuery(
            agent_id=agent_id,
            user_id=self.user_id,
            text=self.text,
            types=tuple(self.types or ()),
            limit=self.limit,
            offset=self.offset,
            include_invalidated=self.include_invalidated,
            lang=self.lang,
        )


@router.get("/agents/{agent_id}/memories", response_model=documented(out.MemoryList))
async def list_memories(
    agent_id: UUID,
    memory: MemoryDep,
    dev: Developer,
    query: Annotated[str | None, Query(max_length=10_000)] = None,
    types: Annotated[
        list[str] | None,
        Query(
            description="Memory types (also comma-separated; synonyms such as `fact` count)",
            json_schema_extra={"items": {"type": "string", "enum": sorted(TYPES)}},
        ),
    ] = None,
    user_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    include_invalidated: bool = False,
) -> dict[str, Any]:
    q = MemoryQuery(
        agent_id=agent_id,
        user_id=user_id,
        text=query,
        types=tuple(parse_types(types)),
        limit=limit,
        offset=offset,
        include_invalidated=include_invalidated,
    )
    rows = await memory.search(dev, q)
    return {"items": [memory_view(r) for r in rows]}


@router.post(
    "/agents/{agent_id}/memories/search", response_model=documented(out.MemorySearchResult)
)
async def search_memories(
    agent_id: UUID, body: MemorySearchIn, memory: MemoryDep, dev: Developer
) -> dict[str, Any]:
    started = time.perf_counter()
    rows = await memory.search(dev, body.query(agent_id))
    took = max(time.perf_counter() - started, 0.0001)
    return {"items": [memory_view(r) for r in rows], "time": took}


@router.post(
    "/agents/{agent_id}/memories",
    status_code=status.HTTP_201_CREATED,
    response_model=documented(out.CreatedMemory, out.CreatedMemories),
)
async def create_memories(
    agent_id: UUID,
    body: MemoryIn | Annotated[list[MemoryIn], Field(min_length=1, max_length=256)],
    memory: MemoryDep,
    dev: Developer,
) -> dict[str, Any]:
    items = body if isinstance(body, list) else [body]
    rows = await memory.create(dev, agent_id, [i.values() for i in items])
    views = [memory_view(r) for r in rows]
    return {"items": views} if isinstance(body, list) else {**views[0], "jobs": []}


@router.get("/agents/{agent_id}/memories/{memory_id}", response_model=documented(out.Memory))
async def get_memory(
    agent_id: UUID, memory_id: UUID, memory: MemoryDep, dev: Developer
) -> dict[str, Any]:
    return memory_view(await memory.get(dev, agent_id, memory_id))


@router.delete(
    "/agents/{agent_id}/memories/{memory_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=documented(Deleted),
)
async def delete_memory(
    agent_id: UUID, memory_id: UUID, memory: MemoryDep, dev: Developer
) -> dict[str, Any]:
    row = await memory.delete(dev, agent_id, memory_id)
    return {"id": str(row["id"]), "deleted_at": rfc3339(row["deleted_at"]), "jobs": []}


@router.get(
    "/sessions/{session_id}/suggestions",
    tags=["sessions"],
    response_model=documented(out.SuggestionList),
)
async def list_suggestions(
    session_id: UUID,
    memory: MemoryDep,
    dev: Developer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    rows = await memory.list_suggestions(dev, session_id, limit, offset)
    return {"items": [suggestion_view(r) for r in rows]}
