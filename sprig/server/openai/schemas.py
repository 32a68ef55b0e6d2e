"""Request bodies of the OpenAI-compatible routes, after the ``openai`` SDK's params types.

Fields Sprig cannot honour are refused with a 400 naming them (``n`` > 1, ``logprobs``,
audio); fields that change nothing here (``parallel_tool_calls``, ``service_tier``,
``reasoning_effort`` on a model without reasoning, ``prediction``) are accepted and
ignored, as unknown fields are.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from sprig.server.api.body import Body
from sprig.server.api.schemas import ToolIn
from sprig.server.chat.schemas import MessageIn, ResponseFormat

ModelName = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class OpenAIMessage(MessageIn):
    """A chat message; ``developer`` is OpenAI's newer name for ``system``."""

    @model_validator(mode="before")
    @classmethod
    def _developer(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("role") == "developer":
            return {**data, "role": "system"}
        return data


class StreamOptions(Body):
    include_usage: bool = False


class ChatCompletionIn(Body):
    model: ModelName
    messages: Annotated[list[OpenAIMessage], Field(min_length=1, max_length=10_000)]
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: Annotated[int, Field(ge=1, le=1)] = 1
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    seed: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, Annotated[float, Field(ge=-100, le=100)]] | None = None
    logprobs: Literal[False] | None = None
    response_format: ResponseFormat | None = None
    tools: Annotated[list[ToolIn], Field(max_length=128)] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    user: Annotated[str, StringConstraints(max_length=255)] | None = None
    metadata: dict[str, Annotated[str, StringConstraints(max_length=512)]] | None = None
    store: bool = False
    modalities: list[Literal["text"]] | None = None

    @field_validator("stop")
    @classmethod
    def _stop(cls, value: str | list[str] | None) -> list[str] | None:
        return [value] if isinstance(value, str) else value

    def sampling(self) -> dict[str, Any]:
        """Sprig's sampling settings (``max_completion_tokens`` wins over ``max_tokens``)."""
        keys = ("temperature", "top_p", "stop", "seed", "frequency_penalty", "presence_penalty")
        out: dict[str, Any] = {k: getattr(self, k) for k in keys if getattr(self, k) is not None}
        limit = self.max_completion_tokens or self.max_tokens
        if limit is not None:
            out["max_tokens"] = limit
        if self.logit_bias:
            out["logit_bias"] = self.logit_bias
        return out

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class EmbeddingIn(Body):
    input: (
        Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
        | Annotated[
            list[Annotated[str, StringConstraints(min_length=1, max_length=100_000)]],
            Field(min_length=1, max_length=2048),
        ]
    )
    model: ModelName
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Annotated[int, Field(ge=1)] | None = None
    user: str | None = None


class TextConfig(Body):
    format: dict[str, Any] | None = None


class ResponseIn(Body):
    """``POST /v1/responses``."""

    model: ModelName
    input: (
        Annotated[str, StringConstraints(min_length=1)]
        | Annotated[list[dict[str, Any]], Field(min_length=1, max_length=10_000)]
    )
    instructions: str | None = None
    previous_response_id: Annotated[str, StringConstraints(max_length=80)] | None = None
    conversation: str | dict[str, Any] | None = None
    store: bool = True
    stream: bool = False
    background: bool = False
    tools: Annotated[list[dict[str, Any]], Field(max_length=128)] | None = None
    tool_choice: str | dict[str, Any] | None = None
    text: TextConfig | None = None
    max_output_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    truncation: Literal["auto", "disabled"] = "disabled"
    reasoning: dict[str, Any] | None = None
    metadata: dict[str, Annotated[str, StringConstraints(max_length=512)]] | None = None
    parallel_tool_calls: bool = True
    user: Annotated[str, StringConstraints(max_length=255)] | None = None
    include: list[str] | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    max_tool_calls: int | None = Field(default=None, ge=1)
    safety_identifier: Annotated[str, StringConstraints(max_length=255)] | None = None
    prompt_cache_key: Annotated[str, StringConstraints(max_length=255)] | None = None

    def sampling(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.max_output_tokens is not None:
            out["max_tokens"] = self.max_output_tokens
        return out
