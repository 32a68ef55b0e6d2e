"""A session's stored turn traces: ``GET /sessions/{id}/traces`` and
``GET /sessions/{id}/turns/{entry_id}/trace``."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sprig.server.api.deps import Developer, Offset, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.errors import NotFoundError
from sprig.server.observability import turn_traces
from sprig.server.store import crud, tables

router = APIRouter(tags=["sessions"])


class TracePhase(BaseModel):
    name: str = Field(description="context, recall, embed, search, model, ttft, tool, persist")
    start_ms: float = Field(description="When it began, after the turn began.")
    duration_ms: float
    detail: str | None = Field(default=None, description="The model's or the tool's name.")


class TraceUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class TraceRecall(BaseModel):
    query: str | None = Field(description="The text searched with; null: no recall.")
    docs: list[dict[str, Any]] = Field(description="Recalled docs (DocReference) with scores.")
    memories: list[dict[str, Any]] = Field(description="Recalled memories with scores.")


class TraceToolCall(BaseModel):
    id: str
    name: str
    arguments: str
    result: str | None = Field(description="The tool's result as the model got it.")


class TraceWindow(BaseModel):
    ranges: list[list[int]] = Field(description="The history entries shown, as seq ranges.")
    count: int
    tokens: int
    missing: int = Field(default=0, description="Entries shown then, gone from history since.")


class TracePrompt(BaseModel):
    messages: list[dict[str, Any]] = Field(description="What the model got, as /render shows.")
    window: TraceWindow
    tools: list[dict[str, Any]]
    tool_choice: Any = None
    token_budget: int


class TurnTraceSummary(BaseModel):
    """What a chat turn did and where its time went (without its prompt)."""

    version: int
    id: UUID = Field(description="The turn's reply entry.")
    session_id: UUID
    agent: dict[str, Any]
    model: str
    settings: dict[str, Any]
    response_format: dict[str, Any] | None = None
    outcome: str = Field(description="`ok`, or `partial` (a stream cut short).")
    finish_reason: str
    stop_reason: str | None = None
    duration_ms: float
    model_ms: float
    overhead_ms: float = Field(description="The turn's time less its model calls'.")
    phases: list[TracePhase]
    usage: TraceUsage
    recall: TraceRecall
    tool_calls: list[TraceToolCall] = Field(description="Tool calls the server ran.")
    client_tool_calls: list[dict[str, Any]] = Field(description="Calls returned to the client.")


class TurnTrace(TurnTraceSummary):
    prompt: TracePrompt


class TurnTraceList(BaseModel):
    items: list[TurnTraceSummary]


@router.get("/sessions/{session_id}/traces", response_model=documented(TurnTraceList))
async def list_traces(
    session_id: UUID,
    runtime: RuntimeDep,
    dev: Developer,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The session's stored turn traces, newest first."""
    async with runtime.db.read() as conn:
        await _session(conn, dev, session_id)
        items = await turn_traces.listed(conn, dev, session_id, limit, offset)
    return {"items": items}


@router.get("/sessions/{session_id}/turns/{entry_id}/trace", response_model=documented(TurnTrace))
async def get_trace(
    session_id: UUID, entry_id: UUID, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    """A turn's trace, by its reply's entry id (the chat response's ``id``)."""
    async with runtime.db.read() as conn:
        await _session(conn, dev, session_id)
        trace = await turn_traces.get(conn, dev, session_id, entry_id)
    if not trace:
        raise NotFoundError(
            f"No trace of a turn answered by entry {entry_id} in this session (traces are "
            "kept for saved turns while SPRIG_TURN_TRACES is on, for a limited time)"
        )
    return trace


async def _session(conn: Any, developer_id: UUID, session_id: UUID) -> None:
    if await crud.get(conn, tables.sessions, developer_id, session_id) is None:
        raise NotFoundError(f"Session {session_id} not found")
