"""Test models: a scripted model for orchestration tests, and a zero-latency echo model.

Both count tokens deterministically: a token is a word (``\\w+``) or one punctuation mark,
and every message costs `MESSAGE_OVERHEAD` extra tokens (plus `REPLY_OVERHEAD` once).
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from dataclasses import replace
from typing import cast

from sprig.server.models.base import (
    Capabilities,
    ChatMessage,
    ChatModel,
    Completion,
    CompletionChunk,
    CompletionRequest,
    SamplingParams,
    ToolCall,
    Usage,
)

TOKEN = re.compile(r"\w+|[^\w\s]")
WORD = re.compile(r"\S+\s*|\s+")
MESSAGE_OVERHEAD = 4
REPLY_OVERHEAD = 2

Reply = str | Completion | list[ToolCall] | BaseException | Callable[[CompletionRequest], "Reply"]


def count_tokens(text: str) -> int:
    return len(TOKEN.findall(text))


def count_message_tokens(messages: Sequence[ChatMessage]) -> int:
    body = sum(count_tokens(m.text()) + MESSAGE_OVERHEAD for m in messages)
    return body + REPLY_OVERHEAD


def truncate(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """`text` cut after `max_tokens` tokens, and whether it was cut."""
    if max_tokens is None:
        return text, False
    matches = list(TOKEN.finditer(text))
    if len(matches) <= max_tokens:
        return text, False
    return (text[: matches[max_tokens - 1].end()] if max_tokens > 0 else ""), True


class _CountingModel(ChatModel):
    def __init__(self, name: str, context_window: int, capabilities: Capabilities) -> None:
        self.name = name
        self._context_window = context_window
        self._capabilities = capabilities
        self.default_sampling = SamplingParams(max_tokens=context_window // 4)

    @property
    def context_window(self) -> int:
        return self._context_window

    def count_tokens(self, text: str) -> int:
        return count_tokens(text)

    def count_message_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return count_message_tokens(messages)

    def _finish(self, request: CompletionRequest, reply: Completion) -> Completion:
        """Apply max_tokens and fill usage for a reply given as text or tool calls."""
        text, cut = truncate(reply.content, request.sampling.max_tokens)
        reason = "length" if cut else reply.finish_reason
        usage = Usage(count_message_tokens(request.messages), count_tokens(text))
        return replace(reply, content=text, finish_reason=reason, usage=usage)


class ScriptedModel(_CountingModel):
    """Replies from a script, in order, and records every request it gets.

    A script item is a reply text, a `Completion` (returned as is), a list of `ToolCall`s,
    an exception (raised), or a callable taking the request and returning one of those;
    when the script is used up, `fallback` answers (if given).
    Streams go word by word, `stream_delay` seconds apart; `cancelled_streams` counts
    streams closed before their end.
    """

    def __init__(
        self,
        script: Iterable[Reply] = (),
        *,
        name: str = "scripted",
        context_window: int = 4096,
        capabilities: Capabilities | None = None,
        stream_delay: float = 0.0,
        fallback: Reply | None = None,
    ) -> None:
        caps = capabilities or Capabilities(tools=True, json_object=True, json_schema=True)
        super().__init__(name, context_window, caps)
        self._script: deque[Reply] = deque(script)
        self.requests: list[CompletionRequest] = []
        self.stream_delay = stream_delay
        self.cancelled_streams = 0
        self.fallback = fallback  # the reply once the script is used up (None: an error)

    def push(self, *replies: Reply) -> None:
        self._script.extend(replies)

    @property
    def remaining(self) -> int:
        return len(self._script)

    def _next(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        if not self._script and self.fallback is None:
            raise AssertionError(f"ScriptedModel {self.name!r}: script exhausted")
        reply = self._script.popleft() if self._script else cast(Reply, self.fallback)
        while callable(reply) and not isinstance(reply, BaseException):
            reply = reply(request)
        return self._to_completion(request, reply)

    def _to_completion(self, request: CompletionRequest, reply: Reply) -> Completion:
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, Completion):
            return reply
        if isinstance(reply, str):
            return self._finish(request, Completion(content=reply))
        calls = list(reply)  # type: ignore[arg-type]
        return self._finish(request, Completion(tool_calls=calls, finish_reason="tool_calls"))

    async def complete(self, request: CompletionRequest) -> Completion:
        return self._next(request)

    async def stream(self, request: CompletionRequest) -> AsyncGenerator[CompletionChunk, None]:
        done = self._next(request)
        finished = False
        try:
            async for chunk in _word_chunks(done, self.stream_delay):
                yield chunk
            finished = True
        finally:
            if not finished:
                self.cancelled_streams += 1


async def _word_chunks(done: Completion, delay: float) -> AsyncGenerator[CompletionChunk, None]:
    for word in WORD.findall(done.content):
        if delay:
            await asyncio.sleep(delay)
        yield CompletionChunk(content=word)
    yield CompletionChunk(
        tool_calls=list(done.tool_calls),
        finish_reason=done.finish_reason,
        usage=done.usage,
        stop_reason=done.stop_reason,
    )


class EchoModel(_CountingModel):
    """Replies with the last user message's text, at once. For benchmarks and smoke tests."""

    def __init__(self, name: str = "echo", context_window: int = 8192) -> None:
        super().__init__(name, context_window, Capabilities())

    def _reply(self, request: CompletionRequest) -> Completion:
        users = [m for m in request.messages if m.role == "user"]
        return self._finish(request, Completion(content=users[-1].text() if users else ""))

    async def complete(self, request: CompletionRequest) -> Completion:
        return self._reply(request)

    async def stream(self, request: CompletionRequest) -> AsyncGenerator[CompletionChunk, None]:
        async for chunk in _word_chunks(self._reply(request), 0.0):
            yield chunk
