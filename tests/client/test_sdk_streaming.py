"""Chat streams: typed chunks from SSE, iterator + context manager, always closed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from sprig import APIError, APIStreamError, ChatStream, ChunkChatResponse, NotFoundError
from sprig.client.params import MessageParam
from sprig.client.streaming import SSEDecoder
from tests.helpers.sdk import Recorder

SID = "0b7e7d3e-1111-4e2f-9a55-aaaaaaaaaaaa"
MESSAGES: list[MessageParam] = [{"role": "user", "content": "hi"}]


def chunk(text: str, finish: str | None = None) -> str:
    body = {
        "id": "c1",
        "created_at": "2025-01-01T00:00:00Z",
        "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": finish}
        ],
    }
    return f"data: {json.dumps(body)}\n\n"


class Tracked(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent in pieces, which remembers whether it was closed."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = [p.encode() for p in pieces]
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def sse_server(
    pieces: list[str], content_type: str = "text/event-stream"
) -> tuple[Recorder, Tracked]:
    body = Tracked(pieces)
    headers = {"content-type": content_type}
    return Recorder(lambda r: httpx.Response(200, stream=body, headers=headers)), body


STREAM = [chunk("Hel"), ": keep-alive\n\n", chunk("lo"), chunk("!", "stop"), "data: [DONE]\n\n"]


def test_stream_yields_typed_chunks_and_closes() -> None:
    recorder, body = sse_server(STREAM)
    stream = recorder.sync().sessions.chat(SID, MESSAGES, stream=True)
    assert isinstance(stream, ChatStream)
    chunks = list(stream)
    assert all(isinstance(c, ChunkChatResponse) for c in chunks)
    assert "".join(c.text for c in chunks) == "Hello!"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert body.closed
    request = recorder.requests[0]
    assert request.headers["accept"] == "text/event-stream"
    assert json.loads(request.content)["stream"] is True


def test_break_inside_with_closes_the_response() -> None:
    recorder, body = sse_server(STREAM)
    with recorder.sync().sessions.chat(SID, MESSAGES, stream=True) as stream:
        for _ in stream:
            break
        assert not body.closed
    assert body.closed


def test_stream_without_done_ends_at_close_and_split_lines_join() -> None:
    pieces = [chunk("a")[:20], chunk("a")[20:], 'data: {"id": "x",\n', 'data: "choices": []}\n\n']
    recorder, body = sse_server(pieces)
    chunks = list(recorder.sync().sessions.chat(SID, MESSAGES, stream=True))
    assert [c.text for c in chunks] == ["a", ""]
    assert chunks[1].id == "x"
    assert body.closed


def test_error_event_raises_and_closes() -> None:
    pieces = [chunk("a"), 'event: error\ndata: {"error": {"message": "model died"}}\n\n']
    recorder, body = sse_server(pieces)
    stream = recorder.sync().sessions.chat(SID, MESSAGES, stream=True)
    assert next(stream).text == "a"
    with pytest.raises(APIStreamError, match="model died"):
        next(stream)
    assert body.closed


def test_invalid_json_in_stream_raises() -> None:
    recorder, body = sse_server(["data: {oops\n\n"])
    with pytest.raises(APIError, match="Invalid JSON"):
        list(recorder.sync().sessions.chat(SID, MESSAGES, stream=True))
    assert body.closed


def test_a_json_answer_is_one_chunk() -> None:
    answer = {
        "id": "r1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "whole"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"total_tokens": 3},
    }
    recorder, body = sse_server([json.dumps(answer)], "application/json")
    chunks = list(recorder.sync().sessions.chat(SID, MESSAGES, stream=True))
    assert [(c.id, c.text, c.choices[0].finish_reason) for c in chunks] == [("r1", "whole", "stop")]
    assert chunks[0].usage is not None and chunks[0].usage.total_tokens == 3
    assert body.closed


def test_http_errors_raise_at_the_call() -> None:
    recorder = Recorder(lambda r: httpx.Response(404, json={"detail": "Session x not found"}))
    with pytest.raises(NotFoundError):
        recorder.sync().sessions.chat(SID, MESSAGES, stream=True)


async def test_async_stream_is_an_async_iterator_and_context_manager() -> None:
    recorder, body = sse_server(STREAM)
    stream = await recorder.async_().sessions.chat(SID, MESSAGES, stream=True)
    texts = [c.text async for c in stream]
    assert "".join(texts) == "Hello!" and body.closed
    recorder2, body2 = sse_server(STREAM)
    async with await recorder2.flat_async().chat(SID, messages=MESSAGES, stream=True) as stream2:
        async for _ in stream2:
            break
    assert body2.closed


def test_decoder_follows_the_sse_rules() -> None:
    decoder = SSEDecoder()
    lines = ["id: 7", "event: note", "data:one", "data: two", ": comment", "retry: 5", ""]
    events = [e for e in map(decoder.feed, lines) if e is not None]
    assert [(e.id, e.event, e.data) for e in events] == [("7", "note", "one\ntwo")]
    assert decoder.feed("") is None and decoder.flush() is None
