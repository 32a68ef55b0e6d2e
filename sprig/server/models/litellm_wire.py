"""Translation between Sprig's model types and LiteLLM's OpenAI-shaped calls and replies."""

from __future__ import annotations

from typing import Any

from sprig.server.models.base import Completion, CompletionRequest, ToolCall, Usage
from sprig.server.models.config import ModelConfig
from sprig.server.models.openai_compat.wire import (
    ToolCallAccumulator,
    extra_sampling_fields,
    finish_reason_of,
    request_fields,
)


def request_kwargs(
    config: ModelConfig, request: CompletionRequest, *, stream: bool
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        **config.params,
        "model": config.model_id,
        "messages": [m.to_openai() for m in request.messages],
        "timeout": config.timeout,
        "max_retries": config.max_retries,
        # LiteLLM maps OpenAI's settings per provider and drops what one does not take.
        "drop_params": True,
        # Our tools are plain functions: skip LiteLLM's MCP gateway check, which otherwise
        # imports the optional `mcp` package whenever tools are present.
        "_skip_mcp_handler": True,
        **request_fields(request, stream=stream),
    }
    if config.extra_sampling and (extra := extra_sampling_fields(request.sampling)):
        kwargs["extra_body"] = extra  # min_p, repetition_penalty: in the body, as vLLM reads
    kwargs.update(_connection(config))
    return kwargs


def _connection(config: ModelConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if config.api_key is not None:
        out["api_key"] = config.api_key.get_secret_value()
    if config.api_base:
        out["api_base"] = config.api_base
    if config.api_version:
        out["api_version"] = config.api_version
    return out


def usage_of(usage: Any) -> Usage:
    return Usage(
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
    )


def completion_from_response(response: Any) -> Completion:
    choice = response.choices[0]
    message = choice.message
    calls = [
        ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments or "{}")
        for c in (getattr(message, "tool_calls", None) or [])
    ]
    usage = getattr(response, "usage", None)
    return Completion(
        content=message.content or "",
        tool_calls=calls,
        finish_reason=finish_reason_of(choice.finish_reason, bool(calls)),
        usage=usage_of(usage) if usage is not None else Usage(),
    )


def add_tool_deltas(calls: ToolCallAccumulator, deltas: Any) -> None:
    """Streamed tool-call fragments as LiteLLM's objects give them."""
    for position, delta in enumerate(deltas or []):
        index = getattr(delta, "index", None)
        function = getattr(delta, "function", None)
        calls.add(
            position if index is None else index,
            getattr(delta, "id", None),
            getattr(function, "name", None),
            getattr(function, "arguments", None),
        )
