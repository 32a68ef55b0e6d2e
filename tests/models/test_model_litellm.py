"""The LiteLLM provider against a fake OpenAI-compatible server on 127.0.0.1 (no network)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import pytest
from fake_openai import PROMPT_TOKENS, FakeOpenAI

from sprig.server.errors import BadRequestError, SprigError, UpstreamError
from sprig.server.models.base import (
    ChatMessage,
    CompletionRequest,
    SamplingParams,
    ToolSpec,
    collect,
)
from sprig.server.models.errors import (
    InvalidModelOutputError,
    ProviderAuthenticationError,
    ProviderRateLimitError,
    ProviderRequestError,
)
from sprig.server.models.litellm_provider import (
    FALLBACK_CONTEXT_WINDOW,
    LiteLLMConfig,
    LiteLLMModel,
)

KEY = "sk-fake-" + "q" * 32
WEATHER = ToolSpec(
    "weather", "Weather in a city", {"type": "object", "properties": {"city": {"type": "string"}}}
)


def make_model(server: FakeOpenAI, **extra: object) -> LiteLLMModel:
    config: dict[str, object] = {"name": "fake", "model": "openai/fake", "api_key": KEY}
    config.update({"api_base": server.api_base, "max_retries": 0, "timeout": 20, **extra})
    return LiteLLMModel(LiteLLMConfig.model_validate(config))


def ask(text: str, **kwargs: object) -> CompletionRequest:
    return CompletionRequest([ChatMessage("user", text)], **kwargs)  # type: ignore[arg-type]


async def test_complete_returns_content_usage_and_sends_the_key(fake_openai: FakeOpenAI) -> None:
    done = await make_model(fake_openai).complete(ask("hello there"))
    assert done.content == "echo: hello there" and done.finish_reason == "stop"
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (PROMPT_TOKENS, 3)
    assert fake_openai.recorder.auth == [f"Bearer {KEY}"]
    body = fake_openai.recorder.bodies[0]
    assert body["model"] == "fake" and body["messages"] == [
        {"role": "user", "content": "hello there"}
    ]


async def test_sampling_settings_reach_the_provider(fake_openai: FakeOpenAI) -> None:
    sampling = SamplingParams(
        temperature=0.5,
        top_p=0.9,
        max_tokens=20,
        stop=["END"],
        seed=3,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        logit_bias={"50": 1.0},
        min_p=0.1,
        repetition_penalty=1.1,
        length_penalty=1.3,
    )
    await make_model(fake_openai).complete(ask("x", sampling=sampling))
    await make_model(fake_openai, extra_sampling=True).complete(ask("x", sampling=sampling))
    plain, extra = fake_openai.recorder.bodies
    expected = {
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 20,
        "stop": ["END"],
        "seed": 3,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "logit_bias": {"50": 1.0},
    }
    assert {k: plain.get(k) for k in expected} == expected
    assert not {"min_p", "repetition_penalty", "length_penalty"} & set(plain)
    assert (extra["min_p"], extra["repetition_penalty"]) == (0.1, 1.1)
    assert "length_penalty" not in extra


async def test_the_key_stays_out_of_debug_logs(
    fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    model = make_model(fake_openai)
    await model.complete(ask("hello"))
    await collect(model.stream(ask("hello")))
    with pytest.raises(ProviderAuthenticationError):
        await model.complete(ask("error:401"))
    assert fake_openai.recorder.auth[0] == f"Bearer {KEY}"
    assert KEY not in caplog.text


async def test_negative_seed_means_random_and_is_not_sent(fake_openai: FakeOpenAI) -> None:
    await make_model(fake_openai).complete(ask("x", sampling=SamplingParams(seed=-1)))
    assert "seed" not in fake_openai.recorder.bodies[0]


async def test_stream_deltas_add_up_to_the_completion(fake_openai: FakeOpenAI) -> None:
    model = make_model(fake_openai)
    chunks = [c async for c in model.stream(ask("one two three"))]
    whole = await model.complete(ask("one two three"))
    text = "".join(c.content for c in chunks)
    assert text.strip() == whole.content and len([c for c in chunks if c.content]) >= 4
    last = chunks[-1]
    assert last.finish_reason == "stop" and last.usage is not None
    assert last.usage.prompt_tokens == PROMPT_TOKENS  # the provider's own usage
    body = fake_openai.recorder.bodies[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


async def test_tool_calls_pass_through(fake_openai: FakeOpenAI) -> None:
    model = make_model(fake_openai)
    request = ask("tool:weather", tools=[WEATHER], tool_choice={"function": {"name": "weather"}})
    done = await model.complete(request)
    assert done.finish_reason == "tool_calls" and len(done.tool_calls) == 1
    call = done.tool_calls[0]
    assert (call.id, call.name, json.loads(call.arguments)) == (
        "call_1",
        "weather",
        {"city": "Paris"},
    )
    streamed = await collect(model.stream(request))
    assert streamed.tool_calls == done.tool_calls and streamed.finish_reason == "tool_calls"
    body = fake_openai.recorder.bodies[0]
    assert body["tools"] == [WEATHER.to_openai()]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "weather"}}


async def test_json_mode_passes_through_and_is_checked(fake_openai: FakeOpenAI) -> None:
    model = make_model(fake_openai)
    fmt = {"type": "json_object"}
    done = await model.complete(ask("json", response_format=fmt))
    assert json.loads(done.content) == {"ok": True}
    assert fake_openai.recorder.bodies[0]["response_format"] == fmt
    with pytest.raises(InvalidModelOutputError):
        await model.complete(ask("badjson", response_format=fmt))
    with pytest.raises(InvalidModelOutputError):
        await collect(model.stream(ask("badjson", response_format=fmt)))
    await model.complete(ask("plain", response_format={"type": "text"}))
    assert "response_format" not in fake_openai.recorder.bodies[-1]


@pytest.mark.parametrize(
    ("status", "error", "http"),
    [
        (400, ProviderRequestError, 400),
        (404, ProviderRequestError, 400),
        (422, ProviderRequestError, 400),
        (401, ProviderAuthenticationError, 400),
        (403, ProviderAuthenticationError, 400),
        (429, ProviderRateLimitError, 429),
        (500, UpstreamError, 502),
        (503, UpstreamError, 502),
    ],
)
async def test_provider_errors_map_onto_the_error_tree(
    fake_openai: FakeOpenAI, status: int, error: type[SprigError], http: int
) -> None:
    with pytest.raises(error) as info:
        await make_model(fake_openai).complete(ask(f"error:{status}"))
    assert type(info.value) is error and info.value.status_code == http
    assert f"fake failure {status}" in info.value.message and "'fake'" in info.value.message
    assert KEY not in info.value.message
    assert len(fake_openai.recorder.bodies) == 1  # max_retries=0: asked once


async def test_client_errors_are_4xx_and_server_errors_5xx(fake_openai: FakeOpenAI) -> None:
    with pytest.raises(BadRequestError):
        await make_model(fake_openai).complete(ask("error:400"))
    with pytest.raises(UpstreamError) as info:
        await collect(make_model(fake_openai).stream(ask("error:500")))
    assert info.value.status_code == 502


async def test_unreachable_provider_is_a_502() -> None:
    config = LiteLLMConfig(
        name="down", model="openai/x", api_base="http://127.0.0.1:9/v1", max_retries=0, timeout=5
    )
    with pytest.raises(UpstreamError) as info:
        await LiteLLMModel(config).complete(ask("x"))
    assert info.value.status_code == 502 and "'down'" in info.value.message


async def test_closing_a_stream_closes_the_provider_connection(fake_openai: FakeOpenAI) -> None:
    model = make_model(fake_openai)
    async with contextlib.aclosing(model.stream(ask("slow"))) as chunks:
        async for chunk in chunks:
            assert chunk.content.startswith("w0")
            break
    rec = fake_openai.recorder
    for _ in range(100):  # the server notices the disconnect within its next write
        if rec.streams_abandoned:
            break
        await asyncio.sleep(0.02)
    assert (rec.streams_started, rec.streams_abandoned, rec.streams_finished) == (1, 1, 0)


def test_token_counting_and_context_window(fake_openai: FakeOpenAI) -> None:
    model = make_model(fake_openai)
    assert model.count_tokens("hello world") == 2
    one = model.count_message_tokens([ChatMessage("user", "hello world")])
    two = model.count_message_tokens(
        [ChatMessage("user", "hello world"), ChatMessage("assistant", "hi")]
    )
    assert two > one > 2
    assert model.context_window == FALLBACK_CONTEXT_WINDOW  # unknown to LiteLLM
    assert make_model(fake_openai, context_window=2048).context_window == 2048
    known = LiteLLMModel(LiteLLMConfig(name="gpt-4o-mini"))
    assert known.context_window >= 100_000 and known.capabilities.tools
    assert model.capabilities.tools and model.capabilities.json_object
    llama = LiteLLMModel(LiteLLMConfig(name="ollama/llama-3-8b"))  # no tokenizer download
    assert llama.count_tokens("hello world") == 2
