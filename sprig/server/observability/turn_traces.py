"""A stored trace of each saved chat turn: what the model saw and where the time went.

Written in the turn's own transaction (one insert), keyed by the reply entry's id. The
prompt is stored as the turn rendered it except for the history window, which is named by
its entries' ``seq`` ranges (a window is usually one range) and read back from the history
when the trace is fetched: a trace costs the turn's size, not the window's. An entry gone
since (history cleared) is shown as missing. Traces older than ``turn_trace_days``, and past
a session's newest ``turn_traces_per_session``, are deleted as sessions go on (a session's
own every `PRUNE_EVERY` entries; old ones at most every `AGE_PRUNE_SECONDS` per process).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.api import views
from sprig.server.chat.window import entries_in, entry_message
from sprig.server.ids import utcnow
from sprig.server.observability.timeline import PERSIST, Timeline
from sprig.server.store import tables
from sprig.server.store.crud import Row

if TYPE_CHECKING:
    from sprig.server.chat.service import ChatResult
    from sprig.server.chat.turn import TurnRun

PRUNE_EVERY = 100  # entries of a session between two prunings of its traces
AGE_PRUNE_SECONDS = 600.0  # a process deletes old traces (every tenant's) this often
VERSION = 1


@dataclass(frozen=True)
class TraceRetention:
    days: float
    per_session: int


def build(run: TurnRun, result: ChatResult, partial: bool, persist_began: float) -> Row:
    """The trace document of a finished turn (its persist phase timed up to now)."""
    turn, timeline = run.turn, run.timeline
    phases = timeline.as_list()
    phases += _persist_so_far(timeline, persist_began)
    total = timeline.elapsed()
    model_seconds = timeline.total("model")
    return {
        "version": VERSION,
        "id": str(result.id),
        "session_id": str(turn.session["id"]),
        "agent": {"id": str(turn.agent["id"]), "name": turn.agent["name"]},
        "model": turn.model.name,
        "settings": turn.request.sampling.as_dict(),
        "response_format": turn.request.response_format,
        "outcome": "partial" if partial else "ok",
        "finish_reason": result.finish_reason,
        "stop_reason": result.stop_reason,
        "duration_ms": _ms(total),
        "model_ms": _ms(model_seconds),
        "overhead_ms": _ms(max(total - model_seconds, 0.0)),
        "phases": phases,
        "usage": result.usage.as_dict(),
        "recall": _recall(run),
        "tool_calls": _tool_calls(run),
        "client_tool_calls": result.tool_calls,
        "prompt": _prompt(run),
    }


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _persist_so_far(timeline: Timeline, began: float) -> list[dict[str, Any]]:
    scratch = Timeline(timeline.started)
    scratch.add(PERSIST, began)
    return scratch.as_list()


def _recall(run: TurnRun) -> dict[str, Any]:
    recalled = run.turn.recalled
    return {
        "query": recalled.query,
        "docs": [views.doc_reference(d) for d in recalled.docs],
        "memories": [_memory(m) for m in recalled.memories],
    }


def _memory(row: Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "content": row.get("content"),
        "type": row.get("type"),
        "score": row.get("score"),
    }


def _tool_calls(run: TurnRun) -> list[dict[str, Any]]:
    """Each server-run call with its result (the tool message answering it)."""
    results = {m.tool_call_id: m.content for m in run.steps if m.role == "tool"}
    return [
        {
            "id": call.id,
            "name": call.name,
            "arguments": call.arguments,
            "result": results.get(call.id),
        }
        for m in run.steps
        if m.role == "assistant"
        for call in m.tool_calls
    ]


def _prompt(run: TurnRun) -> dict[str, Any]:
    turn = run.turn
    messages = turn.request.messages
    history = len(turn.window.entries)
    head = len(messages) - history - len(turn.messages)
    return {
        "head": [m.to_openai() for m in messages[:head]],
        "window": {
            "ranges": seq_ranges(r["seq"] for r in turn.window.entries),
            "count": history,
            "tokens": turn.window.tokens,
        },
        "messages": [m.to_openai() for m in messages[head + history :]],
        "tools": [t.to_openai() for t in turn.request.tools],
        "tool_choice": turn.request.tool_choice,
        "token_budget": turn.inputs.budget,
    }


def seq_ranges(seqs: Iterable[int]) -> list[list[int]]:
    """Ascending ``seq`` values as inclusive ``[first, last]`` runs."""
    ranges: list[list[int]] = []
    for seq in seqs:
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1][1] = seq
        else:
            ranges.append([seq, seq])
    return ranges


# -- the store --------------------------------------------------------------------------------


async def save(
    conn: AsyncConnection,
    developer_id: UUID,
    trace: Row,
    seqs: tuple[int, int],
    keep: TraceRetention,
) -> None:
    """Stores a turn's trace (its entries' first and last ``seq``: pruning is due when they
    cross a multiple of `PRUNE_EVERY`)."""
    session_id = UUID(trace["session_id"])
    values = {
        "id": UUID(trace["id"]),
        "developer_id": developer_id,
        "session_id": session_id,
        "trace": trace,
        "created_at": utcnow(),
    }
    await conn.execute(_insert_stmt(), values)
    first, last = seqs
    if last // PRUNE_EVERY > (first - 1) // PRUNE_EVERY:
        await prune(conn, session_id, keep)
    if time.monotonic() - _last_age_prune[0] > AGE_PRUNE_SECONDS:
        _last_age_prune[0] = time.monotonic()
        await prune_old(conn, keep)


_last_age_prune = [time.monotonic()]


@functools.cache
def _insert_stmt() -> sa.Insert:
    return sa.insert(tables.turn_traces)


async def prune(conn: AsyncConnection, session_id: UUID, keep: TraceRetention) -> None:
    """A session's traces past its newest ``per_session``."""
    t = tables.turn_traces
    newest = (
        sa.select(t.c.id)
        .where(t.c.session_id == session_id)
        .order_by(t.c.created_at.desc())
        .limit(keep.per_session)
    )
    await conn.execute(sa.delete(t).where(t.c.session_id == session_id, t.c.id.not_in(newest)))


async def prune_old(conn: AsyncConnection, keep: TraceRetention) -> None:
    """Every tenant's traces older than ``days``."""
    t = tables.turn_traces
    await conn.execute(sa.delete(t).where(t.c.created_at < utcnow() - timedelta(days=keep.days)))


async def get(conn: AsyncConnection, developer_id: UUID, session_id: UUID, entry_id: UUID) -> Row:
    """The stored trace with its prompt whole again (``prompt.messages``), or None."""
    t = tables.turn_traces
    stmt = sa.select(t.c.trace).where(
        t.c.id == entry_id, t.c.session_id == session_id, t.c.developer_id == developer_id
    )
    trace: Row | None = (await conn.execute(stmt)).scalar()
    if trace is None:
        return {}
    trace["prompt"] = await _whole_prompt(conn, session_id, trace["prompt"])
    return trace


async def _whole_prompt(conn: AsyncConnection, session_id: UUID, prompt: Row) -> Row:
    window = prompt["window"]
    rows = await entries_in(conn, session_id, window["ranges"])
    history = [entry_message(r).to_openai() for r in rows]
    whole = {k: v for k, v in prompt.items() if k not in ("head", "messages")}
    whole["messages"] = [*prompt["head"], *history, *prompt["messages"]]
    window["missing"] = max(window["count"] - len(rows), 0)
    return whole


async def listed(
    conn: AsyncConnection, developer_id: UUID, session_id: UUID, limit: int, offset: int
) -> list[Row]:
    """A session's traces, newest first, without their prompts."""
    t = tables.turn_traces
    stmt = (
        sa.select(t.c.trace)
        .where(t.c.session_id == session_id, t.c.developer_id == developer_id)
        .order_by(t.c.created_at.desc(), t.c.id)
        .limit(limit)
        .offset(offset)
    )
    traces = list((await conn.execute(stmt)).scalars())
    return [{k: v for k, v in trace.items() if k != "prompt"} for trace in traces]
