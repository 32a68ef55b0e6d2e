"""The OpenAI chat-completions wire: request bodies from Sprig's types, replies from JSON.

Plain dicts in and out. Both gateways use the pieces that do not depend on the transport
(sampling, tool choice, finish reasons, gathering streamed tool-call fragments).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sprig.server.models.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    FinishReason,
    JoinedRun,
    SamplingParams,
    ToolCall,
    ToolChoice,
    Usage,
)
from sprig.server.models.provider_errors import BrokenReplyError

# OpenAI's sampling parameters.
OPENAI_SAMPLING = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "logit_bias",
)
# Not OpenAI's: sent (in the body, as vLLM and llama.cpp's server read them) only for models
# configured with `extra_sampling: true`; dropped otherwise. `length_penalty` is never sent.
EXTRA_SAMPLING = ("min_p", "repetition_penalty")
FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


def sampling_fields(params: SamplingParams) -> dict[str, Any]:
    """OpenAI's sampling fields that are set (a negative seed, Julep's "random", is not)."""
    values = params.as_dict()
    out: dict[str, Any] = {k: values[k] for k in OPENAI_SAMPLING if k in values}
    if params.seed is not None and params.seed >= 0:
        out["seed"] = params.seed
    return out


def extra_sampling_fields(params: SamplingParams) -> dict[str, Any]:
    values = params.as_dict()
    return {k: values[k] for k in EXTRA_SAMPLING if k in values}


def tool_choice_wire(choice: ToolChoice | None) -> ToolChoice | None:
    """OpenAI's shape; accepts Julep's `{function: {name}}` without `type`."""
    if isinstance(choice, dict) and "type" not in choice and "function" in choice:
        function = {"name": choice["function"].get("name")}
        return {"type": "function", "function": function}
    return choice


def request_fields(request: CompletionRequest, *, stream: bool) -> dict[str, Any]:
    """The OpenAI request body for ``request`` but its messages and ``model``."""
    body = sampling_fields(request.sampling)
    if request.response_format and request.response_format.get("type", "text") != "text":
        body["response_format"] = request.response_format
    if request.tools:
        body["tools"] = [t.to_openai() for t in request.tools]
        if request.tool_choice is not None:
            body["tool_choice"] = tool_choice_wire(request.tool_choice)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def encode_body(
    fields: Mapping[str, Any], messages: Sequence[ChatMessage], joined: JoinedRun | None = None
) -> bytes:
    """The request JSON: each message's own encoding (made once per message, see
    ``ChatMessage.wire_json``; a ``joined`` run's, joined already) with the other fields'."""
    parts = [b'{"messages":[', _joined_messages(messages, joined), b"]"]
    if fields:
        parts += [b",", json.dumps(fields, ensure_ascii=False).encode()[1:]]
    else:
        parts.append(b"}")
    return b"".join(parts)


def _joined_messages(messages: Sequence[ChatMessage], joined: JoinedRun | None) -> bytes:
    if joined is None or not joined.count or joined.start + joined.count > len(messages):
        return b",".join(m.wire_json() for m in messages)
    end = joined.start + joined.count
    before = [m.wire_json() for m in messages[: joined.start]]
    after = [m.wire_json() for m in messages[end:]]
    return b",".join([*before, joined.wire, *after])


def finish_reason_of(reason: str | None, has_tool_calls: bool) -> FinishReason:
    if has_tool_calls:
        return "tool_calls"
    return FINISH_REASONS.get(reason or "stop", "stop")


def usage_from(usage: Mapping[str, Any] | None) -> Usage | None:
    if not isinstance(usage, Mapping):
        return None
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
    )


def completion_from_json(data: Any) -> Completion:
    """A `Completion` from an OpenAI ``chat.completion`` body."""
    try:
        choice = data["choices"][0]
        message = choice["message"]
        calls = [_call(c) for c in message.get("tool_calls") or []]
        content = message.get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BrokenReplyError("the reply is not a chat completion") from exc
    return Completion(
        content=content if isinstance(content, str) else _text_of(content),
        tool_calls=calls,
        finish_reason=finish_reason_of(choice.get("finish_reason"), bool(calls)),
        usage=usage_from(data.get("usage")) or Usage(),
    )


def _call(raw: Mapping[str, Any]) -> ToolCall:
    function = raw["function"]
    return ToolCall(id=raw["id"], name=function["name"], arguments=function["arguments"] or "{}")


def _text_of(parts: Iterable[Any]) -> str:
    return "".join(p.get("text", "") for p in parts if isinstance(p, Mapping))


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallAccumulator:
    """Gathers streamed tool-call fragments (keyed by index) into whole `ToolCall`s."""

    def __init__(self) -> None:
        self._calls: dict[int, _PartialCall] = {}

    def add(self, index: int, call_id: str | None, name: str | None, arguments: str | None) -> None:
        call = self._calls.setdefault(index, _PartialCall())
        call.id = call_id or call.id
        call.name = name or call.name
        call.arguments.append(arguments or "")

    def add_deltas(self, deltas: Iterable[Mapping[str, Any]] | None) -> None:
        """Fragments as OpenAI's JSON gives them."""
        for position, delta in enumerate(deltas or []):
            function = delta.get("function") or {}
            index = delta.get("index")
            self.add(
                position if index is None else index,
                delta.get("id"),
                function.get("name"),
                function.get("arguments"),
            )

    def calls(self) -> list[ToolCall]:
        return [
            ToolCall(id=c.id or f"call_{i}", name=c.name, arguments="".join(c.arguments) or "{}")
            for i, c in sorted(self._calls.items())
        ]


class StreamState:
    """What a stream of ``chat.completion.chunk`` bodies has said so far."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.tools = ToolCallAccumulator()
        self.finish_reason: str | None = None
        self.usage: Usage | None = None

    def absorb(self, chunk: Mapping[str, Any]) -> str:
        """Take one chunk; returns its text delta."""
        self.usage = usage_from(chunk.get("usage")) or self.usage
        choices = chunk.get("choices") or []
        if not choices:
            return ""
        choice = choices[0]
        self.finish_reason = choice.get("finish_reason") or self.finish_reason
        delta = choice.get("delta") or {}
        self.tools.add_deltas(delta.get("tool_calls"))
        text = delta.get("content") or ""
        self.parts.append(text)
        return text

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None
