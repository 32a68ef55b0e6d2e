"""The direct gateway's own behaviour: endpoints, keys, provider quirks, retries, broken
replies (the contract it shares with LiteLLM is in test_model_litellm.py)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from sprig.server.errors import UpstreamError
from sprig.server.models.base import (
    ChatMessage,
    CompletionRequest,
    SamplingParams,
    ToolSpec,
    collect,
)
from sprig.server.models.config import ModelConfig
from sprig.server.models.errors import ProviderAuthenticationError, ProviderRateLimitError
from sprig.server.models.litellm_provider import LiteLLMModel
from sprig.server.models.openai_compat import DirectModel, Transport, endpoint_for
from sprig.server.models.openai_compat.transport import backoff, retry_after
from sprig.server.models.registry import ModelRegistry
from tests.helpers.fake_openai import FakeOpenAI

KEY = "sk-direct-" + "z" * 30
TOOL = ToolSpec("weather", "Weather", {"type": "object", "properties": {}})


def ask(text: str, **kwargs: object) -> CompletionRequest:
    return CompletionRequest([ChatMessage("user", text)], **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    shared = Transport()
    yield shared
    await shared.aclose()


def direct(
    transport: Transport, server: FakeOpenAI, model: str = "openai/fake", **extra: object
) -> DirectModel:
    config = {"name": "fake", "model": model, "api_base": server.api_base, "max_retries": 0}
    return DirectModel(ModelConfig.model_validate({**config, **extra}), transport, environ={})


# -- where each provider is called --------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "environ", "url", "sent"),
    [
        ("gpt-4o-mini", {}, "https://api.openai.com/v1/chat/completions", "gpt-4o-mini"),
        ("openai/gpt-4o", {"OPENAI_BASE_URL": "http://127.0.0.1:7/v1"},
         "http://127.0.0.1:7/v1/chat/completions", "gpt-4o"),
        ("groq/llama-3.3-70b-versatile", {}, "https://api.groq.com/openai/v1/chat/completions",
         "llama-3.3-70b-versatile"),
        ("deepseek/deepseek-chat", {}, "https://api.deepseek.com/v1/chat/completions",
         "deepseek-chat"),
        ("openrouter/openai/gpt-4o", {}, "https://openrouter.ai/api/v1/chat/completions",
         "openai/gpt-4o"),
        ("ollama/llama3", {}, "http://127.0.0.1:11434/v1/chat/completions", "llama3"),
        ("ollama_chat/qwen", {"OLLAMA_API_BASE": "http://10.0.0.5:11434"},
         "http://10.0.0.5:11434/v1/chat/completions", "qwen"),
        ("azure/my-deploy", {"AZURE_API_BASE": "https://x.openai.azure.com/"},
         "https://x.openai.azure.com/openai/deployments/my-deploy/chat/completions"
         "?api-version=2024-10-21", "my-deploy"),
    ],
)  # fmt: skip
def test_each_provider_is_called_at_its_openai_compatible_endpoint(
    model: str, environ: dict[str, str], url: str, sent: str
) -> None:
    endpoint = endpoint_for(ModelConfig(name="m", model=model), environ)
    assert endpoint is not None
    assert (endpoint.url, endpoint.model) == (url, sent)


def test_providers_of_another_wire_go_through_litellm() -> None:
    registry = ModelRegistry("echo", environ={"ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k"})
    assert isinstance(registry.resolve("anthropic/claude-3-5-haiku-latest"), LiteLLMModel)
    assert isinstance(registry.resolve("gpt-4o-mini"), DirectModel)
    forced = ModelConfig(name="via-litellm", model="gpt-4o-mini", gateway="litellm")
    assert isinstance(registry.hosted_model(forced), LiteLLMModel)
    assert endpoint_for(ModelConfig(name="x", model="anthropic/claude"), {}) is None
    assert ModelRegistry("echo", environ={"OPENAI_API_KEY": "k"}).needs_litellm() is False


def test_keys_are_sent_as_each_provider_expects_and_never_shown() -> None:
    azure = ModelConfig(name="a", model="azure/d", api_base="https://x.example", api_key=KEY)
    endpoint = endpoint_for(azure, {})
    assert endpoint is not None and endpoint.headers() == {"api-key": KEY}
    openai = endpoint_for(ModelConfig(name="o", model="gpt-4o"), {"OPENAI_API_KEY": KEY})
    assert openai is not None and openai.headers() == {"Authorization": f"Bearer {KEY}"}
    assert KEY not in repr(openai) and KEY not in repr(DirectModel(azure))


async def test_a_hosted_endpoint_without_a_key_is_not_called(transport: Transport) -> None:
    model = DirectModel(ModelConfig(name="gpt-4o-mini"), transport, environ={})
    with pytest.raises(ProviderAuthenticationError) as info:
        await model.complete(ask("x"))
    assert "was not called: no API key is set (set OPENAI_API_KEY)" in info.value.message


async def test_a_self_hosted_endpoint_needs_no_key(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    done = await direct(transport, fake_openai).complete(ask("hi"))
    assert done.content == "echo: hi" and fake_openai.recorder.auth == [""]


# -- what each provider is sent -------------------------------------------------------------
async def test_reasoning_models_get_max_completion_tokens_and_no_sampling_knobs(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    sampling = SamplingParams(temperature=0.3, top_p=0.9, max_tokens=50, seed=1)
    await direct(transport, fake_openai, "openai/o3-mini").complete(ask("x", sampling=sampling))
    body = fake_openai.recorder.bodies[0]
    assert body["max_completion_tokens"] == 50 and body["seed"] == 1
    assert not {"max_tokens", "temperature", "top_p"} & set(body)


async def test_mistral_gets_only_the_fields_it_takes_in_its_names(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    sampling = SamplingParams(temperature=0.3, seed=4, presence_penalty=0.5, logit_bias={"1": 2})
    request = ask("x", sampling=sampling, tools=[TOOL], tool_choice="required")
    model = direct(transport, fake_openai, "mistral/mistral-small-latest")
    await collect(model.stream(request))
    body = fake_openai.recorder.bodies[0]
    assert body["random_seed"] == 4 and body["tool_choice"] == "any"
    assert body["temperature"] == 0.3 and body["model"] == "mistral-small-latest"
    assert not {"seed", "presence_penalty", "logit_bias", "stream_options"} & set(body)


async def test_entry_params_reach_the_body_and_headers(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    params = {"extra_body": {"top_k": 5}, "user": "u1", "extra_headers": {"X-Team": "a"}}
    await direct(transport, fake_openai, params=params).complete(ask("x"))
    body = fake_openai.recorder.bodies[0]
    assert (body["top_k"], body["user"]) == (5, "u1") and "extra_headers" not in body


# -- retries ---------------------------------------------------------------------------------
async def test_429_is_retried_after_the_providers_retry_after(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    model = direct(transport, fake_openai, max_retries=2)
    started = time.monotonic()
    done = await model.complete(ask("flaky:429:1:0.4"))
    assert done.content == "echo: flaky:429:1:0.4"
    assert time.monotonic() - started >= 0.4
    assert fake_openai.recorder.asked["flaky:429:1:0.4"] == 2


@pytest.mark.parametrize("stream", [False, True])
async def test_server_errors_are_retried_with_backoff_then_given_up(
    fake_openai: FakeOpenAI, transport: Transport, stream: bool
) -> None:
    model = direct(transport, fake_openai, max_retries=1)
    text = f"flaky:503:1:{stream}"
    done = await (collect(model.stream(ask(text))) if stream else model.complete(ask(text)))
    assert done.content.strip() == f"echo: {text}"
    with pytest.raises(UpstreamError) as info:
        await model.complete(ask("flaky:500:5"))
    assert info.value.status_code == 502
    assert fake_openai.recorder.asked["flaky:500:5"] == 2  # once, and one retry


async def test_a_retry_after_beyond_a_minute_is_passed_on_at_once(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    model = direct(transport, fake_openai, max_retries=3)
    started = time.monotonic()
    with pytest.raises(ProviderRateLimitError):
        await model.complete(ask("flaky:429:1:3600"))
    assert time.monotonic() - started < 2 and fake_openai.recorder.asked["flaky:429:1:3600"] == 1


async def test_client_errors_are_not_retried(fake_openai: FakeOpenAI, transport: Transport) -> None:
    with pytest.raises(ProviderAuthenticationError):
        await direct(transport, fake_openai, max_retries=3).complete(ask("flaky:401:1"))
    assert fake_openai.recorder.asked["flaky:401:1"] == 1


def test_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # past
    assert retry_after({"retry-after": "soon"}) is None and retry_after({}) is None
    assert all(0.375 <= backoff(0) <= 0.5 and 6 <= backoff(9) <= 8 for _ in range(50))


# -- broken replies ---------------------------------------------------------------------------
async def test_a_reply_that_is_not_json_is_a_502_in_sprigs_words(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    with pytest.raises(UpstreamError) as info:
        await direct(transport, fake_openai).complete(ask("malformed"))
    assert info.value.status_code == 502
    assert "(openai) sent a broken reply: the reply is not JSON" in info.value.message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("die", "sent a broken reply: the connection was lost during the reply"),
        ("unfinished", "sent a broken reply: the stream ended before the reply did"),
    ],
)
async def test_a_stream_that_breaks_off_keeps_what_arrived_and_says_so(
    fake_openai: FakeOpenAI, transport: Transport, text: str, says: str
) -> None:
    received: list[str] = []

    async def read() -> None:
        async for chunk in direct(transport, fake_openai).stream(ask(text)):
            received.append(chunk.content)

    with pytest.raises(UpstreamError) as info:
        await read()
    assert "two words" in received and says in info.value.message


async def test_one_pool_serves_every_model_and_request(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    first = direct(transport, fake_openai)
    second = direct(transport, fake_openai, "openai/other")
    for _ in range(3):
        await first.complete(ask("a"))
        await collect(second.stream(ask("b")))
    assert first.transport.client() is second.transport.client()
    assert [json.dumps(b["model"]) for b in fake_openai.recorder.bodies] == [
        '"fake"',
        '"other"',
    ] * 3
