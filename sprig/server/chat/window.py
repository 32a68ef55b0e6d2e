"""Context assembly: the history window that fits the token budget, and overflow policies.

A turn reads history newest-first, a page at a time, and stops as soon as the budget is
spent, so its cost grows with the window, not with the session's length. Entries covered by
the session's rolling summary (``seq <= summary_until``) are never read.
"""

from __future__ import annotations

import bisect
import functools
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
    # where ``entries`` start in a session's cached entries, when they are a run of them
    source: tuple[_Cached, int] | None = field(default=None, repr=False, compare=False)

    def messages(self) -> tuple[list[ChatMessage], bytes | None]:
        """The entries as messages, and their wire JSON joined (None when the window is not
        a run of cached entries): list slices and one join, no work per entry."""
        if self.source is not None and self.entries:
            cached, first = self.source
            found = cached.run(first, self.entries)
            if found is not None:
                return found
        return [entry_message(r) for r in self.entries], None


# A window row keeps the message made from it (rows of the window cache live across turns,
# so an entry is converted, and its wire JSON encoded, once per process).
_MESSAGE = "_message"


def entry_message(row: Row) -> ChatMessage:
    """The message a history entry row stands for (made once per row)."""
    message: ChatMessage | None = row.get(_MESSAGE)
    if message is None:
        message = row[_MESSAGE] = _to_message(row)
    return message


def _to_message(row: Row) -> ChatMessage:
    content, raw_calls = row["content"], row.get("tool_calls")
    if isinstance(content, str) and not raw_calls:  # most entries: plain text
        return ChatMessage(row["role"], content, row.get("name"), row.get("tool_call_id"))
    calls = [
        ToolCall(
            id=str(c.get("id", "")),
            name=str((c.get("function") or {}).get("name", c.get("name", ""))),
            arguments=_arguments((c.get("function") or {}).get("arguments", c.get("arguments"))),
        )
        for c in raw_calls or []
    ]
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
    conn: AsyncConnection,
    session_id: UUID,
    below: int | None,
    floor: int,
    with_tools: bool,
    size: int = PAGE,
) -> list[Row]:
    params = {"sid": session_id, "floor": floor, "below": below, "size": size}
    stmt = _page_stmt(below is not None, with_tools)
    return [dict(r) for r in (await conn.execute(stmt, params)).mappings()]


@functools.cache
def _page_stmt(bounded: bool, with_tools: bool) -> sa.Select[Any]:
    """Newest first: up to ``size`` entries above ``floor`` (and below ``below``)."""
    e = tables.entries
    stmt = _window_select().where(e.c.seq > sa.bindparam("floor"))
    if bounded:
        stmt = stmt.where(e.c.seq < sa.bindparam("below"))
    if not with_tools:
        stmt = stmt.where(e.c.source.not_in(TOOL_SOURCES))
    return stmt.order_by(e.c.seq.desc()).limit(sa.bindparam("size", type_=sa.Integer()))


async def entries_in(conn: AsyncConnection, session_id: UUID, ranges: list[list[int]]) -> list[Row]:
    """The window's entries whose ``seq`` is in the inclusive ``ranges``, oldest first (a
    stored turn trace names its window so)."""
    if not ranges:
        return []
    e = tables.entries
    inside = sa.or_(*(e.c.seq.between(low, high) for low, high in ranges))
    stmt = _window_select().where(inside).order_by(e.c.seq)
    return [dict(r) for r in (await conn.execute(stmt, {"sid": session_id})).mappings()]


def _window_select() -> sa.Select[Any]:
    e = tables.entries
    columns = [e.c[name] for name in WINDOW_COLUMNS]
    where = (e.c.session_id == sa.bindparam("sid"), e.c.source != "summarizer")
    return sa.select(*columns).where(*where)


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


class WindowCache:
    """The recent history entries of recently used sessions, kept in process memory.

    Valid while the session's ``summary_until`` is unchanged (a summary or a cleared
    history moves it); new entries are fetched incrementally (``seq`` above the newest
    cached one, up to the session's ``next_seq``), so a turn on a warm session reads only
    what was added since the last one. Safe across processes: the session row read at the
    start of the turn says what must be there.
    """

    def __init__(self, max_sessions: int = 1024, max_rows: int = 4096) -> None:
        self.max_sessions = max_sessions
        self.max_rows = max_rows
        self._data: OrderedDict[UUID, _Cached] = OrderedDict()

    def appended(self, session_id: UUID, floor: int, rows: list[Row]) -> None:
        """Rows this process just wrote: extend the cache, sparing the next turn a query."""
        cached = self._data.get(session_id)
        if cached is None or cached.floor != floor or not rows:
            return
        newest = cached.entries[-1]["seq"] if cached.entries else cached.floor
        if cached.oldest is not None and rows[0]["seq"] == newest + 1:
            cached.entries.extend(r for r in rows if r["source"] != "summarizer")

    async def rows(self, conn: AsyncConnection, session: Row) -> _Cached:
        sid, floor = session["id"], session["summary_until"]
        cached = self._data.get(sid)
        if cached is None or cached.floor != floor:
            cached = _Cached(floor, [], complete=False, oldest=None)
            self._data[sid] = cached
        self._data.move_to_end(sid)
        while len(self._data) > self.max_sessions:
            self._data.popitem(last=False)
        await cached.catch_up(conn, sid, session["next_seq"], self.max_rows)
        return cached


@dataclass
class _Cached:
    floor: int
    entries: list[Row]  # oldest first, all with seq > floor, summaries excluded
    complete: bool  # True when no older entry above the floor is missing
    oldest: int | None  # lowest seq fetched so far
    _sums: list[int] = field(default_factory=lambda: [0], repr=False)
    _sums_model: str = ""
    # the entries' messages and wire JSON, aligned with ``entries`` (extended as they grow)
    _messages: list[ChatMessage] = field(default_factory=list, repr=False)
    _wires: list[bytes] = field(default_factory=list, repr=False)

    def run(self, first: int, rows: list[Row]) -> tuple[list[ChatMessage], bytes] | None:
        """Messages and joined wire JSON of ``rows``, which must be ``entries[first:...]``
        (None when the entries moved since the window was cut)."""
        end = first + len(rows)
        entries = self.entries
        if end > len(entries) or entries[first] is not rows[0] or entries[end - 1] is not rows[-1]:
            return None
        if len(self._messages) > len(entries):
            self._messages, self._wires = [], []
        for row in entries[len(self._messages) : end]:
            message = entry_message(row)
            self._messages.append(message)
            self._wires.append(message.wire_json())
        return self._messages[first:end], b",".join(self._wires[first:end])

    async def catch_up(self, conn: AsyncConnection, sid: UUID, next_seq: int, cap: int) -> None:
        newest = self.entries[-1]["seq"] if self.entries else self.floor
        if self.oldest is None:
            rows = await _page(conn, sid, None, self.floor, True, PAGE)
            self.entries = list(reversed(rows))
            self._sums = [0]
            self.oldest = rows[-1]["seq"] if rows else self.floor
            self.complete = len(rows) < PAGE
        elif newest < next_seq - 1:
            fresh = await _after(conn, sid, newest)
            self.entries.extend(r for r in fresh if r["seq"] > newest)
        if len(self.entries) > cap:
            del self.entries[: len(self.entries) - cap]
            self.oldest, self.complete = self.entries[0]["seq"], False
            self._forget()

    def _forget(self) -> None:
        """The oldest entries changed: what is aligned with them is remade."""
        self._sums = [0]
        self._messages, self._wires = [], []

    def token_sums(self, model: ChatModel) -> list[int]:
        """Running token sums: ``sums[i]`` is what ``entries[:i]`` cost with ``model``'s
        counts (extended for entries added since the last call; remade for a new model)."""
        if self._sums_model != model.name or len(self._sums) > len(self.entries) + 1:
            self._sums, self._sums_model = [0], model.name
        sums = self._sums
        for row in self.entries[len(sums) - 1 :]:
            sums.append(sums[-1] + entry_tokens(model, row))
        return sums

    async def older(self, conn: AsyncConnection, sid: UUID, size: int) -> bool:
        """Prepend a page of older entries; False when there are none."""
        if self.complete or self.oldest is None:
            return False
        rows = await _page(conn, sid, self.oldest, self.floor, True, size)
        self._forget()  # the sums start at the oldest entry: remade
        self.entries[:0] = list(reversed(rows))
        if rows:
            self.oldest = rows[-1]["seq"]
        self.complete = len(rows) < size
        return bool(rows)


async def _after(conn: AsyncConnection, session_id: UUID, seq: int) -> list[Row]:
    params = {"sid": session_id, "seq": seq}
    return [dict(r) for r in (await conn.execute(_after_stmt(), params)).mappings()]


@functools.cache
def _after_stmt() -> sa.Select[Any]:
    e = tables.entries
    return _window_select().where(e.c.seq > sa.bindparam("seq")).order_by(e.c.seq)


async def load_window_cached(
    conn: AsyncConnection,
    model: ChatModel,
    session: Row,
    available: int,
    cache: WindowCache,
    *,
    with_tools: bool = True,
) -> Window:
    """``load_window`` served from the session's cached recent entries."""
    cached = await cache.rows(conn, session)
    if with_tools:
        return await _fit_cached(conn, cached, model, session["id"], available)
    tail = PAGE  # look at the newest entries first: a turn rarely needs the whole cache
    while True:
        rows = [r for r in cached.entries[-tail:] if r["source"] not in TOOL_SOURCES]
        window = Window(available=available)
        taken: list[list[Row]] = []
        if not _take(window, taken, _groups(list(reversed(rows))), model, available):
            break
        if tail < len(cached.entries):
            tail *= 4
        elif cached.complete or not await cached.older(conn, session["id"], max(PAGE, tail)):
            break
    window.entries = [row for group in reversed(taken) for row in group]
    return window


async def _fit_cached(
    conn: AsyncConnection, cached: _Cached, model: ChatModel, sid: UUID, available: int
) -> Window:
    """The newest cached entries that fit, found by bisecting the entries' running token
    sums (kept with the cache, extended as entries are added): no per-entry work per turn."""
    sums = cached.token_sums(model)
    while sums[-1] <= available and await cached.older(conn, sid, max(PAGE, len(sums))):
        sums = cached.token_sums(model)  # all fit: older entries may too
    total = sums[-1]
    entries = cached.entries
    if total <= available:
        return Window(entries=list(entries), tokens=total, available=available, source=(cached, 0))
    first = bisect.bisect_left(sums, total - available)  # the oldest entry that may stay
    while first < len(entries) and entries[first]["role"] == "tool":
        first += 1  # a tool result stays with the call it answers: whole groups only
    window = Window(
        entries=entries[first:], overflowed=True, available=available, source=(cached, first)
    )
    window.tokens = total - sums[first]
    window.dropped_before_seq = entries[first - 1]["seq"] + 1
    return window


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
    newest_first: list[list[Row]] = []
    below: int | None = None
    carry: list[Row] = []
    size = PAGE
    while True:
        rows = await _page(conn, session["id"], below, session["summary_until"], with_tools, size)
        if not rows:
            break
        below = rows[-1]["seq"]
        groups = _groups(carry + rows)
        # the oldest group of a page may continue on the next page: hold it back
        carry = groups.pop() if len(rows) == size and groups else []
        if not _take(window, newest_first, groups, model, available):
            carry = []
            break
        size = min(size * 4, 4096)  # a long window: fewer, bigger pages
    if carry:
        _take(window, newest_first, [carry], model, available)
    window.entries = [row for group in reversed(newest_first) for row in group]
    return window


def trim_window(window: Window, model: ChatModel, available: int) -> Window:
    """The newest part of ``window`` that fits in ``available`` tokens: what loading with
    that budget would have given, without reading again (whole tool groups only)."""
    if window.tokens <= available:
        return replace(window, available=available)
    cut = Window(available=available)
    taken: list[list[Row]] = []
    _take(cut, taken, _groups(list(reversed(window.entries))), model, available)
    cut.entries = [row for group in reversed(taken) for row in group]
    if window.source is not None:  # the newest entries: still a run of the cached ones
        cached, first = window.source
        cut.source = (cached, first + len(window.entries) - len(cut.entries))
    return cut


def _take(
    window: Window,
    taken: list[list[Row]],
    groups: list[list[Row]],
    model: ChatModel,
    available: int,
) -> bool:
    """Add whole groups (newest first) while they fit; False once one does not."""
    for group in groups:
        if len(group) == 1:  # most groups: one message, no tool calls
            cost = entry_tokens(model, group[0])
        else:
            cost = sum(entry_tokens(model, r) for r in group)
            group = sorted(group, key=lambda r: r["seq"])
        if window.tokens + cost > available:
            window.overflowed = True
            window.dropped_before_seq = group[-1]["seq"] + 1
            return False
        window.tokens += cost
        taken.append(group)
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
    said = [(row.get("name") or row["role"], entry_message(row).text()) for row in rows]
    return summary_prompt(previous, said)


def summary_prompt(previous: str | None, said: Sequence[tuple[str, str]]) -> list[ChatMessage]:
    """The summariser's request: its instructions, then who said what (and any earlier
    summary) as one user message."""
    lines = [f"Earlier summary: {previous}"] if previous else []
    lines += [f"{who}: {text}" for who, text in said]
    return [
        ChatMessage(role="system", content=SUMMARY_PROMPT.format(words=200)),
        ChatMessage(role="user", content="\n".join(lines)),
    ]
