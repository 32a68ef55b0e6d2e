"""The real bundled SmolLM2-135M through llama.cpp: short generations only (max_tokens <= 16)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import pytest

from sprig.server.errors import BadRequestError
from sprig.server.models.base import (
    ChatMessage,
    CompletionRequest,
    SamplingParams,
    collect,
)
from sprig.server.models.errors import InvalidModelOutputError
from sprig.server.models.llama_runner import make_plan
from sprig.server.models.local import LocalLlamaModel

GREEDY = SamplingParams(temperature=0.0, max_tokens=12)
# <|endoftext|> and <|im_end|>: banning them makes the model talk until max_tokens.
NO_END = {"0": -100.0, "2": -100.0}
JSON_SYSTEM = 'Answer with a JSON object like {"answer": "..."}.'
CHAT = [
    ChatMessage("system", "You are a helpful assistant. Answer briefly."),
    ChatMessage("user", "What is the capital of France?"),
]


def ask(sampling: SamplingParams = GREEDY, **kwargs: object) -> CompletionRequest:
    return CompletionRequest(list(CHAT), sampling, **kwargs)  # type: ignore[arg-type]


async def test_generates_a_reply_with_real_usage(local_model: LocalLlamaModel) -> None:
    done = await local_model.complete(ask())
    assert done.content.strip() and done.finish_reason in {"stop", "length"}
    assert done.usage.prompt_tokens == local_model.count_message_tokens(CHAT)
    assert 0 < done.usage.completion_tokens <= 12
    # Re-tokenizing the text gives (about) the tokens generated.
    assert abs(local_model.count_tokens(done.content) - done.usage.completion_tokens) <= 2


async def test_stream_matches_complete(local_model: LocalLlamaModel) -> None:
    whole = await local_model.complete(ask())
    chunks = [c async for c in local_model.stream(ask())]
    assert len([c for c in chunks if c.content]) >= 2
    assert all(c.finish_reason is None for c in chunks[:-1])
    last = chunks[-1]
    assert last.finish_reason == whole.finish_reason and last.usage == whole.usage
    assert "".join(c.content for c in chunks) == whole.content  # greedy: the same text


async def test_max_tokens_gives_finish_reason_length(local_model: LocalLlamaModel) -> None:
    sampling = SamplingParams(temperature=0.0, max_tokens=5, logit_bias=NO_END)
    done = await local_model.complete(ask(sampling))
    assert (done.finish_reason, done.usage.completion_tokens) == ("length", 5)


async def test_natural_end_gives_finish_reason_stop(local_model: LocalLlamaModel) -> None:
    sampling = SamplingParams(temperature=0.0, max_tokens=16, logit_bias={"2": 30.0})
    done = await local_model.complete(ask(sampling))  # <|im_end|> pushed up: ends at once
    assert (done.finish_reason, done.content, done.usage.completion_tokens) == ("stop", "", 0)


async def test_stop_sequence_cuts_the_reply(local_model: LocalLlamaModel) -> None:
    free = await local_model.complete(ask(SamplingParams(temperature=0.0, max_tokens=12)))
    words = free.content.split()
    assert len(words) >= 2, free.content
    stop = words[1]
    cut = await local_model.complete(
        ask(SamplingParams(temperature=0.0, max_tokens=12, stop=[stop]))
    )
    assert cut.finish_reason == "stop" and stop not in cut.content
    assert free.content.startswith(cut.content)


async def test_seeded_sampling_is_reproducible(local_model: LocalLlamaModel) -> None:
    sampling = SamplingParams(temperature=1.0, top_p=0.95, max_tokens=8, seed=7)
    first = await local_model.complete(ask(sampling))
    second = await local_model.complete(ask(sampling))
    assert first.content == second.content


# Greedy and without a penalty, SmolLM2 lists the week's days over and over (asked to: the
# loop does not hang on the last bits of the CPU's arithmetic, as a haiku's did).
WEEK = [CHAT[0], ChatMessage("user", "List the days of the week, again and again.")]
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NO_PENALTY = SamplingParams(temperature=0.0, repetition_penalty=1.0, max_tokens=120)


async def test_the_loop_guard_cuts_a_reply_that_repeats_itself(
    local_model: LocalLlamaModel,
) -> None:
    done = await local_model.complete(CompletionRequest(list(WEEK), NO_PENALTY))
    assert (done.finish_reason, done.stop_reason) == ("stop", "repetition")
    assert done.usage.completion_tokens < 60
    assert [done.content.count(day) for day in DAYS] == [1] * 7, done.content  # one copy
    streamed = [c async for c in local_model.stream(CompletionRequest(list(WEEK), NO_PENALTY))]
    assert "".join(c.content for c in streamed) == done.content
    assert streamed[-1].stop_reason == "repetition"


async def test_without_the_guard_the_same_reply_runs_to_max_tokens(
    local_model: LocalLlamaModel,
) -> None:
    local_model.loop_guard = False
    try:
        done = await local_model.complete(CompletionRequest(list(WEEK), NO_PENALTY))
    finally:
        local_model.loop_guard = True
    assert (done.finish_reason, done.stop_reason, done.usage.completion_tokens) == (
        "length",
        None,
        120,
    )


async def test_json_object_mode_gives_parseable_json(local_model: LocalLlamaModel) -> None:
    request = CompletionRequest(
        [
            ChatMessage("system", JSON_SYSTEM),
            ChatMessage("user", "What is the capital of France?"),
        ],
        SamplingParams(temperature=0.0, max_tokens=16),
        response_format={"type": "json_object"},
    )
    done = await local_model.complete(request)
    assert isinstance(json.loads(done.content), dict)


async def test_json_schema_mode_follows_the_schema(local_model: LocalLlamaModel) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "boolean"}},
        "required": ["answer"],
    }
    request = CompletionRequest(
        [ChatMessage("user", "Is the sky blue?")],
        SamplingParams(temperature=0.0, max_tokens=16),
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    )
    data = json.loads((await local_model.complete(request)).content)
    assert set(data) == {"answer"} and isinstance(data["answer"], bool)


async def test_truncated_json_is_a_clear_error(local_model: LocalLlamaModel) -> None:
    request = CompletionRequest(
        [ChatMessage("system", JSON_SYSTEM), ChatMessage("user", "Capital of France?")],
        SamplingParams(temperature=0.0, max_tokens=3),  # too short for {"answer": ...}
        response_format={"type": "json_object"},
    )
    with pytest.raises(InvalidModelOutputError, match="invalid JSON"):
        await local_model.complete(request)


def test_token_counts_are_positive_and_add_up(local_model: LocalLlamaModel) -> None:
    assert local_model.count_tokens("Hello world") > 0
    assert local_model.count_tokens("Hello world, again") > local_model.count_tokens("Hello")
    system, user = CHAT
    header = local_model.count_message_tokens([])
    both = local_model.count_message_tokens([system, user])
    assert header > 0 and both > local_model.count_tokens(user.text())
    assert both == (
        local_model.count_message_tokens([system])
        + local_model.count_message_tokens([user])
        - header
    )
    assert local_model.context_window == 2048


async def _worker_is_idle(model: LocalLlamaModel) -> bool:
    """The model's single worker thread takes a new job at once (no generation running)."""
    started = time.perf_counter()
    await model.warm_up()  # a no-op job once loaded, queued behind any generation
    return time.perf_counter() - started < 0.25


# Uncancelled, this would run for well over a second even on a fast machine.
ENDLESS = SamplingParams(temperature=0.0, max_tokens=1500, logit_bias=NO_END)


async def test_closing_a_stream_stops_generation(local_model: LocalLlamaModel) -> None:
    async with contextlib.aclosing(local_model.stream(ask(ENDLESS))) as chunks:
        got = [await anext(chunks), await anext(chunks)]
        started = time.perf_counter()
    closed_in = time.perf_counter() - started  # aclose() waits for the worker to stop
    assert all(c.content for c in got) and closed_in < 1.0
    assert await _worker_is_idle(local_model)


async def test_cancelling_the_consumer_stops_generation(local_model: LocalLlamaModel) -> None:
    received: list[str] = []

    async def consume() -> None:
        async for chunk in local_model.stream(ask(ENDLESS)):
            received.append(chunk.content)

    task = asyncio.create_task(consume())
    while len(received) < 2:
        await asyncio.sleep(0.005)
    started = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.perf_counter() - started < 1.0
    assert await _worker_is_idle(local_model)


async def test_collect_of_stream_equals_complete_in_json_mode(local_model: LocalLlamaModel) -> None:
    request = CompletionRequest(
        [ChatMessage("user", "Give the capital of Italy as JSON.")],
        SamplingParams(temperature=0.0, max_tokens=16),
        response_format={"type": "json_object"},
    )
    streamed = await collect(local_model.stream(request))
    assert json.loads(streamed.content) == json.loads((await local_model.complete(request)).content)


async def test_a_prompt_beyond_the_context_window_is_a_400() -> None:
    small = LocalLlamaModel(n_ctx=256)
    try:
        long_text = "word " * 400
        request = CompletionRequest([ChatMessage("user", long_text)], GREEDY)
        assert small.count_message_tokens(request.messages) > 256
        with pytest.raises(BadRequestError, match="context window is 256"):
            await small.complete(request)
    finally:
        small.close()


async def test_free_text_gets_the_default_penalty_unless_a_layer_sets_one(
    local_model: LocalLlamaModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sprig.server.models import local

    seen: list[SamplingParams] = []

    def recording_plan(prompt: list[int], params: SamplingParams, *args: Any, **kw: Any) -> Any:
        seen.append(params)
        return make_plan(prompt, params, *args, **kw)

    monkeypatch.setattr(local, "make_plan", recording_plan)
    one = SamplingParams(temperature=0.0, max_tokens=1)
    await local_model.complete(ask(one))
    await local_model.complete(
        ask(SamplingParams(temperature=0.0, max_tokens=1, repetition_penalty=1.0))
    )
    with pytest.raises(InvalidModelOutputError):  # one token is no JSON object; planned first
        await local_model.complete(ask(one, response_format={"type": "json_object"}))
    assert [p.repetition_penalty for p in seen] == [1.1, 1.0, None]
    assert all(p.top_p == 0.9 for p in seen)  # the model's other defaults fill the rest
