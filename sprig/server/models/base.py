"""The one interface every chat model provider implements, and the data it speaks.

Plain dataclasses, no provider types: the chat service builds a `CompletionRequest`,
a `ChatModel` answers with a `Completion` or a stream of `CompletionChunk`s.

Streaming contract: content arrives as deltas; tool calls arrive whole (providers gather
the argument fragments) on the last chunk, which also carries `finish_reason` and `usage`
(and `stop_reason` when the provider stopped the reply itself: ``"repetition"``).
Closing the stream early (``aclose()``, or cancelling the consuming task) stops generation.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]
ContentPart = dict[str, Any]
ToolChoice = str | dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the model asks for; `arguments` is a JSON text, as in OpenAI."""

    id: str
    name: str
    arguments: str = "{}"

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message. Frozen: a message's wire JSON is encoded once and reused (``wire_json``);
    ``dataclasses.replace`` makes a new message, with its own."""

    role: Role
    content: str | list[ContentPart] = ""
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    _wire: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def wire_json(self) -> bytes:
        """``to_openai()`` as JSON, encoded on first use (a history entry's, once per
        process while the session's window is cached)."""
        if self._wire is None:
            encoded = json.dumps(self.to_openai(), ensure_ascii=False).encode()
            object.__setattr__(self, "_wire", encoded)
            return encoded
        return self._wire

    def text(self) -> str:
        """The message's text: text parts joined, non-text parts left out."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(t for t in map(_part_text, self.content) if t)

    def to_openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name:
            out["name"] = self.name
        if self.tool_call_id:
            out["tool_call_id"] = self.tool_call_id
        if self.tool_calls:
            out["tool_calls"] = [c.to_openai() for c in self.tool_calls]
            out["content"] = self.content or None
        return out


def _part_text(part: ContentPart | str) -> str:
    if isinstance(part, str):
        return part
    kind = part.get("type")
    if kind == "text":
        return str(part.get("text") or "")
    if kind == "tool_result":
        inner = part.get("content")
        return inner if isinstance(inner, str) else json.dumps(inner)
    return ""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        function = {"name": self.name, "description": self.description}
        return {"type": "function", "function": {**function, "parameters": self.parameters}}


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """Generation settings; `None` means "not set here" (a lower layer or the model decides).

    Empty `stop` / `logit_bias` also count as not set. `logit_bias` keys are token ids
    (as strings, the OpenAI wire form).
    """

    temperature: float | None = None
    top_p: float | None = None
    min_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    repetition_penalty: float | None = None
    length_penalty: float | None = None
    logit_bias: dict[str, float] | None = None

    def over(self, base: SamplingParams) -> SamplingParams:
        """These settings where set, `base`'s elsewhere."""
        updates = {f.name: v for f in fields(self) if _is_set(v := getattr(self, f.name))}
        return replace(base, **updates)

    def as_dict(self) -> dict[str, Any]:
        """Only the settings that are set."""
        return {f.name: v for f in fields(self) if _is_set(v := getattr(self, f.name))}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SamplingParams:
        """Pick the known keys of a free-form mapping (agent settings, a chat body)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        if isinstance(values.get("stop"), str):
            values["stop"] = [values["stop"]]
        return cls(**values)


def _is_set(value: object) -> bool:
    return value is not None and value != [] and value != {}


@dataclass(frozen=True, slots=True)
class JoinedRun:
    """``messages[start : start + count]`` of a request with their wire JSON already joined
    by commas (a session's history, whose messages' JSON is kept as it grows): a gateway
    that sends the OpenAI wire copies these bytes instead of visiting each message."""

    start: int
    count: int
    wire: bytes


@dataclass(slots=True)
class CompletionRequest:
    messages: list[ChatMessage]
    sampling: SamplingParams = field(default_factory=SamplingParams)
    response_format: dict[str, Any] | None = None
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    joined: JoinedRun | None = None  # a hint: the messages are the truth


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_pair(self) -> tuple[int, int]:
        return self.prompt_tokens, self.completion_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(slots=True)
class Completion:
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: FinishReason = "stop"
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None  # why the model stopped the reply itself ("repetition")


@dataclass(slots=True)
class CompletionChunk:
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    stop_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Capabilities:
    tools: bool = False
    json_object: bool = False
    json_schema: bool = False
    streaming: bool = True
    tool_images: bool = False  # takes image parts in tool results (an MCP tool's images)


class ChatModel(ABC):
    """A chat model. Implementations are safe to share between concurrent requests."""

    name: str
    default_sampling: SamplingParams = SamplingParams()
    _capabilities: Capabilities = Capabilities()

    @property
    def capabilities(self) -> Capabilities:
        """What the model does natively: tool calls, JSON modes, streaming."""
        return self._capabilities

    @property
    def extracts_memories(self) -> bool:
        """Whether asking it to extract memories is worth its time (``memory_fallback``
        ``auto`` keeps the user's own statements instead of asking a model that cannot)."""
        return True

    @property
    def token_prices(self) -> tuple[float, float] | None:
        """USD per prompt token and per completion token (None: unknown). A model Sprig
        runs itself costs nothing."""
        return (0.0, 0.0)

    @property
    @abstractmethod
    def context_window(self) -> int:
        """Tokens the model can attend to (prompt + completion)."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens in a plain text, with the model's own tokenizer where it has one."""

    @abstractmethod
    def count_message_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Prompt tokens these messages cost, chat template (and reply header) included."""

    @abstractmethod
    async def complete(self, request: CompletionRequest) -> Completion:
        """One whole reply."""

    @abstractmethod
    def stream(self, request: CompletionRequest) -> AsyncGenerator[CompletionChunk, None]:
        """The reply as deltas; the last chunk has `finish_reason` and `usage`."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to free by default
        """Free what the model holds (worker threads, loaded weights)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


async def collect(chunks: AsyncIterable[CompletionChunk]) -> Completion:
    """Fold a stream back into one `Completion`."""
    parts: list[str] = []
    done = Completion()
    async for chunk in chunks:
        parts.append(chunk.content)
        done.tool_calls.extend(chunk.tool_calls)
        if chunk.finish_reason is not None:
            done.finish_reason = chunk.finish_reason
        if chunk.usage is not None:
            done.usage = chunk.usage
        done.stop_reason = chunk.stop_reason or done.stop_reason
    done.content = "".join(parts)
    return done
