"""Model registry: building from settings, resolving names, keeping keys secret."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from sprig.server.errors import BadRequestError
from sprig.server.models.errors import ModelConfigError, UnknownModelError
from sprig.server.models.litellm_provider import LiteLLMModel
from sprig.server.models.local import LOCAL_MODEL_NAME, LocalLlamaModel, bundled_model_path
from sprig.server.models.openai_compat import DirectModel
from sprig.server.models.registry import ModelRegistry, is_legacy_name
from sprig.server.models.scripted import EchoModel, ScriptedModel
from sprig.server.settings import Settings

SECRET = "sk-very-secret-" + "z" * 24


def settings(**overrides: object) -> Settings:
    return Settings(data_dir=Path("/tmp/unused"), **overrides)  # type: ignore[arg-type]


def test_default_registry_has_the_local_model() -> None:
    registry = ModelRegistry.from_settings(settings())
    assert registry.names() == [LOCAL_MODEL_NAME, "echo"]  # echo: built-in, for smoke tests
    model = registry.resolve(None)
    assert isinstance(model, LocalLlamaModel) and model.name == LOCAL_MODEL_NAME
    assert registry.default is model


@pytest.mark.parametrize(
    "name", [None, "", "julep-ai/samantha-1-turbo", "julep-ai/anything", "samantha-1-turbo"]
)
def test_missing_and_legacy_names_mean_the_default(name: str | None) -> None:
    registry = ModelRegistry.from_settings(settings())
    assert registry.resolve(name).name == LOCAL_MODEL_NAME


def test_unknown_name_is_a_400_listing_the_models() -> None:
    registry = ModelRegistry.from_settings(settings())
    registry.register(EchoModel())
    with pytest.raises(UnknownModelError) as info:
        registry.resolve("gpt-17")
    err = info.value
    assert isinstance(err, BadRequestError) and err.status_code == 400
    assert "'gpt-17'" in err.message and "echo" in err.message and LOCAL_MODEL_NAME in err.message


def test_configured_hosted_models_and_aliases() -> None:
    entries = [
        {"name": "gpt-4o-mini", "api_key": SECRET},
        {
            "name": "house",
            "model": "openai/llama3",
            "api_base": "http://127.0.0.1:9/v1",
            "aliases": ["house-llm"],
            "context_window": 4096,
        },
    ]
    registry = ModelRegistry.from_settings(settings(models=entries))
    assert registry.names() == [LOCAL_MODEL_NAME, "echo", "gpt-4o-mini", "house"]
    house = registry.resolve("house-llm")
    assert isinstance(house, DirectModel) and house.name == "house"  # an OpenAI-wire host
    assert house.config.model_id == "openai/llama3" and house.context_window == 4096
    assert "house-llm" in registry and "nope" not in registry


def test_default_model_can_be_a_litellm_model() -> None:
    entries = [{"name": "gpt-4o-mini", "api_key": SECRET}]
    registry = ModelRegistry.from_settings(settings(models=entries, default_model="gpt-4o-mini"))
    assert registry.names()[0] == "gpt-4o-mini"
    assert registry.resolve("julep-ai/samantha-1-turbo").name == "gpt-4o-mini"
    assert LOCAL_MODEL_NAME in registry.names()


def test_unconfigured_default_model_goes_through_litellm() -> None:
    registry = ModelRegistry.from_settings(settings(default_model="anthropic/claude-x"))
    model = registry.resolve(None)
    assert isinstance(model, LiteLLMModel) and model.config.model_id == "anthropic/claude-x"


def test_bad_model_entries_are_clear_config_errors_without_secrets() -> None:
    with pytest.raises(ModelConfigError) as info:
        ModelRegistry.from_settings(settings(models=[{"name": "x", "api_key": SECRET, "tmp": 1}]))
    assert "entry 0" in info.value.message and "tmp" in info.value.message
    assert SECRET not in str(info.value) and info.value.__cause__ is None
    with pytest.raises(ModelConfigError, match="name"):
        ModelRegistry.from_settings(settings(models=[{"model": "gpt-4o"}]))


def test_api_keys_never_show_in_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    entries = [{"name": "gpt-4o-mini", "api_key": SECRET, "params": {"extra_headers": {}}}]
    caplog.set_level(logging.DEBUG)
    registry = ModelRegistry.from_settings(settings(models=entries))
    model = registry.resolve("gpt-4o-mini")
    assert isinstance(model, DirectModel)
    logging.getLogger("test").info("model %r config %r %s", model, model.config, model.config)
    shown = repr(model) + repr(model.config) + str(model.config) + repr(registry.models())
    shown += repr(model.endpoint) + str(model.endpoint)
    assert SECRET not in shown and SECRET not in caplog.text
    assert model.config.api_key is not None and model.config.api_key.get_secret_value() == SECRET


def test_register_replaces_and_lists() -> None:
    registry = ModelRegistry("scripted")
    first, second = ScriptedModel(name="scripted"), ScriptedModel(name="scripted")
    registry.register(first)
    registry.register(second)
    registry.register(EchoModel(), aliases=["parrot"])
    assert registry.resolve(None) is second
    assert registry.names() == ["scripted", "echo"]
    assert registry.resolve("parrot").name == "echo"


def test_legacy_names() -> None:
    assert is_legacy_name("julep-ai/samantha-1-turbo") and not is_legacy_name("gpt-4o")


def test_local_model_path_override_and_bundle() -> None:
    assert bundled_model_path().suffix == ".gguf" and bundled_model_path().is_file()
    registry = ModelRegistry.from_settings(settings(local_model_path=Path("/nowhere/m.gguf")))
    local = registry.resolve(None)
    assert isinstance(local, LocalLlamaModel) and local.model_path == Path("/nowhere/m.gguf")
    with pytest.raises(ModelConfigError, match="not found"):
        local.load()


def test_building_the_registry_imports_no_heavy_library() -> None:
    code = (
        "import sys; from pathlib import Path; from sprig.server.settings import Settings;"
        "from sprig.server.models import ModelRegistry;"
        "r = ModelRegistry.from_settings(Settings(data_dir=Path('x'),"
        " models=[{'name': 'gpt-4o-mini'}])); r.names();"
        "print(sorted(m for m in ('litellm', 'llama_cpp', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_embedding_entries_are_not_chat_models() -> None:
    from sprig.server.models.registry import parse_model_configs

    entries = [
        {"name": "gpt-4o-mini"},
        {
            "kind": "embedding",
            "name": "embed",
            "model": "openai/text-embedding-3-small",
            "dimensions": 512,
        },
    ]
    assert [c.name for c in parse_model_configs(entries)] == ["gpt-4o-mini"]
