"""``/v1/responses``: OpenAI Responses as Sprig chat turns, stored for chaining.

A response runs like a chat completion (``completions``): on an agent as a transient turn,
on a raw model as a pass-through, or in a conversation (a Sprig session, by its id) as a
stateful turn. ``previous_response_id`` continues a stored chain: the items of every
response up to it (inputs and outputs, ``instructions`` excepted, as OpenAI does) come
before the new input. ``truncation: auto`` drops the oldest of those items until the turn
fits; ``disabled`` answers 400 ``context_overflow``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from sprig.server.chat.turn import ChatOptions
from sprig.server.chat.window import ContextOverflowError
from sprig.server.errors import (
    BadRequestError,
    NotFoundError,
    SprigError,
)
from sprig.server.ids import new_id, utcnow
from sprig.server.jobs.service import enqueue
from sprig.server.jobs.worker import Handler
from sprig.server.models.base import Usage
from sprig.server.openai import compaction, targets
from sprig.server.openai import items as it
from sprig.server.openai import response_store as store
from sprig.server.openai.completions import Completions, Plan
from sprig.server.openai.schemas import ResponseIn
from sprig.server.openai.vector_stores import VectorStoresService, file_search_item
from sprig.server.openai.wire import Event, Reply
from sprig.server.resources.sessions import join_agent
from sprig.server.runtime import Runtime
from sprig.server.store import tables


@dataclass
class Prepared:
    """A request made ready: its plan, its input items and where it continues from."""

    plan: Plan
    input_items: list[it.Item]
    previous_id: UUID | None
    opener: it.Opener
    history: list[it.Item] = field(default_factory=list)
    searched: it.Item | None = None  # the file_search_call item, when file_search ran
    excerpts: str | None = None  # what it found, for the model


class ResponsesService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.completions = Completions(runtime)

    # -- create ----------------------------------------------------------------------------
    async def prepare(
        self, developer_id: UUID, body: ResponseIn, local: LocalChains | None = None
    ) -> Prepared:
        session_id = _conversation_id(body)
        if session_id is not None and body.previous_response_id:
            raise BadRequestError(
                "`previous_response_id` and `conversation` cannot both be given",
                param="previous_response_id",
            )
        input_items = it.normalise_input(body.input)
        async with self.runtime.db.read() as conn:
            target = await targets.resolve(conn, developer_id, self.runtime.models, body.model)
            history, previous_id = await self._history(conn, developer_id, body, local)
        if session_id is not None:
            await self._enter(developer_id, session_id, target, body)
        opener = compaction.opener(self.runtime, developer_id)
        stateful = session_id is not None
        searched, excerpts = await self._file_search(developer_id, body, input_items)
        options = _options(body, target, history, input_items, opener, stateful, excerpts)
        plan = Plan(target, session_id, options, None)
        return Prepared(plan, input_items, previous_id, opener, history, searched, excerpts)

    async def _file_search(
        self, developer_id: UUID, body: ResponseIn, input_items: list[it.Item]
    ) -> tuple[it.Item | None, str | None]:
        """``file_search`` tools: the vector stores are searched with the newest user text
        before the model is called; what was found reaches it as excerpts (a system
        message). The ``file_search_call`` item, and the excerpts."""
        tools = [t for t in body.tools or [] if t.get("type") == "file_search"]
        query = _last_user_text(input_items)
        if not tools or not query:
            return None, None
        ids = [str(i) for t in tools for i in t.get("vector_store_ids") or []]
        limit = min(int(tools[0].get("max_num_results") or 10), 50)
        hits = await VectorStoresService(self.runtime).search_many(developer_id, ids, query, limit)
        return file_search_item(query, hits), _excerpts(hits) if hits else None

    async def _enter(
        self, developer_id: UUID, session_id: UUID, target: targets.Target, body: ResponseIn
    ) -> None:
        """The conversation must be the tenant's; an agent named as the model joins it."""
        s = tables.sessions
        mine = sa.select(s.c.id).where(s.c.id == session_id, s.c.developer_id == developer_id)
        async with self.runtime.db.write() as conn:
            if (await conn.execute(mine)).first() is None:
                given = body.conversation
                shown = given.get("id") if isinstance(given, dict) else given
                raise NotFoundError(
                    f"Conversation with id '{shown}' not found.", param="conversation"
                )
            if isinstance(target, targets.AgentTarget):
                await join_agent(conn, developer_id, session_id, target.agent["id"])

    async def _history(
        self, conn: Any, developer_id: UUID, body: ResponseIn, local: LocalChains | None
    ) -> tuple[list[it.Item], UUID | None]:
        if not body.previous_response_id:
            return [], None
        previous = store.parse_id(body.previous_response_id, previous=True)
        held = local.get(previous) if local is not None else None
        if held is not None:
            return held, previous
        items, _ = await store.chain_items(conn, developer_id, previous)
        return items, previous

    async def create(self, developer_id: UUID, body: ResponseIn) -> dict[str, Any]:
        if body.background:
            return await self._queue(developer_id, body)
        prepared = await self.prepare(developer_id, body)
        response_id, created = new_id(), int(utcnow().timestamp())
        _, reply = await self._complete(developer_id, body, prepared)
        output = it.output_items(reply)
        if prepared.searched:
            output.insert(0, prepared.searched)
        response = response_object(body, response_id, created, output, reply)
        await self._store(developer_id, body, prepared, response_id, response)
        return response

    # -- background --------------------------------------------------------------------------
    async def _queue(self, developer_id: UUID, body: ResponseIn) -> dict[str, Any]:
        """A background response: stored ``queued`` at once, run by a job (poll it with
        GET, stop it with cancel)."""
        if not body.store:
            raise BadRequestError("A background response must be stored", param="store")
        if body.stream:
            raise BadRequestError("Stream a background response by polling it", param="stream")
        prepared = await self.prepare(developer_id, body)  # a bad request fails now, not later
        response_id, created = new_id(), int(utcnow().timestamp())
        queued = response_object(body, response_id, created, [], None, status="queued")
        payload = {"response_id": str(response_id), "request": body.model_dump(mode="json")}
        async with self.runtime.db.write() as conn:
            await _save(conn, developer_id, prepared, response_id, queued)
            await enqueue(conn, developer_id, BACKGROUND_JOB, payload, max_attempts=1)
        self.runtime.worker.wake()
        return queued

    async def run_background(self, developer_id: UUID, payload: dict[str, Any]) -> None:
        """The job: run the queued response and store what came of it (a cancel wins)."""
        response_id = UUID(payload["response_id"])
        body = ResponseIn.model_validate(payload["request"])
        async with self.runtime.db.read() as conn:
            row = await store.get(conn, developer_id, response_id)
        if row is None or row["status"] != "queued":
            return  # deleted or cancelled before it ran
        created = int(row["body"]["created_at"])
        await self._settle(developer_id, response_id, {**row["body"], "status": "in_progress"})
        try:
            prepared = await self.prepare(developer_id, body)
            _, reply = await self._complete(developer_id, body, prepared)
        except Exception as exc:
            failed = response_object(body, response_id, created, [], None, status="failed")
            await self._settle(developer_id, response_id, {**failed, "error": _error(exc)})
            if not isinstance(exc, SprigError):
                raise
            return
        output = [prepared.searched] if prepared.searched else []
        output += it.output_items(reply)
        done = response_object(body, response_id, created, output, reply)
        await self._settle(developer_id, response_id, done)

    async def _settle(self, developer_id: UUID, response_id: UUID, body: dict[str, Any]) -> None:
        async with self.runtime.db.write() as conn:
            await store.settle(conn, developer_id, response_id, body)

    async def _complete(
        self, developer_id: UUID, body: ResponseIn, prepared: Prepared
    ) -> tuple[Any, Reply]:
        while True:
            try:
                return await self.completions.complete(developer_id, prepared.plan)
            except ContextOverflowError:
                if not _shorten(body, prepared):
                    raise

    async def _store(
        self,
        developer_id: UUID,
        body: ResponseIn,
        prepared: Prepared,
        response_id: UUID,
        response: dict[str, Any],
    ) -> None:
        if not body.store:
            return
        async with self.runtime.db.write() as conn:
            await _save(conn, developer_id, prepared, response_id, response)

    # -- stream ----------------------------------------------------------------------------
    async def stream(
        self, developer_id: UUID, body: ResponseIn, local: LocalChains | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The typed events. Errors before the model is called raise here; later ones end
        the stream with ``response.failed``. ``local``: a WebSocket's chains of responses
        not stored, which ``previous_response_id`` may continue."""
        prepared = await self.prepare(developer_id, body, local)
        while True:
            try:
                _, events = await self.completions.stream(developer_id, prepared.plan)
                break
            except ContextOverflowError:
                if not _shorten(body, prepared):
                    raise
        return self._events(developer_id, body, prepared, events, local)

    async def _events(
        self,
        developer_id: UUID,
        body: ResponseIn,
        prepared: Prepared,
        events: AsyncIterator[Event],
        local: LocalChains | None,
    ) -> AsyncIterator[dict[str, Any]]:
        response_id, created = new_id(), int(utcnow().timestamp())
        sse = _Sequence()
        pending = response_object(body, response_id, created, [], None, status="in_progress")
        yield sse.event("response.created", response=pending)
        yield sse.event("response.in_progress", response=pending)
        searched = [prepared.searched] if prepared.searched else []
        for index, item in enumerate(searched):
            yield sse.event("response.output_item.added", output_index=index, item=item)
            yield sse.event("response.output_item.done", output_index=index, item=item)
        text = _TextItem(it.item_id("msg"), len(searched))
        try:
            reply: Reply | None = None
            async for event in events:
                if isinstance(event, str):
                    for out in text.delta(sse, event):
                        yield out
                else:
                    reply = event
            assert reply is not None
        except Exception as exc:  # the stream has started: say what failed, as OpenAI does
            failed = response_object(body, response_id, created, [], None, status="failed")
            failed["error"] = _error(exc)
            yield sse.event("response.failed", response=failed)
            return
        output: list[it.Item] = list(searched)
        if reply.content or not reply.tool_calls:
            for out in text.close(sse, reply.content):
                yield out
            output.append(text.done_item)
        for call in reply.tool_calls:
            item = it.call_item(it.item_id("fc"), call)
            for out in _call_events(sse, len(output), item):
                yield out
            output.append(item)
        response = response_object(body, response_id, created, output, reply)
        await self._store(developer_id, body, prepared, response_id, response)
        if local is not None and not body.store:
            local.put(response_id, [*prepared.history, *prepared.input_items, *output])
        kind = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
        yield sse.event(kind, response=response)

    # -- read ------------------------------------------------------------------------------
    async def get(self, developer_id: UUID, given: str) -> dict[str, Any]:
        row = await self._row(developer_id, given)
        return dict(row["body"])

    async def _row(self, developer_id: UUID, given: str) -> dict[str, Any]:
        async with self.runtime.db.read() as conn:
            row = await store.get(conn, developer_id, store.parse_id(given))
        if row is None:
            raise store.ResponseNotFoundError(given)
        return row

    async def delete(self, developer_id: UUID, given: str) -> dict[str, Any]:
        async with self.runtime.db.write() as conn:
            if not await store.delete(conn, developer_id, store.parse_id(given)):
                raise store.ResponseNotFoundError(given)
        return {"id": given, "object": "response", "deleted": True}

    async def input_items(
        self, developer_id: UUID, given: str, limit: int, order: str, after: str | None
    ) -> dict[str, Any]:
        row = await self._row(developer_id, given)
        listed = list(row["input"]) if order == "asc" else list(reversed(row["input"]))
        return it.page(listed, limit, after)

    async def cancel(self, developer_id: UUID, given: str) -> dict[str, Any]:
        """A queued or running background response stops: ``cancelled`` (a reply already
        on its way is not stored)."""
        row = await self._row(developer_id, given)
        body = dict(row["body"])
        if not body.get("background"):
            raise BadRequestError("Only background responses can be cancelled", param="response_id")
        if body["status"] in store.FINISHED:
            return body
        cancelled = {**body, "status": "cancelled"}
        async with self.runtime.db.write() as conn:
            await store.settle(conn, developer_id, row["id"], cancelled)
        return cancelled


BACKGROUND_JOB = "openai_response"


async def _save(
    conn: Any, developer_id: UUID, prepared: Prepared, response_id: UUID, body: dict[str, Any]
) -> None:
    await store.save(
        conn,
        developer_id,
        response_id,
        previous_id=prepared.previous_id,
        session_id=prepared.plan.session_id,
        input_items=prepared.input_items,
        body=body,
    )


def background_handler(runtime: Runtime) -> Handler:
    """The job handler of background responses."""

    async def run(developer_id: UUID, payload: dict[str, Any]) -> None:
        await ResponsesService(runtime).run_background(developer_id, payload)

    return run


class LocalChains:
    """A WebSocket connection's responses that were not stored: each one's whole chain of
    items, so ``previous_response_id`` continues them on that connection (and only there).
    Bounded: the oldest are dropped past ``limit``."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._chains: dict[UUID, list[it.Item]] = {}

    def get(self, response_id: UUID) -> list[it.Item] | None:
        return self._chains.get(response_id)

    def put(self, response_id: UUID, items: list[it.Item]) -> None:
        self._chains[response_id] = items
        while len(self._chains) > self.limit:
            self._chains.pop(next(iter(self._chains)))

    def evict(self, response_id: UUID) -> None:
        self._chains.pop(response_id, None)


def sse(events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    """The events as Server-Sent Events (``event:`` and ``data:`` lines)."""

    async def lines() -> AsyncIterator[str]:
        async for event in events:
            yield f"event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"

    return lines()


# -- the request ---------------------------------------------------------------------------
def _conversation_id(body: ResponseIn) -> UUID | None:
    given = body.conversation
    if isinstance(given, dict):
        given = given.get("id")
    if not given:
        return None
    try:
        return UUID(str(given).removeprefix("conv_"))
    except ValueError:
        raise BadRequestError(f"Not a conversation id: {given!r}", param="conversation") from None


def _options(
    body: ResponseIn,
    target: targets.Target,
    history: list[it.Item],
    input_items: list[it.Item],
    opener: it.Opener,
    stateful: bool,
    excerpts: str | None = None,
) -> ChatOptions:
    messages = it.to_messages([*history, *input_items], opener)
    for system in (excerpts, body.instructions):  # instructions first, then the excerpts
        if system:
            messages.insert(0, {"role": "system", "content": system})
    agent_id = target.agent["id"] if isinstance(target, targets.AgentTarget) else None
    return ChatOptions(
        messages=messages,
        sampling=body.sampling(),
        response_format=_format(body),
        agent_id=agent_id if stateful else None,
        model=target.model.name if isinstance(target, targets.RawTarget) else None,
        metadata=dict(body.metadata or {}),
        tools=[d for i, t in enumerate(body.tools or []) if (d := _tool(t, i)) is not None],
        tool_choice=_tool_choice(body.tool_choice),
    )


def _shorten(body: ResponseIn, prepared: Prepared) -> bool:
    """``truncation: auto``: drop the oldest quarter of the chain's items (and any tool
    output left without its call); False when there is nothing left to drop."""
    history = prepared.history
    if body.truncation != "auto" or not history:
        return False
    cut = max(1, len(history) // 4)
    while cut < len(history) and history[cut]["type"] == "function_call_output":
        cut += 1
    prepared.history = history[cut:]
    stateful = prepared.plan.session_id is not None
    target, items, opener = prepared.plan.target, prepared.input_items, prepared.opener
    options = _options(body, target, prepared.history, items, opener, stateful, prepared.excerpts)
    prepared.plan = Plan(prepared.plan.target, prepared.plan.session_id, options, None)
    return True


def _format(body: ResponseIn) -> dict[str, Any] | None:
    fmt = (body.text.format if body.text else None) or {"type": "text"}
    kind = fmt.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        return {"type": "json_schema", "json_schema": schema}
    raise BadRequestError(f"Unknown text format {kind!r}", param="text.format.type")


def _last_user_text(items: list[it.Item]) -> str:
    for item in reversed(items):
        if item["type"] == "message" and item["role"] == "user":
            return "".join(p.get("text", "") for p in item["content"]).strip()
    return ""


def _excerpts(hits: list[dict[str, Any]]) -> str:
    lines = ["Excerpts of the user's files found for this request:"]
    lines += [f"[{h['filename']}] {h['content'][0]['text']}" for h in hits]
    return "\n\n".join(lines)


def _tool(raw: dict[str, Any], index: int) -> dict[str, Any] | None:
    if raw.get("type") == "file_search":
        if not isinstance(raw.get("vector_store_ids"), list):
            raise BadRequestError("file_search needs vector_store_ids", param=f"tools[{index}]")
        return None  # searched before the model is called (_file_search)
    if raw.get("type") != "function" or not isinstance(raw.get("name"), str):
        kind = raw.get("type")
        raise BadRequestError(
            f"Tools of type {kind!r} are not supported here (function and file_search are)",
            param=f"tools[{index}]",
        )
    function = {k: raw[k] for k in ("name", "description", "parameters") if k in raw}
    return {"type": "function", "function": function}


def _tool_choice(choice: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
    if isinstance(choice, dict):
        if choice.get("type") != "function" or not isinstance(choice.get("name"), str):
            raise BadRequestError("Unsupported tool_choice", param="tool_choice")
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice


# -- the response ----------------------------------------------------------------------------
def response_object(
    body: ResponseIn,
    response_id: UUID,
    created: int,
    output: list[it.Item],
    reply: Reply | None,
    status: str | None = None,
) -> dict[str, Any]:
    incomplete = reply is not None and reply.finish_reason == "length"
    if status is None:
        status = "incomplete" if incomplete else "completed"
    conversation = _conversation_id(body)
    finished = status in ("completed", "incomplete")
    return {
        "id": store.wire_id(response_id),
        "object": "response",
        "created_at": created,
        "completed_at": int(utcnow().timestamp()) if finished else None,
        "status": status,
        "background": body.background,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": body.instructions,
        "max_output_tokens": body.max_output_tokens,
        "model": body.model,
        "output": output,
        "parallel_tool_calls": body.parallel_tool_calls,
        "previous_response_id": body.previous_response_id,
        "reasoning": {"effort": None, "summary": None},
        "store": body.store,
        "temperature": 1.0 if body.temperature is None else body.temperature,
        "top_p": 1.0 if body.top_p is None else body.top_p,
        "presence_penalty": body.presence_penalty or 0.0,
        "frequency_penalty": body.frequency_penalty or 0.0,
        "top_logprobs": 0,
        "text": {"format": (body.text.format if body.text else None) or {"type": "text"}},
        "tool_choice": body.tool_choice or "auto",
        "tools": body.tools or [],
        "max_tool_calls": body.max_tool_calls,
        "truncation": body.truncation,
        "usage": _usage(reply.usage) if reply is not None else None,
        "user": body.user,
        "metadata": dict(body.metadata or {}),
        "service_tier": "default",
        "safety_identifier": body.safety_identifier,
        "prompt_cache_key": body.prompt_cache_key,
        "conversation": {"id": f"conv_{conversation.hex}"} if conversation else None,
    }


def _usage(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": u.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": u.total_tokens,
    }


def _error(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, SprigError):
        return {"code": exc.code, "message": exc.message}
    return {"code": "server_error", "message": "Internal server error"}


# -- streaming events ---------------------------------------------------------------------------
class _Sequence:
    def __init__(self) -> None:
        self.number = 0

    def event(self, kind: str, **fields: Any) -> dict[str, Any]:
        payload = {"type": kind, "sequence_number": self.number, **fields}
        self.number += 1
        return payload


class _TextItem:
    """The assistant message item of a stream: opened at its first text."""

    def __init__(self, item_id: str, index: int = 0) -> None:
        self.id = item_id
        self.index = index
        self.opened = False
        self.done_item: it.Item = {}

    def _open(self, sse: _Sequence) -> list[dict[str, Any]]:
        self.opened = True
        part = {"type": "output_text", "text": "", "annotations": []}
        where = {"item_id": self.id, "output_index": self.index, "content_index": 0}
        return [
            sse.event(
                "response.output_item.added",
                output_index=self.index,
                item=it.message_item(self.id, "", "in_progress"),
            ),
            sse.event("response.content_part.added", **where, part=part),
        ]

    def delta(self, sse: _Sequence, text: str) -> list[dict[str, Any]]:
        out = [] if self.opened else self._open(sse)
        where = {"item_id": self.id, "output_index": self.index, "content_index": 0}
        return [*out, sse.event("response.output_text.delta", **where, delta=text, logprobs=[])]

    def close(self, sse: _Sequence, text: str) -> list[dict[str, Any]]:
        out = [] if self.opened else self._open(sse)
        where = {"item_id": self.id, "output_index": self.index, "content_index": 0}
        part = {"type": "output_text", "text": text, "annotations": []}
        self.done_item = it.message_item(self.id, text)
        return [
            *out,
            sse.event("response.output_text.done", **where, text=text, logprobs=[]),
            sse.event("response.content_part.done", **where, part=part),
            sse.event("response.output_item.done", output_index=self.index, item=self.done_item),
        ]


def _call_events(sse: _Sequence, index: int, item: it.Item) -> list[dict[str, Any]]:
    opened = {**item, "arguments": "", "status": "in_progress"}
    where = {"item_id": item["id"], "output_index": index}
    return [
        sse.event("response.output_item.added", output_index=index, item=opened),
        sse.event("response.function_call_arguments.delta", **where, delta=item["arguments"]),
        sse.event("response.function_call_arguments.done", **where, arguments=item["arguments"]),
        sse.event("response.output_item.done", output_index=index, item=item),
    ]
