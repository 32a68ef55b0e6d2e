"""Sprig's chat results in OpenAI's shapes: ``chat.completion``, ``chat.completion.chunk``
and the SSE stream around them (``data: <chunk>``, then ``data: [DONE]``)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sprig.server.errors import SprigError
from sprig.server.models.base import Usage
from sprig.server.openai.errors import error_payload

log = logging.getLogger("sprig.server")


@dataclass
class Reply:
    """A finished reply, whichever way it was made (an agent's turn or a raw model)."""

    content: str
    tool_calls: list[dict[str, Any]]
    finish_reason: str
    usage: Usage


@dataclass(frozen=True)
class Head:
    """What every object of one completion repeats."""

    id: str
    created: int
    model: str
    extra: dict[str, Any] = field(default_factory=dict)  # Sprig's own keys (session id)


def usage(u: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.total_tokens,
    }


def completion(head: Head, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
        message["content"] = reply.content or None
    choice = {"index": 0, "message": message, "finish_reason": reply.finish_reason}
    return {
        "id": head.id,
        "object": "chat.completion",
        "created": head.created,
        "model": head.model,
        "choices": [{**choice, "logprobs": None}],
        "usage": usage(reply.usage),
        "system_fingerprint": None,
        **head.extra,
    }


def chunk(head: Head, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {
        "id": head.id,
        "object": "chat.completion.chunk",
        "created": head.created,
        "model": head.model,
        "system_fingerprint": None,
        "choices": [choice],
        **head.extra,
    }


def tool_call_deltas(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Whole tool calls as stream deltas (each with its ``index``)."""
    return [{"index": i, **call} for i, call in enumerate(calls)]


Event = str | Reply  # a content delta, or the finished reply


async def sse(head: Head, events: AsyncIterator[Event], include_usage: bool) -> AsyncIterator[str]:
    """The stream: a role chunk, content chunks, the tool calls, the finish, the usage
    (``stream_options.include_usage``), ``[DONE]``. A failure after the stream started is
    one ``data:`` event in OpenAI's error shape (the SDKs raise it), and the stream ends."""
    extra = {"usage": None} if include_usage else {}
    try:
        yield _data({**chunk(head, {"role": "assistant", "content": ""}), **extra})
        async for event in events:
            if isinstance(event, str):
                yield _data({**chunk(head, {"content": event}), **extra})
                continue
            if event.tool_calls:
                delta = {"tool_calls": tool_call_deltas(event.tool_calls)}
                yield _data({**chunk(head, delta), **extra})
            yield _data({**chunk(head, {}, event.finish_reason), **extra})
            if include_usage:
                yield _data({**chunk(head, {}), "choices": [], "usage": usage(event.usage)})
    except Exception as exc:  # the response has started: say what failed, in its shape
        yield _data(_error(exc))
        return
    yield "data: [DONE]\n\n"


def _error(exc: Exception) -> dict[str, Any]:
    if not isinstance(exc, SprigError):
        log.exception("chat completion stream failed", exc_info=exc)
        return error_payload("Internal server error", "server_error", None)
    return error_payload(exc.message, exc.type, exc.code, exc.param)


def _data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
