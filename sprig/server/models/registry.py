"""Which model answers a name: the local default, configured hosted models, test models.

A hosted model whose provider speaks the OpenAI chat-completions wire is served by Sprig's
own client (``openai_compat``); any other goes through LiteLLM (``gateway`` in its entry
chooses otherwise).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from sprig.server.models import hosted, tokens
from sprig.server.models.base import ChatModel
from sprig.server.models.config import ModelConfig
from sprig.server.models.errors import ModelConfigError, UnknownModelError
from sprig.server.models.litellm_provider import LiteLLMModel, import_litellm
from sprig.server.models.local import LOCAL_MODEL_NAME, LocalLlamaModel
from sprig.server.models.openai_compat import DirectModel, Transport, endpoint_for, speaks_openai
from sprig.server.models.openai_compat.endpoints import wire_of
from sprig.server.models.scripted import EchoModel
from sprig.server.settings import Settings

log = logging.getLogger("sprig.models")
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
        self.transport = Transport()  # one connection pool for every direct model

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
            registry.register(registry.hosted_model(config), aliases=config.aliases)
        if settings.default_model not in registry:
            # e.g. SPRIG_DEFAULT_MODEL=gpt-4o-mini with the key in OPENAI_API_KEY
            registry.register(registry.hosted_model(ModelConfig(name=settings.default_model)))
        return registry

    def hosted_model(self, config: ModelConfig) -> ChatModel:
        """The direct gateway's model when it can serve the entry, else LiteLLM's."""
        if speaks_openai(config) and endpoint_for(config, self._environ) is not None:
            return DirectModel(config, self.transport, self._environ)
        return LiteLLMModel(config)

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
        model = self.hosted_model(config)
        self.register(model)
        return model

    async def discover(self) -> None:
        """Ask a local Ollama which models it has (unless OLLAMA_API_BASE names one)."""
        if not self._environ.get("OLLAMA_API_BASE"):
            self._ollama = await hosted.local_ollama_models()

    def needs_litellm(self) -> bool:
        """Whether a configured or environment-enabled model goes through LiteLLM."""
        configured = any(isinstance(m, LiteLLMModel) for m in self._models.values())
        enabled = hosted.enabled(self._environ)
        return configured or any(wire_of(p.prefixes[0]) is None for p in enabled)

    def _direct_models(self) -> list[DirectModel]:
        return [m for m in self._models.values() if isinstance(m, DirectModel)]

    async def warm_up_hosted(self, *, litellm: bool = True) -> None:
        """Load the direct models' tokenizers (and those of the providers the environment
        enables) off the event loop; import LiteLLM (seconds) if a model may need it."""
        for model in self._direct_models():
            await model.warm_up()
        if any(wire_of(p.prefixes[0]) for p in hosted.enabled(self._environ)):
            await asyncio.to_thread(tokens.counter, "o200k_base")
            await asyncio.to_thread(tokens.counter, "cl100k_base")
        if litellm and self.needs_litellm():
            try:
                await asyncio.to_thread(import_litellm)
            except ModelConfigError as exc:  # LiteLLM is not installed
                log.warning("%s", exc)

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

    async def aclose(self) -> None:
        """Close the direct models' connections, then free the models."""
        await self.transport.aclose()
        self.close()


def is_legacy_name(name: str) -> bool:
    return name.startswith(LEGACY_PREFIX) or name in LEGACY_NAMES


def parse_model_configs(entries: Iterable[dict[str, Any]]) -> list[ModelConfig]:
    configs = []
    for position, entry in enumerate(entries):
        if entry.get("kind") == "embedding":
            continue  # an embedding model (see embeddings/factory.py), not a chat model
        try:
            configs.append(ModelConfig.model_validate(entry))
        except PydanticValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors()
            )
            raise ModelConfigError(f"SPRIG_MODELS entry {position}: {problems}") from None
    return configs
