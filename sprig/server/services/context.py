"""Context assembly: the history window that fits the token budget, and overflow policies.

A turn reads history newest-first, a page at a time, and stops as soon as the budget is
spent, so its cost grows with the window, not with the session's length. Entries covered by
the session's rolling summary (``seq <= summary_until``) are never read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import BadRequestError
from sprig.server.models.base import ChatMessage, ChatModel, ToolCall
from sprig.server.store import tables
from sprig.server.store.crud import Row

PAGE = 64
WINDOW_COLUMNS = (
    "seq",
    "role",
    "name",
    "content",
    "source",
    "tool_call_id",
    "tool_calls",
    "token_count",
    "tokenizer",
)
TOOL_SOURCES = ("tool_request", "tool_response")


class ContextOverflowError(BadRequestError):
    code = "context_overflow"


@dataclass
class Window:
    """History that goes to the model, oldest first, and what did not fit."""

    entries: list[Row] = field(default_factory=list)
    overflowed: bool = False
    dropped_before_seq: int | None = None  # entries below this seq were left out
    tokens: int = 0
    available: int = 0  # the history budget this window was cut for


def entry_message(row: Row) -> ChatMessage:
    calls = [
        ToolCall(
            id=str(c.get("id", "")),
            name=str((c.get("function") or {}).get("name", c.get("name", ""))),
            arguments=_arguments((c.get("function") or {}).get("arguments", c.get("arguments"))),
        )
        for c in row.get("tool_calls") or []
    ]
    content = row["content"]
    if isinstance(content, list) and all(isinstance(p, str) for p in content):
        content = "\n".join(content)
    elif content is not None and not isinstance(content, str | list):
        content = json.dumps(content, ensure_ascii=False)
    return ChatMessage(
        role=row["role"],
        content=content if content is not None else "",
        name=row.get("name"),
        tool_call_id=row.get("tool_call_id"),
        tool_calls=calls,
    )


def _arguments(value: Any) -> str:
    if value is None:
        return "{}"
    return value if isinstance(value, str) else json.dumps(value)


def entry_tokens(model: ChatModel, row: Row) -> int:
    """Stored count when the same tokenizer made it; recounted otherwise."""
    if row.get("tokenizer") == model.name and row.get("token_count"):
        return int(row["token_count"])
    return model.count_message_tokens([entry_message(row)])


async def _page(
    conn: AsyncConnection, session_id: UUID, below: int | None, floor: int, with_tools: bool
) -> list[Row]:
    e = tables.entries
    columns = [e.c[name] for name in WINDOW_COLUMNS]
    stmt = sa.select(*columns).where(e.c.session_id == session_id, e.c.seq > floor)
    stmt = stmt.where(e.c.source != "summarizer")
    if below is not None:
        stmt = stmt.where(e.c.seq < below)
    if not with_tools:
        stmt = stmt.where(e.c.source.not_in(TOOL_SOURCES))
    stmt = stmt.order_by(e.c.seq.desc()).limit(PAGE)
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


def _groups(rows: Sequence[Row]) -> list[list[Row]]:
    """Newest-first rows → groups that must stay together (a tool call and its results)."""
    groups: list[list[Row]] = []
    pending: list[Row] = []
    for row in rows:
        if row["role"] == "tool":
            pending.insert(0, row)
            continue
        groups.append([row, *pending])
        pending = []
    if pending:
        groups.append(pending)
    return groups


async def load_window(
    conn: AsyncConnection,
    model: ChatModel,
    session: Row,
    available: int,
    *,
    with_tools: bool = True,
) -> Window:
    """The newest history that fits in ``available`` tokens (whole tool groups only)."""
    window = Window(available=available)
    below: int | None = None
    carry: list[Row] = []
    while True:
        rows = await _page(conn, session["id"], below, session["summary_until"], with_tools)
        if not rows:
            break
        below = rows[-1]["seq"]
        batch = carry + rows
        groups = _groups(batch)
        # the oldest group of a page may continue on the next page: hold it back
        carry = groups.pop() if len(rows) == PAGE and groups else []
        if not _take(window, groups, model, available):
            return window
    if carry and not _take(window, [carry], model, available):
        return window
    return window


def _take(window: Window, groups: list[list[Row]], model: ChatModel, available: int) -> bool:
    for group in groups:
        cost = sum(entry_tokens(model, r) for r in group)
        if window.tokens + cost > available:
            window.overflowed = True
            window.dropped_before_seq = max(r["seq"] for r in group) + 1
            return False
        window.tokens += cost
        window.entries[:0] = sorted(group, key=lambda r: r["seq"])
    return True


async def span_to_summarize(
    conn: AsyncConnection, session: Row, before_seq: int, with_tools: bool = True
) -> list[Row]:
    """Entries not yet summarised and older than the kept window (read only when summarising)."""
    e = tables.entries
    stmt = (
        sa.select(e)
        .where(
            e.c.session_id == session["id"],
            e.c.seq > session["summary_until"],
            e.c.seq < before_seq,
            e.c.source != "summarizer",
        )
        .order_by(e.c.seq)
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


SUMMARY_PROMPT = (
    "Summarise the conversation below for your own later reference. Keep every fact about "
    "the user, decisions, open questions and commitments; drop pleasantries. Write plain "
    "sentences, at most {words} words."
)


def summary_request_messages(previous: str | None, rows: Sequence[Row]) -> list[ChatMessage]:
    lines = []
    if previous:
        lines.append(f"Earlier summary: {previous}")
    for row in rows:
        text = entry_message(row).text()
        who = row.get("name") or row["role"]
        lines.append(f"{who}: {text}")
    return [
        ChatMessage(role="system", content=SUMMARY_PROMPT.format(words=200)),
        ChatMessage(role="user", content="\n".join(lines)),
    ]
