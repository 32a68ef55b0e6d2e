"""``POST /v1/chat/completions`` as Sprig chat turns.

Three ways, by what ``model`` names and whether a session is named:

- an agent, no session: a transient turn (``chat.parties.Transient``): the agent's
  instructions, tools (its own run here; the request's function tools go back to the
  client), docs recall and memories, over the conversation the client sends; nothing is
  saved. With ``store: true`` a session is made for it and the exchange saved there.
- a named session (``metadata.sprig_session_id`` or the ``x-sprig-session-id`` header):
  a stateful turn. The request's messages after its last assistant message are appended
  (clients that resend the whole conversation and clients that send only what is new both
  work); the session's history, overflow policy and recall apply. ``model`` picks the
  answering agent among the session's, or a raw model for this turn.
- a raw model, no session: a pass-through (no agent, nothing saved).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from sprig.server.chat.parties import Transient
from sprig.server.chat.render import input_messages
from sprig.server.chat.service import ChatResult, StreamDelta, StreamEnd, StreamStart
from sprig.server.chat.turn import ChatOptions
from sprig.server.errors import BadRequestError
from sprig.server.ids import new_id, utcnow
from sprig.server.models.base import ChatModel, Completion, CompletionRequest, Usage
from sprig.server.models.presets import effective_sampling
from sprig.server.openai import targets
from sprig.server.openai.schemas import ChatCompletionIn
from sprig.server.openai.wire import Event, Head, Reply
from sprig.server.runtime import Runtime
from sprig.server.store import tables
from sprig.server.tools.spec import merge_tools, normalise_tool_choice, tool_specs
from sprig.server.usage.meter import model_counts

SESSION_KEY = "sprig_session_id"
SESSION_HEADER = "x-sprig-session-id"


@dataclass(frozen=True)
class Plan:
    """How a request runs: its target, the session (if stateful) and the turn's options."""

    target: targets.Target
    session_id: UUID | None
    options: ChatOptions
    user_id: UUID | None


class Completions:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def plan(self, developer_id: UUID, body: ChatCompletionIn, header: str | None) -> Plan:
        session_id = _session_of(body, header)
        async with self.runtime.db.read() as conn:
            target = await targets.resolve(conn, developer_id, self.runtime.models, body.model)
            user_id = await _known_user(conn, developer_id, body.user)
        if body.store and session_id is None:
            session_id = await self._store(developer_id, target, user_id)
            options = _options(body, target, body.messages, stateful=True)
        else:
            stateful = session_id is not None
            messages = _new_messages(body.messages) if stateful else body.messages
            options = _options(body, target, messages, stateful=stateful)
        return Plan(target, session_id, options, user_id)

    async def _store(
        self, developer_id: UUID, target: targets.Target, user_id: UUID | None
    ) -> UUID:
        if not isinstance(target, targets.AgentTarget):
            raise BadRequestError("`store: true` needs an agent as the model", param="store")
        extra = {"agents": [target.agent["id"]], "users": [user_id] if user_id else []}
        row = await self.runtime.sessions.create(developer_id, {}, extra)
        return UUID(str(row["id"]))

    async def complete(self, developer_id: UUID, plan: Plan) -> tuple[Head, Reply]:
        if plan.session_id is None and isinstance(plan.target, targets.RawTarget):
            head, reply = await _raw(plan.target.model, plan.options)
            await self._record(developer_id, plan.target.model, reply)
            return head, reply
        result = await self.runtime.chat.complete(developer_id, _turn_of(plan), plan.options)
        return _head(result.id, result.created_at.timestamp()), _reply(result)

    async def stream(self, developer_id: UUID, plan: Plan) -> tuple[Head, AsyncIterator[Event]]:
        """The head and the events; errors before the first byte raise here."""
        if plan.session_id is None and isinstance(plan.target, targets.RawTarget):
            model = plan.target.model
            raw = self._noted(developer_id, model, _raw_stream(model, plan.options))
            return _head(new_id(), utcnow().timestamp()), raw
        events = await self.runtime.chat.stream(developer_id, _turn_of(plan), plan.options)
        start = await anext(events)
        assert isinstance(start, StreamStart)
        return _head(start.id, start.created_at.timestamp()), _agent_events(events)

    async def _record(self, developer_id: UUID, model: ChatModel, reply: Reply) -> None:
        """A raw model's reply is a turn too (nothing saved: usage/meter.py)."""
        counts = model_counts(model, reply.usage)
        await self.runtime.usage.meter.record(developer_id, model.name, counts)

    async def _noted(
        self, developer_id: UUID, model: ChatModel, events: AsyncIterator[Event]
    ) -> AsyncIterator[Event]:
        async for event in events:
            if isinstance(event, Reply):
                await self._record(developer_id, model, event)
            yield event


def _turn_of(plan: Plan) -> UUID | Transient:
    if plan.session_id is not None:
        return plan.session_id
    assert isinstance(plan.target, targets.AgentTarget)
    return Transient(plan.target.agent["id"], plan.user_id)


def _head(reply_id: UUID, created: float) -> Head:
    return Head(f"chatcmpl-{reply_id.hex}", int(created), "")


def _reply(result: ChatResult) -> Reply:
    return Reply(result.content, result.tool_calls, result.finish_reason, result.usage)


async def _agent_events(events: AsyncIterator[Any]) -> AsyncIterator[Event]:
    async for event in events:
        if isinstance(event, StreamDelta) and event.content:
            yield event.content
        elif isinstance(event, StreamEnd):
            yield _reply(event.result)


# -- the request -------------------------------------------------------------------------
def _session_of(body: ChatCompletionIn, header: str | None) -> UUID | None:
    given = (body.metadata or {}).get(SESSION_KEY) or header
    if not given:
        return None
    try:
        return UUID(given)
    except ValueError:
        param = (
            f"metadata.{SESSION_KEY}" if body.metadata and SESSION_KEY in body.metadata else None
        )
        raise BadRequestError(f"Not a session id: {given!r}", param=param) from None


async def _known_user(conn: Any, developer_id: UUID, user: str | None) -> UUID | None:
    """``user`` is one of the tenant's users' id, or only a label (OpenAI's end-user id)."""
    try:
        user_id = UUID(user) if user else None
    except ValueError:
        return None
    if user_id is None:
        return None
    u = tables.users
    stmt = sa.select(u.c.id).where(u.c.id == user_id, u.c.developer_id == developer_id)
    return user_id if (await conn.execute(stmt)).first() else None


def _new_messages(messages: list[Any]) -> list[Any]:
    """The messages after the last assistant message (those before it are the history the
    session already holds)."""
    last = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=-1)
    new = messages[last + 1 :]
    if not new:
        raise BadRequestError(
            "Nothing new to add: the messages end with an assistant message", param="messages"
        )
    return new


def _options(
    body: ChatCompletionIn, target: targets.Target, messages: list[Any], *, stateful: bool
) -> ChatOptions:
    agent_id = target.agent["id"] if isinstance(target, targets.AgentTarget) else None
    raw = target.model.name if isinstance(target, targets.RawTarget) else None
    metadata = {k: v for k, v in (body.metadata or {}).items() if k != SESSION_KEY}
    return ChatOptions(
        messages=[
            {**m.values(exclude={"content"}), "content": m.stored_content()} for m in messages
        ],
        sampling=body.sampling(),
        response_format=body.response_format.as_dict() if body.response_format else None,
        agent_id=agent_id if stateful else None,
        model=raw,
        metadata=metadata,
        save=True,
        tools=[t.normalised() for t in body.tools or []],
        tool_choice=body.tool_choice,
    )


# -- a raw model ---------------------------------------------------------------------------
def _raw_request(model: ChatModel, options: ChatOptions) -> CompletionRequest:
    sampling = effective_sampling(model.default_sampling, request=options.sampling)
    tools = merge_tools([], options.tools)
    specs = tool_specs(tools) if model.capabilities.tools else []
    choice = normalise_tool_choice(options.tool_choice, [t.name for t in tools]) if specs else None
    messages = input_messages(options, {})
    return CompletionRequest(messages, sampling, options.response_format, specs, choice)


async def _raw(model: ChatModel, options: ChatOptions) -> tuple[Head, Reply]:
    request = _raw_request(model, options)
    done = await model.complete(request)
    return _head(new_id(), utcnow().timestamp()), _raw_reply(model, request, done)


def _raw_reply(model: ChatModel, request: CompletionRequest, done: Completion) -> Reply:
    usage = done.usage
    if not usage.prompt_tokens:  # the model said nothing: count
        prompt = model.count_message_tokens(request.messages)
        usage = Usage(prompt, usage.completion_tokens or model.count_tokens(done.content))
    calls = [c.to_openai() for c in done.tool_calls]
    return Reply(done.content, calls, done.finish_reason, usage)


async def _raw_stream(model: ChatModel, options: ChatOptions) -> AsyncIterator[Event]:
    request = _raw_request(model, options)
    done, parts = Completion(), []
    async for chunk in model.stream(request):
        if chunk.content:
            parts.append(chunk.content)
            yield chunk.content
        done.tool_calls.extend(chunk.tool_calls)
        done.finish_reason = chunk.finish_reason or done.finish_reason
        done.usage = chunk.usage or done.usage
    done.content = "".join(parts)
    yield _raw_reply(model, request, done)
