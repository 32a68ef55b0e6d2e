"""Tool results linked to the calls they answer.

The 0.x SDKs know no call ids: a call reaches them as a ``function_call`` message (the JSON
of ``{name, arguments}``) and they answer with a ``function`` message that names only the
function. Before the model sees such a turn, each result without ``tool_call_id`` takes the
id of the oldest unanswered call of that name, and a call the client echoes back (it is in
the history already) is dropped, so the model gets the OpenAI shape it requires.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sprig.server.ids import new_id
from sprig.server.models.base import ChatMessage, ToolCall


def link_tool_results(history: list[ChatMessage], inputs: list[ChatMessage]) -> list[ChatMessage]:
    """``inputs`` with ids filled in and echoed calls dropped (``history`` is not changed)."""
    if not any(_may_link(m) for m in inputs):
        return inputs  # nothing to link: the history need not be walked
    pending: list[ToolCall] = []
    for message in history:
        _track(message, pending)
    linked: list[ChatMessage] = []
    for message in inputs:
        if message.role == "assistant" and message.tool_calls:
            message = _without_echoes(message, pending)
            if not message.tool_calls and not message.text():
                continue
        elif message.role == "tool" and not message.tool_call_id:
            message = replace(message, tool_call_id=_claim(pending, message.name))
        _track(message, pending)
        linked.append(message)
    return linked


def _may_link(message: ChatMessage) -> bool:
    if message.role == "assistant":
        return bool(message.tool_calls)
    return message.role == "tool" and not message.tool_call_id


def _track(message: ChatMessage, pending: list[ToolCall]) -> None:
    if message.role == "assistant":
        pending.extend(message.tool_calls)
    elif message.role == "tool" and message.tool_call_id:
        pending[:] = [c for c in pending if c.id != message.tool_call_id]


def _without_echoes(message: ChatMessage, pending: list[ToolCall]) -> ChatMessage:
    fresh = [c for c in message.tool_calls if not _is_pending(c, pending)]
    calls = [c if c.id else replace(c, id=f"call_{new_id().hex}") for c in fresh]
    return replace(message, tool_calls=calls)


def _is_pending(call: ToolCall, pending: list[ToolCall]) -> bool:
    if call.id:
        return any(c.id == call.id for c in pending)
    wanted = (call.name, _canonical(call.arguments))
    return any((c.name, _canonical(c.arguments)) == wanted for c in pending)


def _canonical(arguments: str) -> Any:
    try:
        return json.dumps(json.loads(arguments), sort_keys=True)
    except ValueError:
        return arguments


def _claim(pending: list[ToolCall], name: str | None) -> str | None:
    for call in pending:
        if name is None or call.name == name:
            return call.id
    return None
