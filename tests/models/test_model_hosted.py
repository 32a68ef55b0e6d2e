"""Hosted models the way users expect: a provider's usual key in the environment enables its
models (listed, resolvable, usable), a local Ollama is found, and an agent naming a model no
provider serves is refused with the way to add one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sprig.server.models import hosted
from sprig.server.models.errors import UnknownModelError
from sprig.server.models.litellm_provider import LiteLLMModel
from sprig.server.models.openai_compat import DirectModel
from sprig.server.models.registry import ModelRegistry
from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, auth, build_app, make_settings
from tests.helpers.fake_openai import FakeOpenAI
from tests.helpers.servers import free_port, serve


def registry(**environ: str) -> ModelRegistry:
    return ModelRegistry.from_settings(Settings(data_dir=Path("/tmp/unused")), environ)


@pytest.mark.parametrize(
    ("environ", "name", "litellm_id", "gateway"),
    [
        ({"OPENAI_API_KEY": "k"}, "gpt-4o-mini", "gpt-4o-mini", DirectModel),
        ({"OPENAI_API_KEY": "k"}, "o3-mini", "o3-mini", DirectModel),
        ({"OPENAI_API_KEY": "k"}, "openai/gpt-4.1", "openai/gpt-4.1", DirectModel),
        ({"ANTHROPIC_API_KEY": "k"}, "anthropic/claude-3-5-haiku-latest", None, LiteLLMModel),
        (
            {"ANTHROPIC_API_KEY": "k"},
            "claude-3-5-haiku-latest",
            "anthropic/claude-3-5-haiku-latest",
            LiteLLMModel,
        ),
        (
            {"OLLAMA_API_BASE": "http://127.0.0.1:1"},
            "ollama/llama3.2",
            "ollama/llama3.2",
            DirectModel,
        ),
    ],
)
def test_a_providers_key_enables_its_models(
    environ: dict[str, str], name: str, litellm_id: str | None, gateway: type
) -> None:
    models = registry(**environ)
    model = models.resolve(name)
    assert isinstance(model, DirectModel | LiteLLMModel) and type(model) is gateway
    assert model.config.model_id == (litellm_id or name)
    if "OLLAMA_API_BASE" in environ:
        assert model.config.api_base == environ["OLLAMA_API_BASE"]
    assert models.resolve(name) is model  # made once
    assert name in models.names()


def test_enabled_providers_are_listed_and_others_are_not() -> None:
    assert "gpt-4o-mini" in registry(OPENAI_API_KEY="k").names()
    listed = registry().names()
    assert not [n for n in listed if n.startswith(("gpt-", "anthropic/"))]


def test_without_a_key_the_error_names_the_models_and_how_to_add_one() -> None:
    with pytest.raises(UnknownModelError) as info:
        registry().resolve("gpt-4o-mini")
    message = info.value.message
    assert "Unknown model 'gpt-4o-mini'" in message
    assert "smollm2-135m-instruct" in message  # what is available
    assert "OPENAI_API_KEY" in message and "SPRIG_MODELS" in message
    with pytest.raises(UnknownModelError):
        registry(ANTHROPIC_API_KEY="k").resolve("gpt-4o-mini")  # not that provider's


@pytest.fixture
def fake_ollama() -> Iterator[str]:
    app = FastAPI()

    @app.get("/api/tags")
    async def tags() -> dict[str, object]:
        return {"models": [{"name": "llama3.2:1b"}, {"name": "qwen2.5:0.5b"}]}

    with serve(app) as url:
        yield url


async def test_a_local_ollama_is_found(fake_ollama: str) -> None:
    assert await hosted.local_ollama_models(fake_ollama) == {
        "ollama/llama3.2:1b",
        "ollama/qwen2.5:0.5b",
    }
    assert await hosted.local_ollama_models(f"http://127.0.0.1:{free_port()}") == set()


async def test_discovered_ollama_models_resolve(
    fake_ollama: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hosted, "OLLAMA_DEFAULT_BASE", fake_ollama)
    monkeypatch.setattr(
        hosted, "local_ollama_models", _probe_at(fake_ollama, hosted.local_ollama_models)
    )
    models = registry()
    await models.discover()
    assert "ollama/llama3.2:1b" in models.names()
    model = models.resolve("ollama/llama3.2:1b")
    assert isinstance(model, DirectModel) and model.config.api_base == fake_ollama
    assert model.endpoint.url == f"{fake_ollama}/v1/chat/completions"


def _probe_at(base: str, probe):  # type: ignore[no-untyped-def]
    async def at_base() -> set[str]:
        return set(await probe(base))

    return at_base


@pytest.fixture
async def hosted_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_openai_server: FakeOpenAI
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with OPENAI_API_KEY set and OpenAI's base pointed at the local stub."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    monkeypatch.setenv("OPENAI_API_BASE", fake_openai_server.api_base)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai_server.api_base)
    app = build_app(make_settings(tmp_path / "data", warm_up_providers=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=auth(API_KEY)
        ) as client:
            yield client


async def test_openai_key_in_the_environment_makes_gpt_4o_mini_chat(
    hosted_client: httpx.AsyncClient, fake_openai_server: FakeOpenAI
) -> None:
    listed = (await hosted_client.get("/agents/models")).json()["models"]
    assert "gpt-4o-mini" in [m["id"] for m in listed]
    agent = await hosted_client.post("/agents", json={"name": "A", "model": "gpt-4o-mini"})
    assert agent.status_code == 201, agent.text
    session = (await hosted_client.post("/sessions", json={"agent": agent.json()["id"]})).json()
    body = {"messages": [{"role": "user", "content": "hi"}]}
    reply = await hosted_client.post(f"/sessions/{session['id']}/chat", json=body)
    assert reply.status_code == 201, reply.text
    assert reply.json()["choices"][0]["message"]["content"] == "echo: hi"
    assert fake_openai_server.recorder.auth[-1] == "Bearer sk-from-the-environment"


async def test_an_agent_with_a_model_no_provider_serves_is_refused(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post("/agents", json={"name": "A", "model": "smollm2-135m-instrukt"})
    assert r.status_code == 400
    message = r.json()["error"]["message"]
    assert "Unknown model 'smollm2-135m-instrukt'" in message and "scripted" in message
    assert "SPRIG_MODELS" in message
    agent = (await client.post("/agents", json={"name": "A"})).json()
    for method in ("PATCH", "PUT"):
        body = {"name": "A", "model": "gpt-4o-mini"}
        r = await client.request(method, f"/agents/{agent['id']}", json=body)
        assert r.status_code == 400, method
    assert (await client.get(f"/agents/{agent['id']}")).json()["model"] == "scripted"
    assert (
        await client.post("/agents", json={"name": "B", "model": "samantha-1"})
    ).status_code == 201


async def test_the_check_can_be_turned_off(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path / "data", check_agent_models=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=auth(API_KEY)
        ) as client:
            r = await client.post("/agents", json={"name": "A", "model": "configured-later"})
            assert r.status_code == 201
