"""Request shapes: typed dicts for what callers pass in (checked at run time by pydantic).

Value ranges follow the Julep typespec (WIRE.md §5.3). ``None`` always means "not given".
Unknown keys are refused, so a misspelt setting fails before any request is sent.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, Required

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from sprig.client._validation import Id

__all__ = [
    "ChatSettings",
    "ContentPartParam",
    "DocParam",
    "FunctionDefParam",
    "MessageParam",
    "PartialFunctionDefParam",
    "RecallOptionsParam",
    "ResponseFormatParam",
    "ToolChoiceParam",
    "ToolParam",
]

Preset = Literal[
    "problem_solving",
    "conversational",
    "fun",
    "prose",
    "creative",
    "business",
    "deterministic",
    "code",
    "multilingual",
]
Role = Literal["user", "assistant", "system", "tool", "function", "function_call", "auto"]
Metadata = dict[str, Any]


@with_config(ConfigDict(extra="allow"))
class ContentPartParam(TypedDict, total=False):
    """``{"type": "text", "text": ...}`` or ``{"type": "image_url", "image_url": {...}}``."""

    type: Required[str]
    text: str
    image_url: dict[str, Any]


Content = str | list[str] | list[ContentPartParam]


# One input message. Functional syntax, for the legacy ``continue`` key (a keyword).
MessageParam = TypedDict(
    "MessageParam",
    {
        "role": Required[Role],
        "content": Required[Content | None],
        "name": str | None,
        "tool_call_id": str | None,
        "tool_calls": list[dict[str, Any]] | None,
        "continue": bool | None,
    },
    total=False,
)
MessageParam.__pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[attr-defined]


@with_config(ConfigDict(extra="allow"))
class FunctionDefParam(TypedDict, total=False):
    name: Required[str]
    description: str | None
    parameters: dict[str, Any]


@with_config(ConfigDict(extra="allow"))
class PartialFunctionDefParam(TypedDict, total=False):
    """A function definition's fields to change (``PATCH``): any of them."""

    name: str
    description: str | None
    parameters: dict[str, Any]


@with_config(ConfigDict(extra="allow"))
class ToolParam(TypedDict, total=False):
    """A tool: v1 ``{name, type, description, function}`` or legacy ``{type, function}``."""

    type: Required[str]
    name: str
    description: str | None
    function: FunctionDefParam
    integration: dict[str, Any]
    system: dict[str, Any]
    api_call: dict[str, Any]


@with_config(ConfigDict(extra="forbid"))
class DocParam(TypedDict):
    title: str
    content: str | list[str]
    metadata: NotRequired[Metadata | None]
    embed_instruction: NotRequired[str | None]


@with_config(ConfigDict(extra="forbid"))
class ResponseFormatParam(TypedDict, total=False):
    type: Required[Literal["text", "json_object", "json_schema", "regex"]]
    json_schema: dict[str, Any]
    schema: dict[str, Any]
    pattern: str


class _FunctionName(TypedDict):
    name: str


@with_config(ConfigDict(extra="forbid"))
class _NamedToolChoice(TypedDict, total=False):
    type: Literal["function"]
    function: Required[_FunctionName]


ToolChoiceParam = Literal["auto", "none", "required"] | _NamedToolChoice

# The chat settings' types, shared by `ChatSettings` and the ``chat`` methods' keywords.
Unit = Annotated[float, Field(ge=0, le=1)]
Penalty = Annotated[float, Field(ge=-2, le=2)]
Scale = Annotated[float, Field(ge=0, le=2)]
LogitBias = dict[str, float | None]
MaxTokens = Annotated[int, Field(ge=1)]
Seed = Annotated[int, Field(ge=-1, le=1000)]
Stop = str | list[str]
Temperature = Annotated[float, Field(ge=0, le=5)]


@with_config(ConfigDict(extra="forbid"))
class RecallOptionsParam(TypedDict, total=False):
    """A session's ``recall_options`` (how chat searches documents)."""

    mode: Literal["text", "vector", "hybrid"]
    limit: Annotated[int, Field(ge=1, le=50)]
    lang: str
    metadata_filter: Metadata
    num_search_messages: Annotated[int, Field(ge=1, le=50)]
    max_query_length: Annotated[int, Field(ge=100, le=10_000)]
    include_embeddings: bool
    confidence: Annotated[float, Field(ge=-1, le=1)]
    mmr_strength: Annotated[float, Field(ge=0, lt=1)]
    alpha: Unit
    k_multiplier: Annotated[int, Field(ge=1, le=10)]
    trigram_similarity_threshold: Unit | None


@with_config(ConfigDict(extra="forbid"))
class ChatSettings(TypedDict, total=False):
    """Every chat setting; pass them as keywords or nested in ``settings={...}``."""

    tools: list[ToolParam] | None
    tool_choice: ToolChoiceParam | None
    frequency_penalty: Penalty | None
    presence_penalty: Penalty | None
    length_penalty: Scale | None
    repetition_penalty: Scale | None
    logit_bias: LogitBias | None
    max_tokens: MaxTokens | None
    response_format: ResponseFormatParam | None
    seed: Seed | None
    stop: Stop | None
    temperature: Temperature | None
    top_p: Unit | None
    min_p: Unit | None
    preset: Preset | None
    recall: bool | None
    record: bool | None
    remember: bool | None
    save: bool | None
    recall_tools: bool | None
    auto_run_tools: bool | None
    model: str | None
    agent: Id | None
    metadata: Metadata | None
