"""Translation between Sprig's model types and LiteLLM's OpenAI-shaped calls and replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sprig.server.models.base import (
    Completion,
    CompletionRequest,
    FinishReason,
    SamplingParams,
    ToolCall,
    ToolChoice,
    Usage,
)
from sprig.server.models.litellm_config import LiteLLMConfig

# OpenAI's sampling parameters: LiteLLM maps them per provider and drops what a provider
# does not take (`drop_params`).
OPENAI_SAMPLING = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "logit_bias",
)
# Not OpenAI's: sent (in the body, as vLLM and llama.cpp's server read them) only for models
# configured with `extra_sampling: true`; dropped otherwise.
EXTRA_SAMPLING = ("min_p", "repetition_penalty")
FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


def sampling_kwargs(params: SamplingParams, *, extra: bool = False) -> dict[str, Any]:
    values = params.as_dict()
    out: dict[str, Any] = {k: values[k] for k in OPENAI_SAMPLING if k in values}
    if params.seed is not None and params.seed >= 0:  # Julep's -1 means "random"
        out["seed"] = params.seed
    body = {k: values[k] for k in EXTRA_SAMPLING if k in values}
    if extra and body:
        out["extra_body"] = body
    return out


def tool_choice_wire(choice: ToolChoice | None) -> ToolChoice | None:
    """OpenAI's shape; accepts Julep's `{function: {name}}` without `type`."""
    if isinstance(choice, dict) and "type" not in choice and "function" in choice:
        function = {"name": choice["function"].get("name")}
        return {"type": "function", "function": function}
    return choice


def request_kwargs(
    config: LiteLLMConfig, request: CompletionRequest, *, stream: bool
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        **config.params,
        "model": config.litellm_model,
        "messages": [m.to_openai() for m in request.messages],
        "timeout": config.timeout,
        "max_retries": config.max_retries,
        "drop_params": True,
        # Our tools are plain functions: skip LiteLLM's MCP gateway check, which otherwise
        # imports the optional `mcp` package whenever tools are present.
        "_skip_mcp_handler": True,
        **sampling_kwargs(request.sampling, extra=config.extra_sampling),
    }
    kwargs.update(_connection(config))
    if request.response_format and request.response_format.get("type", "text") != "text":
        kwargs["response_format"] = request.response_format
    if request.tools:
        kwargs["tools"] = [t.to_openai() for t in request.tools]
        if request.tool_choice is not None:
            kwargs["tool_choice"] = tool_choice_wire(request.tool_choice)
    if stream:
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
    return kwargs


def _connection(config: LiteLLMConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if config.api_key is not None:
        out["api_key"] = config.api_key.get_secret_value()
    if config.api_base:
        out["api_base"] = config.api_base
    if config.api_version:
        out["api_version"] = config.api_version
    return out


def finish_reason_of(reason: str | None, has_tool_calls: bool) -> FinishReason:
    if has_tool_calls:
        return "tool_calls"
    return FINISH_REASONS.get(reason or "stop", "stop")


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


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallAccumulator:
    """Gathers streamed tool-call fragments (keyed by index) into whole `ToolCall`s."""

    def __init__(self) -> None:
        self._calls: dict[int, _PartialCall] = {}

    def add(self, deltas: Any) -> None:
        for position, delta in enumerate(deltas or []):
            index = getattr(delta, "index", None)
            call = self._calls.setdefault(position if index is None else index, _PartialCall())
            call.id = getattr(delta, "id", None) or call.id
            function = getattr(delta, "function", None)
            if function is not None:
                call.name = getattr(function, "name", None) or call.name
                call.arguments.append(getattr(function, "arguments", None) or "")

    def calls(self) -> list[ToolCall]:
        return [
            ToolCall(id=c.id or f"call_{i}", name=c.name, arguments="".join(c.arguments) or "{}")
            for i, c in sorted(self._calls.items())
        ]
