"""The shared model types, JSON-format handling, text assembly and the thread bridge."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sprig.server.errors import BadRequestError, NotImplementedFeatureError, UpstreamError
from sprig.server.models.base import (
    ChatMessage,
    CompletionChunk,
    SamplingParams,
    ToolCall,
    ToolSpec,
    Usage,
    collect,
)
from sprig.server.models.decoding import TextAssembler
from sprig.server.models.errors import InvalidModelOutputError
from sprig.server.models.formats import json_format, parse_json_output
from sprig.server.models.threaded import Emit, Producer, stream_from_thread

# -- types -------------------------------------------------------------------------------


def test_sampling_over_keeps_set_values_and_fills_the_rest() -> None:
    base = SamplingParams(temperature=0.2, top_p=0.9, max_tokens=100, stop=["x"])
    top = SamplingParams(temperature=0.7, stop=[], logit_bias={})
    merged = top.over(base)
    assert merged == SamplingParams(temperature=0.7, top_p=0.9, max_tokens=100, stop=["x"])
    assert SamplingParams(temperature=0.0).over(base).temperature == 0.0  # 0 is a value


def test_sampling_from_mapping_is_lenient() -> None:
    data = {"temperature": 0.5, "stop": "END", "preset": "fun", "top_p": None, "bogus": 1}
    params = SamplingParams.from_mapping(data)
    assert params == SamplingParams(temperature=0.5, stop=["END"])
    assert params.as_dict() == {"temperature": 0.5, "stop": ["END"]}


def test_message_text_and_openai_shape() -> None:
    parts: list[dict[str, Any]] = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "http://x/y.png"}},
        {"type": "tool_result", "tool_use_id": "t", "content": {"temp": 21}},
    ]
    assert ChatMessage("user", parts).text() == 'look\n{"temp": 21}'
    call = ToolCall("call_1", "weather", '{"city": "Oslo"}')
    wire = ChatMessage("assistant", "", tool_calls=[call]).to_openai()
    assert wire == {"role": "assistant", "content": None, "tool_calls": [call.to_openai()]}
    assert call.to_openai()["function"] == {"name": "weather", "arguments": '{"city": "Oslo"}'}
    tool = ChatMessage("tool", "21C", tool_call_id="call_1").to_openai()
    assert tool == {"role": "tool", "content": "21C", "tool_call_id": "call_1"}
    spec = ToolSpec("weather", "Weather now").to_openai()
    assert spec["function"]["parameters"] == {"type": "object", "properties": {}}


async def test_collect_folds_a_stream() -> None:
    call = ToolCall("c", "f")

    async def chunks() -> AsyncIterator[CompletionChunk]:
        yield CompletionChunk(content="Hel")
        yield CompletionChunk(content="lo")
        yield CompletionChunk(tool_calls=[call], finish_reason="tool_calls", usage=Usage(3, 2))

    done = await collect(chunks())
    assert (done.content, done.tool_calls, done.finish_reason) == ("Hello", [call], "tool_calls")
    assert done.usage.total_tokens == 5


# -- response_format ----------------------------------------------------------------------


def test_json_format_shapes() -> None:
    schema = {"type": "object"}
    assert json_format(None) is None
    assert json_format({"type": "text"}) is None
    assert json_format({"type": "json_object"}).mode == "json_object"  # type: ignore[union-attr]
    fmt = json_format({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert fmt is not None and fmt.schema == schema
    legacy = json_format({"type": "json_object", "schema": schema})
    assert legacy is not None and legacy.schema == schema
    with pytest.raises(BadRequestError):
        json_format({"type": "json_schema", "json_schema": {"name": "x"}})
    with pytest.raises(BadRequestError):
        json_format({"type": "yaml"})
    with pytest.raises(NotImplementedFeatureError):
        json_format({"type": "regex", "pattern": "a+"})


def test_invalid_json_output_is_an_upstream_error_naming_the_model() -> None:
    assert parse_json_output('{"a": 1}', "m") == {"a": 1}
    with pytest.raises(InvalidModelOutputError) as info:
        parse_json_output('{"a": ', "tiny")
    assert isinstance(info.value, UpstreamError) and info.value.status_code == 502
    assert "'tiny'" in info.value.message and "invalid JSON" in info.value.message


# -- text assembly ----------------------------------------------------------------------


def test_assembler_joins_split_utf8_characters() -> None:
    data = "héllo ✓".encode()
    text = TextAssembler()
    out = "".join(text.feed(data[i : i + 1]) for i in range(len(data))) + text.flush()
    assert out == "héllo ✓"


def test_assembler_cuts_at_a_stop_sequence_arriving_across_tokens() -> None:
    text = TextAssembler(stop=["END"])
    pieces = [text.feed(p.encode()) for p in ["Hello E", "N", "D tail"]]
    assert pieces == ["Hello ", "", ""]
    assert text.stopped and text.flush() == ""


def test_assembler_releases_a_false_alarm() -> None:
    text = TextAssembler(stop=["STOP"])
    assert text.feed(b"a ST") == "a "
    assert text.feed(b"ART") == "START"
    assert text.feed(b" ST") == " "
    assert text.flush() == "ST"
    assert not text.stopped


# -- thread bridge --------------------------------------------------------------------------


def _counter(limit: int, delay: float, seen: list[int]) -> Producer[int]:
    def produce(emit: Emit[int], cancel: threading.Event) -> None:
        for i in range(limit):
            if cancel.is_set():
                return
            seen.append(i)
            emit(i)
            time.sleep(delay)

    return produce


async def test_thread_stream_delivers_everything_in_order() -> None:
    with ThreadPoolExecutor(1) as pool:
        items = [i async for i in stream_from_thread(pool, _counter(20, 0, []))]
    assert items == list(range(20))


async def test_thread_stream_reraises_producer_errors() -> None:
    def boom(emit: Emit[int], cancel: threading.Event) -> None:
        emit(1)
        raise UpstreamError("model crashed")

    got: list[int] = []

    async def consume(pool: ThreadPoolExecutor) -> None:
        async for i in stream_from_thread(pool, boom):
            got.append(i)

    with ThreadPoolExecutor(1) as pool, pytest.raises(UpstreamError, match="model crashed"):
        await consume(pool)
    assert got == [1]


async def test_closing_the_stream_stops_the_producer_before_returning() -> None:
    seen: list[int] = []
    with ThreadPoolExecutor(1) as pool:
        stream = stream_from_thread(pool, _counter(1000, 0.01, seen))
        assert await anext(stream) == 0
        started = time.perf_counter()
        await stream.aclose()
        elapsed = time.perf_counter() - started
        produced = len(seen)
        await asyncio.sleep(0.1)
        assert len(seen) == produced  # nothing ran after aclose() returned
    assert produced < 10 and elapsed < 0.5


async def test_cancelling_the_consumer_task_stops_the_producer() -> None:
    seen: list[int] = []

    async def consume(pool: ThreadPoolExecutor) -> None:
        async for _ in stream_from_thread(pool, _counter(1000, 0.01, seen)):
            pass

    with ThreadPoolExecutor(1) as pool:
        task = asyncio.create_task(consume(pool))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        produced = len(seen)
        await asyncio.sleep(0.1)
        assert len(seen) == produced
    assert produced < 50


async def test_a_queued_job_closed_before_it_starts_never_runs() -> None:
    first: list[int] = []
    second: list[int] = []
    with ThreadPoolExecutor(1) as pool:
        running = stream_from_thread(pool, _counter(1000, 0.01, first))
        assert await anext(running) == 0
        queued = stream_from_thread(pool, _counter(5, 0, second))
        waiter = asyncio.create_task(anext(queued))
        await asyncio.sleep(0.05)
        assert not waiter.done()  # one generation at a time: it waits its turn
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await running.aclose()
    assert second == []
