"""Which model answers a name: the local default, configured LiteLLM models, test models."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from sprig.server.models import hosted
from sprig.server.models.base import ChatModel
from sprig.server.models.errors import ModelConfigError, UnknownModelError
from sprig.server.models.litellm_config import LiteLLMConfig
from sprig.server.models.litellm_provider import LiteLLMModel
from sprig.server.models.local import LOCAL_MODEL_NAME, LocalLlamaModel
from sprig.server.models.scripted import EchoModel
from sprig.server.settings import Settings

# Names Julep clients send by default; they mean "the server's default model".
LEGACY_PREFIX = "julep-ai/"
LEGACY_NAMES = frozenset({"samantha-1", "samantha-1-turbo", "samantha-1-alpha"})


class ModelRegistry:
    def __init__(self, default: str, environ: Mapping[str, str] | None = None) -> None:
        self.default_name = default
        self._models: dict[str, ChatModel] = {}
        self._aliases: dict[str, str] = {}
        self._environ = os.environ if environ is None else environ
        self._ollama: set[str] = set()  # what a local Ollama listed at start

    @classmethod
    def from_settings(
        cls, settings: Settings, environ: Mapping[str, str] | None = None
    ) -> ModelRegistry:
        registry = cls(settings.default_model, environ)
        registry.register(
            LocalLlamaModel(
                LOCAL_MODEL_NAME,
                model_path=settings.local_model_path,
                n_ctx=settings.local_model_context,
                n_threads=settings.local_model_threads,
                loop_guard=settings.local_model_loop_guard,
            )
        )
        registry.register(EchoModel("echo"))  # repeats the last user message: smoke tests
        for config in parse_model_configs(settings.models):
            registry.register(LiteLLMModel(config), aliases=config.aliases)
        if settings.default_model not in registry:
            # e.g. SPRIG_DEFAULT_MODEL=gpt-4o-mini with the key in OPENAI_API_KEY
            registry.register(LiteLLMModel(LiteLLMConfig(name=settings.default_model)))
        return registry

    def register(self, model: ChatModel, *, aliases: Iterable[str] = ()) -> None:
        """Add (or replace) a model; aliases resolve to it too."""
        self._models[model.name] = model
        for alias in aliases:
            self._aliases[alias] = model.name

    def __contains__(self, name: object) -> bool:
        return name in self._models or name in self._aliases

    def names(self) -> list[str]:
        """Model names for GET /agents/models: the default first, then by name (with the
        hosted models the environment's keys enable, and a local Ollama's)."""
        known = {*self._models, *hosted.suggestions(self._environ), *self._ollama}
        rest = sorted(n for n in known if n != self.default_name)
        return ([self.default_name] if self.default_name in self._models else []) + rest

    @property
    def default(self) -> ChatModel:
        return self.resolve(None)

    def resolve(self, name: str | None) -> ChatModel:
        """The model for an agent's or request's `model` (None or a legacy Julep name: default)."""
        key = self._canonical(name)
        model = self._models.get(key)
        if model is None:
            model = self._hosted(key)
        return model

    def _hosted(self, name: str) -> ChatModel:
        """A provider's model enabled by its key in the environment, made on first use."""
        config = hosted.config_for(name, self._environ, self._ollama)
        if config is None:
            raise UnknownModelError(name, self.names())
        model = LiteLLMModel(config)
        self.register(model)
        return model

    async def discover(self) -> None:
        """Ask a local Ollama which models it has (unless OLLAMA_API_BASE names one)."""
        if not self._environ.get("OLLAMA_API_BASE"):
            self._ollama = await hosted.local_ollama_models()

    def uses_litellm(self) -> bool:
        """Whether a configured or environment-enabled model goes through LiteLLM."""
        configured = any(isinstance(m, LiteLLMModel) for m in self._models.values())
        return configured or bool(hosted.enabled(self._environ)) or bool(self._ollama)

    def _canonical(self, name: str | None) -> str:
        if name is None or not name.strip() or is_legacy_name(name):
            return self.default_name
        return self._aliases.get(name, name)

    def models(self) -> list[ChatModel]:
        return [self._models[n] for n in self.names()]

    def close(self) -> None:
        """Free every model's resources (call at shutdown)."""
        for model in self._models.values():
            model.close()


def is_legacy_name(name: str) -> bool:
    return name.startswith(LEGACY_PREFIX) or name in LEGACY_NAMES


def parse_model_configs(entries: Iterable[dict[str, Any]]) -> list[LiteLLMConfig]:
    configs = []
    for position, entry in enumerate(entries):
        if entry.get("kind") == "embedding":
            continue  # an embedding model (see embeddings/factory.py), not a chat model
        try:
            configs.append(LiteLLMConfig.model_validate(entry))
        except PydanticValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors()
            )
            raise ModelConfigError(f"SPRIG_MODELS entry {position}: {problems}") from None
    return configs
