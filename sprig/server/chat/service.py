"""The chat turn: prepare (turn.py, render.py), call the model, persist entries in one transaction.

Nothing here knows about HTTP. A model fault raises before anything is written; a stream
the client abandons is saved whole-as-far-as-it-went (marked ``partial``) or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.chat import instrument, window
from sprig.server.chat.parties import Transient
from sprig.server.chat.recall import recall_docs, recall_query, turn_recall
from sprig.server.chat.render import NO_RECALL, render_turn
from sprig.server.chat.summary import summarize_session
from sprig.server.chat.templates import TemplateRenderer
from sprig.server.chat.turn import (
    ChatOptions,
    ModelResolver,
    PreparedTurn,
    Recalled,
    TurnInputs,
    TurnRun,
    load_inputs,
)
from sprig.server.chat.window import WindowCache
from sprig.server.history.service import append_entries
from sprig.server.ids import new_id, utcnow
from sprig.server.jobs.service import enqueue
from sprig.server.memory.service import enqueue_after_turn
from sprig.server.models.base import ChatMessage, ChatModel, Completion, CompletionChunk, Usage
from sprig.server.observability import timeline, tracing, turn_traces
from sprig.server.search.options import RecallOptions
from sprig.server.search.service import SearchService
from sprig.server.store.crud import Row
from sprig.server.store.db import Database
from sprig.server.tools.context import SystemServices, ToolContext
from sprig.server.tools.runner import ToolRunner
from sprig.server.tools.types import ToolResult
from sprig.server.usage.meter import UsageMeter, model_counts
from sprig.server.usage.store import Counts


@dataclass(frozen=True)
class TurnPolicy:
    """How turns run: the tool loop's cap, suggestions after a turn, stored traces (kept
    so; None: none stored)."""

    max_tool_iterations: int = 8
    suggest_after_turns: bool = False
    traces: turn_traces.TraceRetention | None = None


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
    """Prepares a turn (inputs read once, recall, render), runs it, saves it."""

    def __init__(
        self,
        db: Database,
        models: ModelResolver,
        *,
        tools: ToolRunner | None = None,
        services: SystemServices | None = None,
        search: SearchService | None = None,
        memory: MemoryRecaller | None = None,
        templates: TemplateRenderer | None = None,
        policy: TurnPolicy | None = None,
        on_jobs: Callable[[], None] = lambda: None,
        meter: UsageMeter | None = None,
    ) -> None:
        self.db = db
        self.models = models
        self.tools = tools or ToolRunner()
        self.services = services
        self.search = search
        self.memory = memory
        self.templates = templates or TemplateRenderer()
        self.policy = policy or TurnPolicy()
        self.on_jobs = on_jobs  # wakes the in-process worker
        self.meter = meter  # records each turn's usage (usage/meter.py)
        self.windows = WindowCache()

    async def prepare(
        self, developer_id: UUID, session_id: UUID | Transient, options: ChatOptions
    ) -> PreparedTurn:
        turn = await self.render(developer_id, session_id, options)
        policy = turn.session["context_overflow"]
        if turn.window.overflowed and policy == "summarize":
            await self._summarize(developer_id, turn)
            turn = await self.render(developer_id, session_id, options)  # the session moved
        return turn

    async def render(
        self, developer_id: UUID, session_id: UUID | Transient, options: ChatOptions
    ) -> PreparedTurn:
        """The turn as the model will see it: recalled docs and memories in the system
        template. The session, its parties and tools are read once (``mcp`` tools: their
        servers' tools, from the cache, after the read)."""
        with timeline.phase(timeline.CONTEXT):
            async with self.db.read() as conn:
                inputs = await load_inputs(
                    conn, developer_id, session_id, options, self.models, self.windows
                )
            inputs = await self._mcp_tools(developer_id, inputs)
        recalled = await self._recall(developer_id, inputs, options)
        return await render_turn(inputs, options, self.templates, recalled)

    async def _mcp_tools(self, developer_id: UUID, inputs: TurnInputs) -> TurnInputs:
        if not any(t.mcp_source for t in inputs.tools):
            return inputs
        context = self._tool_context(developer_id, inputs.session, inputs.agent, inputs.users)
        return replace(inputs, tools=await self.tools.expand(inputs.tools, context))

    def _tool_context(
        self, developer_id: UUID, session: Row, agent: Row, users: list[Row]
    ) -> ToolContext:
        user_ids = tuple(u["id"] for u in users)
        return ToolContext(developer_id, agent["id"], session["id"], user_ids, self.services)

    async def _recall(
        self, developer_id: UUID, inputs: TurnInputs, options: ChatOptions
    ) -> Recalled:
        recall = turn_recall(inputs, options)
        if self.search is None or recall is None:
            return NO_RECALL
        query = recall_query(inputs, options, recall)
        attributes = {"gen_ai.operation.name": "retrieval", "gen_ai.retrieval.top_k": recall.limit}
        with timeline.phase(timeline.RECALL, "retrieval", attributes) as span:
            docs = await recall_docs(self.search, developer_id, inputs, recall, query)
            memories = await self._recall_memories(developer_id, inputs, recall, query)
            tracing.set_content(span, "gen_ai.retrieval.query.text", query)
        return Recalled(docs, memories, query)

    async def _recall_memories(
        self, developer_id: UUID, inputs: TurnInputs, recall: RecallOptions, query: str
    ) -> list[Row]:
        if self.memory is None or not inputs.may_recall_memories():
            return []
        user_id = inputs.users[0]["id"] if inputs.users else None
        return await self.memory.recall(
            developer_id, inputs.agent["id"], user_id, query, recall.limit, lang=recall.lang
        )

    async def complete(
        self, developer_id: UUID, session_id: UUID | Transient, options: ChatOptions
    ) -> ChatResult:
        line = timeline.begin_turn()
        with tracing.span(instrument.AGENT_SPAN) as span:
            run = TurnRun(await self.prepare(developer_id, session_id, options), timeline=line)
            instrument.agent_started(span, run.turn)
            result = await self._complete(developer_id, run, options)
            instrument.agent_finished(span, result)
            return result

    async def _complete(self, developer_id: UUID, run: TurnRun, options: ChatOptions) -> ChatResult:
        auto = run.turn.auto_run_tools(options)
        try:
            for step in range(self.policy.max_tool_iterations):
                request = run.request()
                with instrument.model_call(run, request) as span:
                    completion = await run.turn.model.complete(request)
                    instrument.model_answered(span, run.turn.model.name, completion)
                if not await self._continue(developer_id, run, completion, auto, step):
                    break
            return await self._finish(developer_id, run, options, completion, partial=False)
        except Exception:
            instrument.observe(run, "error")
            raise

    async def _continue(
        self, developer_id: UUID, run: TurnRun, completion: Completion, auto: bool, step: int
    ) -> bool:
        """Run the reply's tool calls server-side if asked and possible; True to call the
        model again. Calls for client-side tools (or past the cap) go back to the client."""
        if not (auto and completion.tool_calls):
            return False
        if step == self.policy.max_tool_iterations - 1:
            run.stop_reason = "max_tool_iterations"
            return False
        by_name = {d.name: d for d in run.turn.tools}
        if any(c.name in by_name and by_name[c.name].client_side for c in completion.tool_calls):
            return False
        run.steps.extend(await self._run_tools(developer_id, run.turn, completion))
        run.spent(completion.usage)
        return True

    async def _run_tools(
        self, developer_id: UUID, turn: PreparedTurn, completion: Completion
    ) -> list[ChatMessage]:
        """The assistant's calls, then one ``tool`` message per result."""
        context = self._tool_context(developer_id, turn.session, turn.agent, turn.users)
        calls = completion.tool_calls
        asked = ChatMessage("assistant", completion.content, turn.agent["name"], tool_calls=calls)
        results = [await self.tools.run_named(turn.tools, call, context) for call in calls]
        answers = [
            ChatMessage("tool", _tool_content(r, turn.model), c.name, tool_call_id=c.id)
            for c, r in zip(calls, results, strict=True)
        ]
        return [asked, *answers]

    async def stream(
        self, developer_id: UUID, session_id: UUID | Transient, options: ChatOptions
    ) -> AsyncIterator[StreamEvent]:
        """Prepare first (errors surface before any byte is sent), then stream."""
        line = timeline.begin_turn()
        span = tracing.start(instrument.AGENT_SPAN)
        try:
            with tracing.within(span):
                run = TurnRun(await self.prepare(developer_id, session_id, options), timeline=line)
        except BaseException as exc:
            tracing.end(span, exc)
            raise
        instrument.agent_started(span, run.turn)
        return self._traced_stream(developer_id, run, options, span)

    async def _traced_stream(
        self, developer_id: UUID, run: TurnRun, options: ChatOptions, span: Any
    ) -> AsyncIterator[StreamEvent]:
        """The stream inside the turn's span (ended with it) and timeline (the generator
        runs in the response's task)."""
        timeline.use(run.timeline)
        error: BaseException | None = None
        try:
            with tracing.within(span):
                reply_id, created = new_id(), utcnow()
                async for event in self._stream(developer_id, run, options, reply_id, created):
                    if isinstance(event, StreamEnd):
                        instrument.agent_finished(span, event.result)
                    yield event
        except BaseException as exc:
            error = exc
            raise
        finally:
            tracing.end(span, error)

    async def _stream(
        self,
        developer_id: UUID,
        run: TurnRun,
        options: ChatOptions,
        reply_id: UUID,
        created: datetime,
    ) -> AsyncIterator[StreamEvent]:
        yield StreamStart(reply_id, created, run.turn.docs)
        auto = run.turn.auto_run_tools(options)
        done = Completion()
        parts: list[str] = []
        try:
            for step in range(self.policy.max_tool_iterations):
                done, parts = Completion(), []
                request, first = run.request(), instrument.FirstToken(run)
                with instrument.model_call(run, request) as span:
                    async with contextlib.aclosing(run.turn.model.stream(request)) as chunks:
                        async for chunk in chunks:
                            _fold(done, parts, chunk)
                            if chunk.content:
                                first.saw()
                                yield StreamDelta(chunk.content)
                    done.content = "".join(parts)
                    instrument.model_answered(span, run.turn.model.name, done)
                before = len(run.steps)
                if not await self._continue(developer_id, run, done, auto, step):
                    break
                yield StreamToolStep(run.steps[before:])
        except (asyncio.CancelledError, GeneratorExit):
            instrument.observe(run, "cancelled")
            done.content = "".join(parts)
            if _saves(run, options) and done.content:
                save = self._finish(developer_id, run, options, done, True, reply_id)
                await asyncio.shield(asyncio.ensure_future(save))
            raise
        except Exception:
            instrument.observe(run, "error")
            raise
        done.content = "".join(parts)
        yield StreamEnd(await self._finish(developer_id, run, options, done, False, reply_id))

    async def _finish(
        self,
        developer_id: UUID,
        run: TurnRun,
        options: ChatOptions,
        completion: Completion,
        partial: bool,
        reply_id: UUID | None = None,
    ) -> ChatResult:
        """The turn's result, saved (unless it is not to be); a whole turn is counted."""
        saving = time.perf_counter()
        with tracing.span("sprig.persist"):
            result = await self._save(developer_id, run, options, completion, partial, reply_id)
        run.timeline.add(timeline.PERSIST, saving)
        if not partial:
            instrument.observe(run, "ok")
            instrument.count_tokens(run, developer_id, result)
        return result

    async def _save(
        self,
        developer_id: UUID,
        run: TurnRun,
        options: ChatOptions,
        completion: Completion,
        partial: bool,
        reply_id: UUID | None,
    ) -> ChatResult:
        result = _result(run, completion, reply_id or new_id())
        counts = _counts(run, result)
        if not _saves(run, options):
            result.saved = False
            if self.meter is not None:
                await self.meter.record(developer_id, run.turn.model.name, counts)
            return result
        turn, saving = run.turn, time.perf_counter()
        async with self.db.write() as conn:
            rows = await self._persist(conn, developer_id, run, result, partial)
            entry_ids = [r["id"] for r in rows]
            result.jobs = await self._after_turn_jobs(conn, developer_id, turn, options, entry_ids)
            if self.policy.traces is not None:
                trace = turn_traces.build(run, result, partial, saving)
                seqs = rows[0]["seq"], rows[-1]["seq"]
                await turn_traces.save(conn, developer_id, trace, seqs, self.policy.traces)
            if self.meter is not None:  # last: the usage row is locked until the commit
                await self.meter.add(conn, developer_id, turn.model.name, counts)
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
        run: TurnRun,
        result: ChatResult,
        partial: bool,
    ) -> list[Row]:
        turn, model = run.turn, run.turn.model
        counts: list[int | None] = [*turn.counted.messages] or [None] * len(turn.messages)
        entries = [_entry(model, m, n) for m, n in zip(turn.messages, counts, strict=True)]
        entries += [_entry(model, m) for m in run.steps]
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
        turn: PreparedTurn,
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
            self.policy.suggest_after_turns,
        )
        jobs = [job["id"] for job in later]
        if turn.window.overflowed and turn.session["context_overflow"] == "adaptive":
            jobs.append(await _enqueue_summary(conn, developer_id, turn))
        return jobs

    async def _summarize(self, developer_id: UUID, turn: PreparedTurn) -> None:
        """Summarise down to half the history budget, so the next turns need no new summary."""
        async with self.db.read() as conn:
            half = await window.load_window(
                conn, turn.model, turn.session, turn.window.available // 2
            )
        before = half.dropped_before_seq
        if before is not None:
            await summarize_session(self.db, self.models, developer_id, turn.session["id"], before)


async def _enqueue_summary(conn: AsyncConnection, developer_id: UUID, turn: PreparedTurn) -> UUID:
    payload = {
        "session_id": str(turn.session["id"]),
        "before_seq": turn.window.dropped_before_seq,
    }
    job = await enqueue(conn, developer_id, "summarize_session", payload, name="summarize")
    return UUID(str(job["id"]))


def _saves(run: TurnRun, options: ChatOptions) -> bool:
    """A transient turn (no stored session) is never saved."""
    return options.save and not run.turn.session.get("transient")


def _result(run: TurnRun, completion: Completion, reply_id: UUID) -> ChatResult:
    usage, model = completion.usage, run.turn.model
    if not usage.prompt_tokens:  # the provider said nothing: what rendering counted
        steps = model.count_message_tokens(run.steps) if run.steps else 0
        usage = Usage(
            run.turn.counted.prompt + steps,
            usage.completion_tokens or model.count_tokens(completion.content),
        )
    return ChatResult(
        reply_id,
        utcnow(),
        completion.content,
        [c.to_openai() for c in completion.tool_calls],
        completion.finish_reason,
        usage,
        run.turn.docs,
        stop_reason=run.stop_reason or completion.stop_reason,
    )


def _counts(run: TurnRun, result: ChatResult) -> Counts:
    """The turn's usage: every model call of it, the server-run tool calls."""
    usage = Usage(
        run.earlier.prompt_tokens + result.usage.prompt_tokens,
        run.earlier.completion_tokens + result.usage.completion_tokens,
    )
    tool_calls = sum(1 for m in run.steps if m.role == "tool")
    return model_counts(run.turn.model, usage, tool_calls=tool_calls)


def _tool_content(result: ToolResult, model: ChatModel) -> str | list[dict[str, Any]]:
    """A result's JSON, with its content parts (images) for a model that takes them."""
    if result.parts and model.capabilities.tool_images:
        return [{"type": "text", "text": result.content}, *result.parts]
    return result.content


def _fold(done: Completion, parts: list[str], chunk: CompletionChunk) -> None:
    parts.append(chunk.content)
    done.tool_calls.extend(chunk.tool_calls)
    if chunk.finish_reason is not None:
        done.finish_reason = chunk.finish_reason
    if chunk.usage is not None:
        done.usage = chunk.usage
    done.stop_reason = chunk.stop_reason or done.stop_reason


def _entry(model: ChatModel, message: ChatMessage, tokens: int | None = None) -> dict[str, Any]:
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
        "token_count": model.count_message_tokens([message]) if tokens is None else tokens,
        "tokenizer": model.name,
    }
