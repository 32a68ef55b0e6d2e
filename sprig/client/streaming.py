"""Chat streams: iterators of `ChunkChatResponse` that are also context managers.

The server sends Server-Sent Events, one ``data: {json}`` per chunk, and may end with
``data: [DONE]``. An ``event: error`` (or a data payload holding only ``error``) raises
`APIStreamError`. If the server answers a stream request with plain JSON, that answer is
yielded as a single chunk. The HTTP response is always closed: at the end, on error, on
``break`` inside a ``with`` block, or on ``close()``.
"""

from __future__ import annotations

import json
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Generator,
    Iterable,
    Iterator,
)
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

from sprig.client.errors import APIError, APIStreamError
from sprig.client.types import ChatResponse, ChunkChatResponse

__all__ = ["AsyncChatStream", "ChatStream", "SSEDecoder", "ServerSentEvent"]


@dataclass
class ServerSentEvent:
    event: str | None = None
    data: str = ""
    id: str | None = None


@dataclass
class SSEDecoder:
    """Line-by-line SSE parser (spec subset: ``event``, ``data``, ``id``, comments)."""

    _event: str | None = None
    _data: list[str] = field(default_factory=list)
    _id: str | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line (without its newline); return an event when a blank line ends one."""
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        return None

    def flush(self) -> ServerSentEvent | None:
        if not self._data and self._event is None:
            return None
        event = ServerSentEvent(self._event, "\n".join(self._data), self._id)
        self._event, self._data, self._id = None, [], None
        return event


def iter_events(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    decoder = SSEDecoder()
    for line in lines:
        if (event := decoder.feed(line)) is not None:
            yield event
    if (event := decoder.flush()) is not None:
        yield event


async def aiter_events(lines: AsyncIterable[str]) -> AsyncIterator[ServerSentEvent]:
    decoder = SSEDecoder()
    async for line in lines:
        if (event := decoder.feed(line)) is not None:
            yield event
    if (event := decoder.flush()) is not None:
        yield event


def is_done(event: ServerSentEvent) -> bool:
    return event.data.strip() == "[DONE]"


def parse_event(event: ServerSentEvent, request: httpx.Request) -> ChunkChatResponse | None:
    """The event's chunk (None for an event without data); error events raise."""
    if not event.data.strip():
        return None
    try:
        payload = json.loads(event.data)
    except json.JSONDecodeError:
        raise APIError(f"Invalid JSON in stream: {event.data[:200]!r}", request) from None
    if event.event == "error" or (isinstance(payload, dict) and _only_error(payload)):
        raise APIStreamError(_error_message(payload), request, body=payload)
    return ChunkChatResponse.model_validate(payload)


def _only_error(payload: dict[str, Any]) -> bool:
    return "error" in payload and "choices" not in payload


def _error_message(payload: Any) -> str:
    error = payload.get("error", payload) if isinstance(payload, dict) else payload
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def chunk_from_response(body: Any) -> ChunkChatResponse:
    """A whole JSON chat answer as one chunk (for servers that do not stream)."""
    whole = ChatResponse.model_validate(body)
    choices = [
        {
            "index": c.index,
            "delta": c.message.model_dump(exclude_none=True) if c.message else {},
            "finish_reason": c.finish_reason,
        }
        for c in whole.choices
    ]
    data = whole.model_dump(include={"id", "created_at", "usage", "docs", "jobs"})
    return ChunkChatResponse.model_validate({**data, "choices": choices})


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


class ChatStream:
    """``for chunk in stream`` / ``with stream:``; closes the response in every case."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._iterator = self._chunks()

    def _chunks(self) -> Generator[ChunkChatResponse, None, None]:
        try:
            if _is_json(self.response):
                self.response.read()
                yield chunk_from_response(self.response.json())
                return
            for event in iter_events(self.response.iter_lines()):
                if is_done(event):
                    return
                if (chunk := parse_event(event, self.response.request)) is not None:
                    yield chunk
        finally:
            self.response.close()

    def __iter__(self) -> Iterator[ChunkChatResponse]:
        return self

    def __next__(self) -> ChunkChatResponse:
        return next(self._iterator)

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._iterator.close()
        self.response.close()


class AsyncChatStream:
    """``async for chunk in stream`` / ``async with stream:`` (twin of `ChatStream`)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._iterator = self._chunks()

    async def _chunks(self) -> AsyncGenerator[ChunkChatResponse, None]:
        try:
            if _is_json(self.response):
                await self.response.aread()
                yield chunk_from_response(self.response.json())
                return
            async for event in aiter_events(self.response.aiter_lines()):
                if is_done(event):
                    return
                if (chunk := parse_event(event, self.response.request)) is not None:
                    yield chunk
        finally:
            await self.response.aclose()

    def __aiter__(self) -> AsyncIterator[ChunkChatResponse]:
        return self

    async def __anext__(self) -> ChunkChatResponse:
        return await self._iterator.__anext__()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._iterator.aclose()
        await self.response.aclose()
