"""Both hosted-model gateways against a fake OpenAI-compatible server on 127.0.0.1 (no
network): Sprig's direct client and LiteLLM keep the same contract (each test runs on both)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable

import pytest

from sprig.server.errors import BadRequestError, SprigError, UpstreamError, UpstreamTimeoutError
from sprig.server.models.base import (
    ChatMessage,
    ChatModel,
    CompletionRequest,
    SamplingParams,
    ToolSpec,
    collect,
)
from sprig.server.models.config import ModelConfig
from sprig.server.models.errors import (
    InvalidModelOutputError,
    ProviderAuthenticationError,
    ProviderRateLimitError,
    ProviderRequestError,
)
from sprig.server.models.litellm_provider import LiteLLMModel
from sprig.server.models.model_info import FALLBACK_CONTEXT_WINDOW
from sprig.server.models.openai_compat import DirectModel, Transport
from sprig.server.models.provider_errors import provider_detail
from tests.helpers.fake_openai import PROMPT_TOKENS, FakeOpenAI

KEY = "sk-fake-" + "q" * 32
WEATHER = ToolSpec(
    "weather", "Weather in a city", {"type": "object", "properties": {"city": {"type": "string"}}}
)


Maker = Callable[..., ChatModel]


def build(gateway: str, config: ModelConfig) -> ChatModel:
    return DirectModel(config) if gateway == "direct" else LiteLLMModel(config)


@pytest.fixture(params=["direct", "litellm"])
def gateway(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def fake_config(server: FakeOpenAI, **extra: object) -> ModelConfig:
    config: dict[str, object] = {"name": "fake", "model": "openai/fake", "api_key": KEY}
    config.update({"api_base": server.api_base, "max_retries": 0, "timeout": 20, **extra})
    return ModelConfig.model_validate(config)


@pytest.fixture
async def make_model(gateway: str) -> AsyncIterator[Maker]:
    """Models of the fake server through the gateway under test (connections closed after)."""
    transport = Transport()

    def make(server: FakeOpenAI, **extra: object) -> ChatModel:
        config = fake_config(server, **extra)
        return DirectModel(config, transport) if gateway == "direct" else LiteLLMModel(config)

    yield make
    await transport.aclose()


def ask(text: str, **kwargs: object) -> CompletionRequest:
    return CompletionRequest([ChatMessage("user", text)], **kwargs)  # type: ignore[arg-type]


async def test_complete_returns_content_usage_and_sends_the_key(
    fake_openai: FakeOpenAI, make_model: Maker
) -> None:
    done = await make_model(fake_openai).complete(ask("hello there"))
    assert done.content == "echo: hello there" and done.finish_reason == "stop"
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (PROMPT_TOKENS, 3)
    assert fake_openai.recorder.auth == [f"Bearer {KEY}"]
    body = fake_openai.recorder.bodies[0]
    assert body["model"] == "fake" and body["messages"] == [
        {"role": "user", "content": "hello there"}
    ]


async def test_sampling_settings_reach_the_provider(
    fake_openai: FakeOpenAI, make_model: Maker
) -> None:
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
    fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture, make_model: Maker
) -> None:
    caplog.set_level(logging.DEBUG)
    model = make_model(fake_openai)
    await model.complete(ask("hello"))
    await collect(model.stream(ask("hello")))
    with pytest.raises(ProviderAuthenticationError):
        await model.complete(ask("error:401"))
    assert fake_openai.recorder.auth[0] == f"Bearer {KEY}"
    assert KEY not in caplog.text


async def test_negative_seed_means_random_and_is_not_sent(
    fake_openai: FakeOpenAI, make_model: Maker
) -> None:
    await make_model(fake_openai).complete(ask("x", sampling=SamplingParams(seed=-1)))
    assert "seed" not in fake_openai.recorder.bodies[0]


async def test_stream_deltas_add_up_to_the_completion(
    fake_openai: FakeOpenAI, make_model: Maker
) -> None:
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


async def test_tool_calls_pass_through(fake_openai: FakeOpenAI, make_model: Maker) -> None:
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


async def test_json_mode_passes_through_and_is_checked(
    fake_openai: FakeOpenAI, make_model: Maker
) -> None:
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


def assert_in_sprigs_words(error: SprigError, *parts: str) -> None:
    """Names the model and the provider, says the kind of failure; no library internals."""
    message = error.message
    assert message.startswith("The model provider for 'fake' (openai) "), message
    for part in parts:
        assert part in message, message
    assert "litellm" not in message.lower() and "Exception" not in message, message
    assert not re.search(r"\w+Error\b", message), message
    assert KEY not in message


@pytest.mark.parametrize(
    ("status", "error", "http", "says"),
    [
        (400, ProviderRequestError, 400, "rejected the request as invalid: fake failure 400"),
        (404, ProviderRequestError, 400, "rejected the request as invalid: fake failure 404"),
        (422, ProviderRequestError, 400, "rejected the request as invalid: fake failure 422"),
        (401, ProviderAuthenticationError, 400, "authentication failed (check the api_key of"),
        (403, ProviderAuthenticationError, 400, "authentication failed"),
        (429, ProviderRateLimitError, 429, "rate limited the request"),
        (500, UpstreamError, 502, "returned an error"),
        (503, UpstreamError, 502, "returned an error"),
    ],
)
async def test_provider_errors_map_onto_the_error_tree(
    fake_openai: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    status: int,
    error: type[SprigError],
    http: int,
    says: str,
    make_model: Maker,
) -> None:
    caplog.set_level(logging.WARNING, "sprig.models")
    with pytest.raises(error) as info:
        await make_model(fake_openai).complete(ask(f"error:{status}"))
    assert type(info.value) is error and info.value.status_code == http
    assert_in_sprigs_words(info.value, says)
    assert len(fake_openai.recorder.bodies) == 1  # max_retries=0: asked once
    # the original detail is in the server log, the key is not
    assert f"fake failure {status}" in caplog.text and "'fake'" in caplog.text
    assert KEY not in caplog.text


async def test_client_errors_are_4xx_and_server_errors_5xx(
    fake_openai: FakeOpenAI, make_model: Maker
) -> None:
    with pytest.raises(BadRequestError):
        await make_model(fake_openai).complete(ask("error:400"))
    with pytest.raises(UpstreamError) as info:
        await collect(make_model(fake_openai).stream(ask("error:500")))
    assert info.value.status_code == 502


@pytest.mark.parametrize("stream", [False, True])
async def test_unreachable_provider_is_a_502(
    caplog: pytest.LogCaptureFixture, stream: bool, gateway: str
) -> None:
    caplog.set_level(logging.WARNING, "sprig.models")
    config = ModelConfig(
        name="fake", model="openai/x", api_base="http://127.0.0.1:9/v1", max_retries=0,
        timeout=5, api_key=KEY,
    )  # fmt: skip
    model = build(gateway, config)
    with pytest.raises(UpstreamError) as info:
        await (collect(model.stream(ask("x"))) if stream else model.complete(ask("x")))
    assert type(info.value) is UpstreamError and info.value.status_code == 502
    assert_in_sprigs_words(info.value, "could not be reached: connection error")
    assert "connect" in caplog.text.lower() and KEY not in caplog.text


@pytest.mark.parametrize("stream", [False, True])
async def test_a_provider_that_hangs_times_out_as_a_504(
    fake_openai: FakeOpenAI, stream: bool, make_model: Maker
) -> None:
    model = make_model(fake_openai, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeoutError) as info:
        await (collect(model.stream(ask("hang"))) if stream else model.complete(ask("hang")))
    assert time.monotonic() - started < 5
    assert info.value.status_code == 504
    assert_in_sprigs_words(info.value, "timed out after 0.5 s")


async def test_an_error_after_the_stream_started_is_described(
    fake_openai: FakeOpenAI, make_model: Maker
) -> None:
    chunks: list[str] = []

    async def read() -> None:
        async for chunk in make_model(fake_openai).stream(ask("midstream")):
            chunks.append(chunk.content)

    with pytest.raises(UpstreamError) as info:
        await read()
    assert "two words" in chunks
    assert info.value.status_code == 502
    assert_in_sprigs_words(info.value, "returned an error")


async def test_auth_failures_name_the_environment_variable(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = {"name": "fake", "model": "openai/fake", "api_base": fake_openai.api_base}
    model = LiteLLMModel(ModelConfig.model_validate({**config, "max_retries": 0}))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ProviderAuthenticationError) as info:
        await model.complete(ask("x"))
    assert_in_sprigs_words(info.value, "was not called: no API key is set (set OPENAI_API_KEY)")
    assert fake_openai.recorder.bodies == []
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    caplog.set_level(logging.WARNING, "sprig.models")
    with pytest.raises(ProviderAuthenticationError) as info:
        await model.complete(ask("error:401"))
    assert_in_sprigs_words(info.value, "authentication failed (check OPENAI_API_KEY)")
    assert "fake failure 401" in caplog.text and KEY not in caplog.text


async def test_a_model_of_no_known_provider_says_how_to_name_it() -> None:
    model = LiteLLMModel(ModelConfig(name="mystery-model", max_retries=0))
    with pytest.raises(ProviderRequestError) as info:
        await model.complete(ask("x"))
    message = info.value.message
    assert message.startswith("No model provider is known for 'mystery-model'"), message
    assert "SPRIG_MODELS" in message and "litellm" not in message.lower()


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("litellm.BadRequestError: OpenAIException - too long", "too long"),
        ("litellm.NotFoundError: NotFoundError: OpenAIException - no such model", "no such model"),
        (
            "Error code: 400 - {'error': {'message': 'context is 9000 tokens', 'type': 'x'}}",
            "context is 9000 tokens",
        ),
        ("litellm.APIError: APIError: see litellm.Router for details", ""),
        ("Traceback (most recent call last): ...", ""),
    ],
)
def test_provider_detail_keeps_only_the_providers_reason(raw: str, detail: str) -> None:
    assert provider_detail(raw) == detail


async def test_closing_a_stream_closes_the_provider_connection(
    fake_openai: FakeOpenAI, make_model: Maker
) -> None:
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


def test_token_counting_and_context_window(fake_openai: FakeOpenAI, gateway: str) -> None:
    model = build(gateway, fake_config(fake_openai))
    assert model.count_tokens("hello world") == 2
    one = model.count_message_tokens([ChatMessage("user", "hello world")])
    two = model.count_message_tokens(
        [ChatMessage("user", "hello world"), ChatMessage("assistant", "hi")]
    )
    assert two > one > 2
    assert model.context_window == FALLBACK_CONTEXT_WINDOW  # unknown to LiteLLM
    assert build(gateway, fake_config(fake_openai, context_window=2048)).context_window == 2048
    known = build(gateway, ModelConfig(name="gpt-4o-mini"))
    assert known.context_window >= 100_000 and known.capabilities.tools
    assert model.capabilities.tools and model.capabilities.json_object
    llama = build(gateway, ModelConfig(name="ollama/llama-3-8b"))  # no tokenizer download
    assert llama.count_tokens("hello world") == 2
