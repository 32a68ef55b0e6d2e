"""Hosted models usable without configuration: a provider's usual key in the environment.

``OPENAI_API_KEY`` makes ``gpt-4o-mini`` (and any ``gpt-…``/``o1…``/``openai/…`` id) work,
``ANTHROPIC_API_KEY`` makes ``anthropic/…`` and ``claude-…`` work, and so on for the
providers below; ``OLLAMA_API_BASE`` (or an Ollama answering on its default local port,
found at start) makes ``ollama/…`` work. Models named in ``SPRIG_MODELS`` are not affected.
The ids are LiteLLM's; LiteLLM reads the keys from the environment itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from sprig.server.models.config import ModelConfig

log = logging.getLogger("sprig.models")
OLLAMA_DEFAULT_BASE = "http://127.0.0.1:11434"


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    key_env: str  # the environment variable that enables it
    prefixes: tuple[str, ...]  # LiteLLM's "<provider>/" prefixes
    bare: str = ""  # a regex for ids given without a prefix (``gpt-4o-mini``)
    suggested: tuple[str, ...] = ()  # listed by GET /agents/models when enabled

    def serves(self, model: str) -> bool:
        return model.startswith(self.prefixes) or bool(self.bare and re.match(self.bare, model))


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "openai",
        "OPENAI_API_KEY",
        ("openai/",),
        r"(gpt-|chatgpt-|o[1-9](-|$))",
        ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1"),
    ),
    Provider(
        "anthropic",
        "ANTHROPIC_API_KEY",
        ("anthropic/",),
        r"claude-",
        ("anthropic/claude-3-5-haiku-latest", "anthropic/claude-sonnet-4-20250514"),
    ),
    Provider("gemini", "GEMINI_API_KEY", ("gemini/",), "", ("gemini/gemini-2.0-flash",)),
    Provider("groq", "GROQ_API_KEY", ("groq/",), "", ("groq/llama-3.3-70b-versatile",)),
    Provider("mistral", "MISTRAL_API_KEY", ("mistral/",), "", ("mistral/mistral-small-latest",)),
    Provider("deepseek", "DEEPSEEK_API_KEY", ("deepseek/",), "", ("deepseek/deepseek-chat",)),
    Provider("openrouter", "OPENROUTER_API_KEY", ("openrouter/",)),
    Provider("together_ai", "TOGETHERAI_API_KEY", ("together_ai/",)),
    Provider("ollama", "OLLAMA_API_BASE", ("ollama/", "ollama_chat/")),
)


def enabled(environ: Mapping[str, str]) -> list[Provider]:
    return [p for p in PROVIDERS if environ.get(p.key_env)]


def config_for(model: str, environ: Mapping[str, str], ollama: set[str]) -> ModelConfig | None:
    """A LiteLLM model entry for ``model`` if an enabled provider serves it, else None.

    ``ollama`` holds the models a local Ollama listed at start (without ``OLLAMA_API_BASE``).
    """
    for provider in enabled(environ):
        if provider.serves(model):
            base = environ.get("OLLAMA_API_BASE") if provider.name == "ollama" else None
            return ModelConfig(name=model, model=_litellm_id(provider, model), api_base=base)
    if model in ollama:
        return ModelConfig(name=model, api_base=OLLAMA_DEFAULT_BASE)
    return None


def _litellm_id(provider: Provider, model: str) -> str:
    if provider.name == "anthropic" and not model.startswith(provider.prefixes):
        return f"anthropic/{model}"
    return model


def suggestions(environ: Mapping[str, str]) -> list[str]:
    """Models to list for the enabled providers (any other id of theirs works too)."""
    return [name for p in enabled(environ) for name in p.suggested]


PROBE_SECONDS = 0.5


async def local_ollama_models(base: str = OLLAMA_DEFAULT_BASE) -> set[str]:
    """``ollama/<name>`` for each model a local Ollama has pulled; empty when none answers."""
    try:
        async with httpx.AsyncClient(timeout=PROBE_SECONDS, trust_env=False) as client:
            response = await client.get(f"{base}/api/tags")
            response.raise_for_status()
            tags = response.json().get("models") or []
    except (httpx.HTTPError, ValueError, AttributeError):
        return set()
    found = {f"ollama/{t['name']}" for t in tags if isinstance(t, dict) and t.get("name")}
    if found:
        log.info("local Ollama at %s serves %d model(s)", base, len(found))
    return found
