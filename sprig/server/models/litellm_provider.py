"""Any other model, through LiteLLM used as a library (OpenAI, Anthropic, Ollama, vLLM, ...).

LiteLLM is imported lazily (it is slow to import), after setting
``LITELLM_LOCAL_MODEL_COST_MAP`` so it never fetches its cost map from the internet; token
counting never downloads tokenizers either (tiktoken's count for models OpenAI does not serve).
JSON modes and tool calls are passed through to the provider natively. OpenAI's sampling
settings go through LiteLLM, which drops those a provider does not take (`drop_params`);
`min_p` and `repetition_penalty` are sent only to models configured with
`extra_sampling: true`; `length_penalty` is never sent.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Sequence
from functools import cached_property
from typing import Any

from sprig.server.models.base import (
    ChatMessage,
    Completion,
    CompletionChunk,
    CompletionRequest,
    Usage,
)
from sprig.server.models.config import ModelConfig
from sprig.server.models.errors import ModelConfigError
from sprig.server.models.hosted_model import HostedModel
from sprig.server.models.litellm_wire import (
    add_tool_deltas,
    completion_from_response,
    request_kwargs,
    usage_of,
)
from sprig.server.models.openai_compat.wire import ToolCallAccumulator, finish_reason_of
from sprig.server.models.provider_errors import (
    ProviderContext,
    is_provider_error,
    map_provider_error,
)
from sprig.server.observability import tracing

# Where a provider's key is read from when a model entry gives none (LiteLLM's names;
# otherwise <PROVIDER>_API_KEY).
KEY_SOURCES = {
    "azure": "AZURE_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "vertex_ai": "the Google credentials (GOOGLE_APPLICATION_CREDENTIALS)",
    "bedrock": "the AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
    "sagemaker": "the AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
}


LITELLM_MISSING = (
    "Hosted and Ollama models go through LiteLLM, which is not installed: install Sprig with "
    'its hosted extra (pip install -e ".[hosted]").'
)


def import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError as exc:
        raise ModelConfigError(LITELLM_MISSING) from exc

    litellm.suppress_debug_info = True
    # Token counts for non-OpenAI models use tiktoken (approximate) instead of fetching a
    # Hugging Face tokenizer from the internet, in the middle of a request.
    litellm.disable_hf_tokenizer_download = True
    return litellm


class LiteLLMModel(HostedModel):
    def __init__(self, config: ModelConfig) -> None:
        self.name = config.name
        self.config = config

    def __repr__(self) -> str:
        return f"LiteLLMModel(name={self.name!r}, model={self.config.model_id!r})"

    @cached_property
    def _info(self) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = import_litellm().get_model_info(self.config.model_id)
        except Exception:  # LiteLLM raises plain Exceptions for unmapped models
            return None
        return info

    def count_tokens(self, text: str) -> int:
        count: int = import_litellm().token_counter(model=self.config.model_id, text=text)
        return count

    def count_message_tokens(self, messages: Sequence[ChatMessage]) -> int:
        wire = [m.to_openai() for m in messages]
        count: int = import_litellm().token_counter(model=self.config.model_id, messages=wire)
        return count

    @cached_property
    def provider(self) -> str | None:
        """The provider LiteLLM routes this model to (None: it knows none)."""
        try:
            found = import_litellm().get_llm_provider(
                self.config.model_id, api_base=self.config.api_base
            )
        except Exception:  # LiteLLM raises its BadRequestError for an unknown provider
            return None
        return str(found[1]) if found[1] else None

    def _key_source(self) -> str:
        if self.config.api_key is not None:
            return f"the api_key of model {self.name!r} in SPRIG_MODELS"
        provider = self.provider or "provider"
        return KEY_SOURCES.get(provider, f"{provider.upper().replace('-', '_')}_API_KEY")

    def _secrets(self) -> tuple[str, ...]:
        key = self.config.api_key
        from_env = os.environ.get(self._key_source(), "")
        return tuple(s for s in (key.get_secret_value() if key else "", from_env) if s)

    def _error(self, exc: Exception) -> Exception:
        if not is_provider_error(exc):
            return exc
        context = ProviderContext(
            model=self.name,
            provider=self.provider,
            timeout=self.config.timeout,
            key_hint=self._key_source(),
            secrets=self._secrets(),
        )
        return map_provider_error(exc, context)

    async def _call(self, request: CompletionRequest, *, stream: bool) -> Any:
        kwargs = request_kwargs(self.config, request, stream=stream)
        if tracing.enabled():  # the provider's side may continue the trace
            headers = dict(kwargs.get("extra_headers") or {})
            tracing.inject(headers)
            kwargs["extra_headers"] = headers
        try:
            return await import_litellm().acompletion(**kwargs)
        except Exception as exc:
            raise self._error(exc) from exc

    async def complete(self, request: CompletionRequest) -> Completion:
        done = completion_from_response(await self._call(request, stream=False))
        return self._finished(request, done)

    async def stream(self, request: CompletionRequest) -> AsyncGenerator[CompletionChunk, None]:
        response = await self._call(request, stream=True)
        state = _StreamState()
        try:
            async for chunk in response:
                if delta := state.absorb(chunk):
                    yield CompletionChunk(content=delta)
        except Exception as exc:
            raise self._error(exc) from exc
        finally:
            await response.aclose()
        self._check_json(request, "".join(state.parts), state.finish_reason)
        yield state.last_chunk(self, request)


class _StreamState:
    """What a provider stream has said so far."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.tools = ToolCallAccumulator()
        self.finish_reason: str | None = None
        self.usage: Usage | None = None

    def absorb(self, chunk: Any) -> str:
        if getattr(chunk, "usage", None) is not None:
            self.usage = usage_of(chunk.usage)
        if not chunk.choices:
            return ""
        choice = chunk.choices[0]
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        add_tool_deltas(self.tools, getattr(choice.delta, "tool_calls", None))
        text = choice.delta.content or ""
        self.parts.append(text)
        return text

    def last_chunk(self, model: LiteLLMModel, request: CompletionRequest) -> CompletionChunk:
        calls = self.tools.calls()
        usage = self.usage or model._estimate_usage(request, "".join(self.parts))
        reason = finish_reason_of(self.finish_reason, bool(calls))
        return CompletionChunk(tool_calls=calls, finish_reason=reason, usage=usage)
