"""The scripted test model and the echo model."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from sprig.server.errors import UpstreamError
from sprig.server.models.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    SamplingParams,
    ToolCall,
    Usage,
    collect,
)
from sprig.server.models.scripted import (
    MESSAGE_OVERHEAD,
    REPLY_OVERHEAD,
    EchoModel,
    ScriptedModel,
    count_tokens,
    truncate,
)


def ask(text: str, **sampling: object) -> CompletionRequest:
    return CompletionRequest(
        [ChatMessage("system", "Be brief."), ChatMessage("user", text)],
        SamplingParams(**sampling),  # type: ignore[arg-type]
    )


def test_token_counting_is_deterministic() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("") == 0
    model = ScriptedModel()
    msgs = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi there")]
    assert model.count_message_tokens(msgs) == 3 + 2 + 2 * MESSAGE_OVERHEAD + REPLY_OVERHEAD
    assert model.count_tokens("a b c") == 3


def test_truncate_cuts_at_a_token_boundary() -> None:
    assert truncate("one, two three", 2) == ("one,", True)
    assert truncate("one two", 5) == ("one two", False)
    assert truncate("one two", None) == ("one two", False)


async def test_replies_in_order_and_records_requests() -> None:
    model = ScriptedModel(["first", "second"])
    r1, r2 = ask("a"), ask("b")
    assert (await model.complete(r1)).content == "first"
    done = await model.complete(r2)
    assert done.content == "second" and done.finish_reason == "stop"
    assert done.usage == Usage(model.count_message_tokens(r2.messages), 1)
    assert model.requests == [r1, r2]
    with pytest.raises(AssertionError, match="script exhausted"):
        await model.complete(ask("c"))


async def test_every_kind_of_script_item() -> None:
    call = ToolCall("call_1", "lookup", '{"q": "x"}')
    given = Completion("as is", finish_reason="content_filter", usage=Usage(1, 1))
    model = ScriptedModel(
        [
            [call],
            given,
            UpstreamError("provider down"),
            lambda req: f"you said {req.messages[-1].text()}",
            lambda req: [call],
        ]
    )
    tools = await model.complete(ask("q"))
    assert tools.tool_calls == [call] and tools.finish_reason == "tool_calls"
    assert await model.complete(ask("q")) is given
    with pytest.raises(UpstreamError, match="provider down"):
        await model.complete(ask("q"))
    assert (await model.complete(ask("ping"))).content == "you said ping"
    assert (await model.complete(ask("q"))).tool_calls == [call]
    assert model.remaining == 0


async def test_max_tokens_truncates_with_finish_reason_length() -> None:
    model = ScriptedModel(["one two three four five"])
    done = await model.complete(ask("go", max_tokens=3))
    assert (done.content, done.finish_reason) == ("one two three", "length")
    assert done.usage.completion_tokens == 3


async def test_stream_goes_word_by_word_and_matches_complete() -> None:
    text = "The quick  brown fox.\nDone"
    model = ScriptedModel([text, text])
    chunks = [c async for c in model.stream(ask("go"))]
    assert [c.content for c in chunks[:-1]] == ["The ", "quick  ", "brown ", "fox.\n", "Done"]
    last = chunks[-1]
    assert last.finish_reason == "stop" and last.usage is not None
    whole = await model.complete(ask("go"))
    assert "".join(c.content for c in chunks) == whole.content == text
    assert last.usage == whole.usage


async def test_stream_of_tool_calls_ends_with_them() -> None:
    call = ToolCall("c1", "f", "{}")
    model = ScriptedModel([[call]])
    done = await collect(model.stream(ask("x")))
    assert done.tool_calls == [call] and done.finish_reason == "tool_calls"


async def test_closing_a_stream_early_is_counted() -> None:
    model = ScriptedModel(["a b c d e f"], stream_delay=0.01)
    async with contextlib.aclosing(model.stream(ask("x"))) as chunks:
        async for chunk in chunks:
            assert chunk.content == "a "
            break
    assert model.cancelled_streams == 1


async def test_cancelling_a_streaming_task_is_counted() -> None:
    model = ScriptedModel(["a b c d e f g h"], stream_delay=0.05)

    async def consume() -> None:
        async for _ in model.stream(ask("x")):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.08)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert model.cancelled_streams == 1


async def test_stream_raises_scripted_errors() -> None:
    model = ScriptedModel([UpstreamError("nope")])
    with pytest.raises(UpstreamError):
        await collect(model.stream(ask("x")))


async def test_push_and_context_window() -> None:
    model = ScriptedModel(context_window=128)
    model.push("late")
    assert model.context_window == 128
    assert (await model.complete(ask("x"))).content == "late"


async def test_echo_model_echoes_the_last_user_message() -> None:
    model = EchoModel()
    req = CompletionRequest(
        [
            ChatMessage("user", "first"),
            ChatMessage("assistant", "ok"),
            ChatMessage("user", "hi you"),
        ]
    )
    done = await model.complete(req)
    assert done.content == "hi you" and done.usage.completion_tokens == 2
    streamed = await collect(model.stream(req))
    assert streamed.content == "hi you" and streamed.usage == done.usage
    assert (await model.complete(CompletionRequest([ChatMessage("system", "s")]))).content == ""
