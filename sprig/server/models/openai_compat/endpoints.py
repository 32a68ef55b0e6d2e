"""Which providers speak the OpenAI chat-completions wire, where, with which key and quirks.

A model id names its provider LiteLLM's way (``groq/llama-3.3-70b-versatile``,
``openai/<name>`` for any OpenAI-compatible host, a bare ``gpt-4o-mini`` for OpenAI), so a
``SPRIG_MODELS`` entry means the same whichever gateway serves it. The request fields a
provider does not take are dropped here, as LiteLLM's ``drop_params`` would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sprig.server.models.config import ModelConfig

Body = dict[str, Any]
OLLAMA_DEFAULT_BASE = "http://127.0.0.1:11434"
AZURE_DEFAULT_VERSION = "2024-10-21"
# OpenAI's reasoning models take max_completion_tokens and none of the sampling knobs.
_REASONING = re.compile(r"^(o\d|gpt-5)")
_REASONING_DROPS = frozenset(
    {"temperature", "top_p", "frequency_penalty", "presence_penalty", "logit_bias"}
)


def _no_change(body: Body, model: str) -> Body:
    return body


def _openai_quirks(body: Body, model: str) -> Body:
    if not _REASONING.match(model):
        return body
    out = {k: v for k, v in body.items() if k not in _REASONING_DROPS}
    if "max_tokens" in out:
        out["max_completion_tokens"] = out.pop("max_tokens")
    return out


_MISTRAL_TAKES = frozenset(
    {"model", "stream", "temperature", "top_p", "max_tokens", "stop", "seed",
     "response_format", "tools", "tool_choice", "parallel_tool_calls"}
)  # fmt: skip


def _mistral_quirks(body: Body, model: str) -> Body:
    """Mistral refuses unknown fields: keep what it takes, in its names."""
    out = {k: v for k, v in body.items() if k in _MISTRAL_TAKES}
    if "seed" in out:
        out["random_seed"] = out.pop("seed")
    choice = out.get("tool_choice")
    if choice is not None and choice not in ("auto", "none"):
        out["tool_choice"] = "any"  # Mistral's "required"; it cannot name one function
    return out


@dataclass(frozen=True, slots=True)
class Wire:
    """A provider that speaks the OpenAI chat-completions wire."""

    name: str
    prefixes: tuple[str, ...]
    base: str | None  # its hosted endpoint; None: ``api_base`` is required
    key_env: str | None  # where its key is read when the entry gives none
    base_env: tuple[str, ...] = ()  # environment variables that move the endpoint
    bare: str = ""  # a regex for ids given without a prefix
    quirks: Callable[[Body, str], Body] = _no_change

    def serves(self, model: str) -> bool:
        return model.startswith(self.prefixes) or bool(self.bare and re.match(self.bare, model))

    def strip(self, model: str) -> str:
        for prefix in self.prefixes:
            if model.startswith(prefix):
                return model[len(prefix) :]
        return model


WIRES: tuple[Wire, ...] = (
    Wire(
        "openai",
        ("openai/",),
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
        ("OPENAI_BASE_URL", "OPENAI_API_BASE"),
        bare=r"(gpt-|chatgpt-|o[1-9](-|$))",
        quirks=_openai_quirks,
    ),
    Wire("azure", ("azure/",), None, "AZURE_API_KEY", ("AZURE_API_BASE",), quirks=_openai_quirks),
    Wire("groq", ("groq/",), "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    Wire("deepseek", ("deepseek/",), "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    Wire(
        "mistral",
        ("mistral/",),
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
        (),
        "",
        _mistral_quirks,
    ),
    Wire("openrouter", ("openrouter/",), "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    Wire("together_ai", ("together_ai/",), "https://api.together.xyz/v1", "TOGETHERAI_API_KEY"),
    Wire("ollama", ("ollama/", "ollama_chat/"), OLLAMA_DEFAULT_BASE, None, ("OLLAMA_API_BASE",)),
    Wire("hosted_vllm", ("hosted_vllm/",), None, "HOSTED_VLLM_API_KEY", ("HOSTED_VLLM_API_BASE",)),
    Wire("lm_studio", ("lm_studio/",), "http://127.0.0.1:1234/v1", None, ("LM_STUDIO_API_BASE",)),
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how one model is called; ``key`` is a secret (never logged)."""

    provider: str
    url: str
    model: str  # the id sent in the body
    key: str = field(default="", repr=False)
    key_hint: str = "the provider's API key"  # where the key comes from, for messages
    key_required: bool = False  # the provider's own hosted endpoint needs one
    extra_headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    quirks: Callable[[Body, str], Body] = _no_change

    def headers(self) -> dict[str, str]:
        out = dict(self.extra_headers)
        if self.key:
            if self.provider == "azure":
                out["api-key"] = self.key
            else:
                out["Authorization"] = f"Bearer {self.key}"
        return out

    def adapt(self, body: Body) -> Body:
        return self.quirks(body, self.model)


def wire_of(model: str) -> Wire | None:
    return next((w for w in WIRES if w.serves(model)), None)


def speaks_openai(config: ModelConfig) -> bool:
    """Whether the direct gateway serves this entry (``gateway: auto``)."""
    if config.gateway != "auto":
        return config.gateway == "direct"
    return wire_of(config.model_id) is not None


def endpoint_for(config: ModelConfig, environ: Mapping[str, str]) -> Endpoint | None:
    """The endpoint of a direct model; None when its provider or its URL is not known."""
    wire = wire_of(config.model_id) or (WIRES[0] if config.gateway == "direct" else None)
    if wire is None:
        return None
    base = config.api_base or _first(environ, wire.base_env) or wire.base
    if not base:
        return None
    key, hint = _key(config, wire, environ)
    model = wire.strip(config.model_id)
    return Endpoint(
        provider=wire.name,
        url=_url(wire, base, model, config.api_version or environ.get("AZURE_API_VERSION")),
        model=model,
        key=key,
        key_hint=hint,
        key_required=base == wire.base and wire.key_env is not None,
        extra_headers=dict(config.params.get("extra_headers") or {}),
        quirks=wire.quirks,
    )


def _first(environ: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    return next((environ[n] for n in names if environ.get(n)), None)


def _key(config: ModelConfig, wire: Wire, environ: Mapping[str, str]) -> tuple[str, str]:
    if config.api_key is not None:
        hint = f"the api_key of model {config.name!r} in SPRIG_MODELS"
        return config.api_key.get_secret_value(), hint
    if wire.key_env is None:
        return "", "the provider's API key"
    return environ.get(wire.key_env, ""), wire.key_env


def _url(wire: Wire, base: str, model: str, api_version: str | None) -> str:
    base = base.rstrip("/")
    if wire.name == "azure":
        version = quote(api_version or AZURE_DEFAULT_VERSION, safe="")
        deployment = quote(model, safe="")
        return f"{base}/openai/deployments/{deployment}/chat/completions?api-version={version}"
    if wire.name == "ollama" and not base.endswith("/v1"):
        base += "/v1"  # Ollama's OpenAI-compatible API
    return f"{base}/chat/completions"
