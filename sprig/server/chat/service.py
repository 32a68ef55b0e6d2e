"""The chat turn: prepare (turn.py), call the model, persist entries in one transaction.

Nothing here knows about HTTP. A model fault raises before anything is written; a stream
the client abandons is saved whole-as-far-as-it-went (marked ``partial``) or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.chat import window
from sprig.server.chat.recall import recall_docs, recall_query, turn_recall
from sprig.server.chat.templates import TemplateRenderer
from sprig.server.chat.turn import ChatOptions, ModelResolver, Turn, build_turn
from sprig.server.chat.window import WindowCache
from sprig.server.history.service import add_relations, append_entries
from sprig.server.ids import new_id, utcnow
from sprig.server.jobs.service import enqueue
from sprig.server.memory.service import enqueue_after_turn
from sprig.server.models.base import ChatMessage, ChatModel, Completion, CompletionChunk, Usage
from sprig.server.search.options import RecallOptions
from sprig.server.search.service import SearchService
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database
from sprig.server.tools.context import SystemServices, ToolContext
from sprig.server.tools.runner import ToolRunner


@dataclass
class ChatResult:
    id: UUID
    created_at: datetime
    content: str
    tool_calls: list[dict[str, Any]]
    finish_reason: str
    usage: Usage
    docs: list[Row] = field(default_factory=list)
    jobs: list[UUID] = field(default_factory=list)
    saved: bool = True
    entry_ids: list[UUID] = field(default_factory=list)
    # "max_tool_iterations": the tool loop hit its cap; "repetition": the model's loop guard
    stop_reason: str | None = None


@dataclass
class StreamStart:
    id: UUID
    created_at: datetime
    docs: list[Row]


@dataclass
class StreamDelta:
    content: str


@dataclass
class StreamToolStep:
    """Tools ran server-side: the assistant's calls, then one ``tool`` message per result."""

    messages: list[ChatMessage]


@dataclass
class StreamEnd:
    result: ChatResult


class MemoryRecaller(Protocol):
    async def recall(
        self,
        developer_id: UUID,
        agent_id: UUID,
        user_id: UUID | None,
        query_text: str,
        limit: int,
        lang: str | None = None,
    ) -> list[Row]: ...


StreamEvent = StreamStart | StreamDelta | StreamToolStep | StreamEnd


class ChatService:
    def __init__(
        self,
        db: Database,
        models: ModelResolver,
        tools: ToolRunner | None = None,
        services: SystemServices | None = None,
        max_tool_iterations: int = 8,
        search: SearchService | None = None,
        templates: TemplateRenderer | None = None,
    ) -> None:
        self.db = db
        self.models = models
        self.tools = tools or ToolRunner()
        self.services = services
        self.max_tool_iterations = max_tool_iterations
        self.search = search
        self.windows = WindowCache()
        self.templates = templates or TemplateRenderer()
        self.memory: MemoryRecaller | None = None
        self.suggest_after_turns = False
        self.on_jobs: Callable[[], None] = lambda: None  # wakes the in-process worker

    async def prepare(self, developer_id: UUID, session_id: UUID, options: ChatOptions) -> Turn:
        turn = await self.render(developer_id, session_id, options)
        policy = turn.session["context_overflow"]
        if turn.window.overflowed and policy == "summarize":
            await self._summarize(developer_id, turn)
            turn = await self.render(developer_id, session_id, options)
        return turn

    async def render(self, developer_id: UUID, session_id: UUID, options: ChatOptions) -> Turn:
        """The turn as the model will see it: recalled docs in the system template."""
        async with self.db.read() as conn:
            turn = await build_turn(
                conn,
                developer_id,
                session_id,
                options,
                self.models,
                None,
                self.windows,
                renderer=self.templates,
            )
        recall = turn_recall(turn, options)
        if self.search is None or recall is None:
            return turn
        text = recall_query(turn, recall)
        docs = await recall_docs(self.search, developer_id, turn, recall, text)
        memories = await self._recall_memories(developer_id, turn, recall, text)
        if not docs and not memories:
            return turn
        async with self.db.read() as conn:
            return await build_turn(
                conn,
                developer_id,
                session_id,
                options,
                self.models,
                docs,
                self.windows,
                memories,
                renderer=self.templates,
            )

    async def _recall_memories(
        self, developer_id: UUID, turn: Turn, recall: RecallOptions, text: str
    ) -> list[Row]:
        if self.memory is None or not turn.may_recall_memories():
            return []
        user_id = turn.users[0]["id"] if turn.users else None
        agent_id = turn.agent["id"]
        return await self.memory.recall(
            developer_id, agent_id, user_id, text, recall.limit, lang=recall.lang
        )

    async def complete(
        self, developer_id: UUID, session_id: UUID, options: ChatOptions
    ) -> ChatResult:
        turn = await self.prepare(developer_id, session_id, options)
        auto = turn.auto_run_tools(options)
        for step in range(self.max_tool_iterations):
            completion = await turn.model.complete(turn.request)
            if not await self._continue(developer_id, turn, completion, auto, step):
                break
        return await self._finish(developer_id, turn, options, completion, partial=False)

    async def _continue(
        self, developer_id: UUID, turn: Turn, completion: Completion, auto: bool, step: int
    ) -> bool:
        """Run the reply's tool calls server-side if asked and possible; True to call the
        model again. Calls for client-side tools (or past the cap) go back to the client."""
        if not (auto and completion.tool_calls):
            return False
        if step == self.max_tool_iterations - 1:
            turn.stop_reason = "max_tool_iterations"
            return False
        calls = completion.tool_calls
        by_name = {d.name: d for d in turn.tools}
        if any(c.name in by_name and by_name[c.name].client_side for c in calls):
            return False
        context = ToolContext(
            developer_id,
            turn.agent["id"],
            turn.session["id"],
            tuple(u["id"] for u in turn.users),
            self.services,
        )
        asked = ChatMessage("assistant", completion.content, turn.agent["name"], tool_calls=calls)
        results = [await self.tools.run_named(turn.tools, call, context) for call in calls]
        answers = [
            ChatMessage("tool", r.content, c.name, tool_call_id=c.id)
            for c, r in zip(calls, results, strict=True)
        ]
        turn.request.messages.extend([asked, *answers])
        turn.steps.extend([asked, *answers])
        return True

    async def stream(
        self, developer_id: UUID, session_id: UUID, options: ChatOptions
    ) -> AsyncIterator[StreamEvent]:
        """Prepare first (errors surface before any byte is sent), then stream."""
        turn = await self.prepare(developer_id, session_id, options)
        reply_id, created = new_id(), utcnow()
        return self._stream(developer_id, turn, options, reply_id, created)

    async def _stream(
        self,
        developer_id: UUID,
        turn: Turn,
        options: ChatOptions,
        reply_id: UUID,
        created: datetime,
    ) -> AsyncIterator[StreamEvent]:
        yield StreamStart(reply_id, created, turn.docs)
        auto = turn.auto_run_tools(options)
        done = Completion()
        parts: list[str] = []
        try:
            for step in range(self.max_tool_iterations):
                done, parts = Completion(), []
                async with contextlib.aclosing(turn.model.stream(turn.request)) as chunks:
                    async for chunk in chunks:
                        _fold(done, parts, chunk)
                        if chunk.content:
                            yield StreamDelta(chunk.content)
                done.content = "".join(parts)
                before = len(turn.steps)
                if not await self._continue(developer_id, turn, done, auto, step):
                    break
                yield StreamToolStep(turn.steps[before:])
        except (asyncio.CancelledError, GeneratorExit):
            done.content = "".join(parts)
            if options.save and done.content:
                save = self._finish(developer_id, turn, options, done, True, reply_id)
                await asyncio.shield(asyncio.ensure_future(save))
            raise
        done.content = "".join(parts)
        yield StreamEnd(await self._finish(developer_id, turn, options, done, False, reply_id))

    async def _finish(
        self,
        developer_id: UUID,
        turn: Turn,
        options: ChatOptions,
        completion: Completion,
        partial: bool,
        reply_id: UUID | None = None,
    ) -> ChatResult:
        reply_id = reply_id or new_id()
        calls = [c.to_openai() for c in completion.tool_calls]
        usage = completion.usage
        if not usage.prompt_tokens:
            usage = Usage(
                turn.model.count_message_tokens(turn.request.messages),
                usage.completion_tokens or turn.model.count_tokens(completion.content),
            )
        result = ChatResult(
            reply_id,
            utcnow(),
            completion.content,
            calls,
            completion.finish_reason,
            usage,
            turn.docs,
            stop_reason=turn.stop_reason or completion.stop_reason,
        )
        if not options.save:
            result.saved = False
            return result
        async with self.db.write() as conn:
            rows = await self._persist(conn, developer_id, turn, result, partial)
            entry_ids = [r["id"] for r in rows]
            result.jobs = await self._after_turn_jobs(conn, developer_id, turn, options, entry_ids)
        # committed: the window cache may take the rows without reading them back
        self.windows.appended(turn.session["id"], turn.session["summary_until"], rows)
        result.entry_ids = [r["id"] for r in rows]
        if result.jobs:
            self.on_jobs()
        return result

    async def _persist(
        self,
        conn: AsyncConnection,
        developer_id: UUID,
        turn: Turn,
        result: ChatResult,
        partial: bool,
    ) -> list[Row]:
        model = turn.model
        entries = [_entry(model, m) for m in [*turn.inputs, *turn.steps]]
        reply = ChatMessage(role="assistant", content=result.content, name=turn.agent["name"])
        reply_entry = {
            "id": result.id,
            "role": "assistant",
            "name": turn.agent["name"],
            "content": result.content,
            "source": "tool_request" if result.tool_calls else "api_response",
            "tool_calls": result.tool_calls or None,
            "model": model.name,
            "token_count": model.count_message_tokens([reply]),
            "tokenizer": model.name,
            "partial": partial,
        }
        return await append_entries(conn, developer_id, turn.session["id"], [*entries, reply_entry])

    async def _after_turn_jobs(
        self,
        conn: AsyncConnection,
        developer_id: UUID,
        turn: Turn,
        options: ChatOptions,
        entry_ids: list[UUID],
    ) -> list[UUID]:
        remember = options.remember if options.remember is not None else turn.session["remember"]
        later = await enqueue_after_turn(
            conn,
            developer_id,
            turn.session["id"],
            entry_ids,
            bool(remember),
            self.suggest_after_turns,
        )
        jobs = [job["id"] for job in later]
        if turn.window.overflowed and turn.session["context_overflow"] == "adaptive":
            job = await enqueue(
                conn,
                developer_id,
                "summarize_session",
                {
                    "session_id": str(turn.session["id"]),
                    "before_seq": turn.window.dropped_before_seq,
                },
                name="summarize",
            )
            jobs.append(job["id"])
        return jobs

    async def _summarize(self, developer_id: UUID, turn: Turn) -> None:
        """Summarise down to half the history budget, so the next turns need no new summary."""
        async with self.db.read() as conn:
            half = await window.load_window(
                conn, turn.model, turn.session, turn.window.available // 2
            )
        before = half.dropped_before_seq
        if before is not None:
            await summarize_session(self.db, self.models, developer_id, turn.session["id"], before)


def _fold(done: Completion, parts: list[str], chunk: CompletionChunk) -> None:
    parts.append(chunk.content)
    done.tool_calls.extend(chunk.tool_calls)
    if chunk.finish_reason is not None:
        done.finish_reason = chunk.finish_reason
    if chunk.usage is not None:
        done.usage = chunk.usage
    done.stop_reason = chunk.stop_reason or done.stop_reason


def _entry(model: ChatModel, message: ChatMessage) -> dict[str, Any]:
    source = "tool_response" if message.role == "tool" else "api_request"
    if message.tool_calls:
        source = "tool_request"
    return {
        "role": message.role,
        "name": message.name,
        "content": message.content,
        "source": source,
        "tool_call_id": message.tool_call_id,
        "tool_calls": [c.to_openai() for c in message.tool_calls] or None,
        "token_count": model.count_message_tokens([message]),
        "tokenizer": model.name,
    }


async def summarize_session(
    db: Database, models: ModelResolver, developer_id: UUID, session_id: UUID, before_seq: int
) -> UUID | None:
    """Fold history older than ``before_seq`` into the session's rolling summary.

    The summary is an entry (``source="summarizer"``) related to each entry it covers by
    ``summary_of``; the session's ``summary_until`` moves forward so turns skip the span.
    """
    from sprig.server.store import crud

    async with db.read() as conn:
        session = await crud.get(conn, tables.sessions, developer_id, session_id)
        if session is None or before_seq <= session["summary_until"] + 1:
            return None
        span = await window.span_to_summarize(conn, session, before_seq)
        agent_model = await _session_model(conn, developer_id, session_id)
    if not span:
        return None
    model = models.resolve(agent_model)
    messages = window.summary_request_messages(session["summary"], span)
    summary = (await model.complete(_summary_request(messages))).content.strip()
    async with db.write() as conn:
        current = await crud.get(conn, tables.sessions, developer_id, session_id)
        if current is None or current["summary_until"] >= span[-1]["seq"]:
            return None  # someone else summarised meanwhile
        entry = {
            "role": "system",
            "content": summary,
            "source": "summarizer",
            "model": model.name,
            "token_count": model.count_tokens(summary),
            "tokenizer": model.name,
        }
        rows = await append_entries(conn, developer_id, session_id, [entry])
        await add_relations(
            conn, developer_id, session_id, [(rows[0]["id"], "summary_of", r["id"]) for r in span]
        )
        await crud.update(
            conn,
            tables.sessions,
            developer_id,
            session_id,
            {"summary": summary, "summary_until": span[-1]["seq"]},
        )
        return UUID(str(rows[0]["id"]))


def _summary_request(messages: list[ChatMessage]) -> Any:
    from sprig.server.models.base import CompletionRequest, SamplingParams

    return CompletionRequest(
        messages=messages, sampling=SamplingParams(temperature=0.2, max_tokens=400)
    )


async def _session_model(conn: AsyncConnection, developer_id: UUID, session_id: UUID) -> str | None:
    import sqlalchemy as sa

    sp, a = tables.session_participants, tables.agents
    stmt = (
        sa.select(a.c.model)
        .join(sp, sp.c.participant_id == a.c.id)
        .where(
            sp.c.session_id == session_id, sp.c.kind == "agent", a.c.developer_id == developer_id
        )
        .order_by(sp.c.position)
        .limit(1)
    )
    row = (await conn.execute(stmt)).first()
    return str(row[0]) if row else None
