"""The chat request: v1 fields and the legacy (0.x) spellings, normalised into one shape.

Legacy roles map to v1 (``function`` → ``tool``; ``function_call``/``auto`` → ``assistant``);
a string ``stop`` becomes a list; settings may also come nested in ``settings``; ``save``
falls back to the legacy ``record``. ``remember`` asks for long-term memories and is *not*
a synonym of ``save``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, field_validator, model_validator

from sprig.server.api.body import Body
from sprig.server.api.schemas import ToolIn
from sprig.server.models.presets import PRESET_NAMES

LEGACY_ROLES = {"function": "tool", "function_call": "assistant", "auto": "assistant"}
SETTING_KEYS = (
    "temperature",
    "top_p",
    "min_p",
    "max_tokens",
    "stop",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "repetition_penalty",
    "length_penalty",
    "logit_bias",
    "preset",
    "response_format",
)


class TextPart(Body):
    type: Literal["text"]
    text: str


class ImageUrl(Body):
    url: Annotated[str, Field(min_length=1)]
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(Body):
    type: Literal["image_url"]
    image_url: ImageUrl


MediaPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class ToolResultPart(Body):
    type: Literal["tool_result"]
    tool_use_id: Annotated[str, Field(min_length=1, max_length=255)]
    content: str | list[MediaPart] | dict[str, Any] | None = None


Part = Annotated[TextPart | ImagePart | ToolResultPart, Field(discriminator="type")]


_TEXT: dict[str, Any] = {"type": "string", "minLength": 1}


class MessageIn(Body):
    model_config = ConfigDict(
        json_schema_extra={  # what `_shape` checks, for the document
            "anyOf": [
                {"required": ["content"], "properties": {"content": {"not": {"type": "null"}}}},
                {
                    "required": ["tool_calls"],
                    "properties": {"tool_calls": {"type": "array", "minItems": 1}},
                },
            ],
            "if": {"required": ["role"], "properties": {"role": {"const": "tool"}}},
            "then": {
                "anyOf": [
                    {"required": ["tool_call_id"], "properties": {"tool_call_id": _TEXT}},
                    {"required": ["name"], "properties": {"name": _TEXT}},
                ]
            },
        }
    )
    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[str] | list[Part] | None = None
    name: Annotated[str, Field(max_length=255)] | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_role(cls, data: Any) -> Any:
        role = data.get("role") if isinstance(data, dict) else None
        if role == "function_call":
            data = {**data, **_legacy_call(data.get("content"))}
        if isinstance(role, str) and role in LEGACY_ROLES:
            data = {**data, "role": LEGACY_ROLES[role]}
        return data

    @model_validator(mode="after")
    def _shape(self) -> MessageIn:
        if self.content is None and not self.tool_calls:
            raise ValueError("a message needs content (or tool_calls)")
        if self.role == "tool" and not self.tool_call_id and not self.name:
            raise ValueError("a tool message needs tool_call_id")
        return self

    def stored_content(self) -> Any:
        if isinstance(self.content, list):
            return [_dump(p) for p in self.content]
        return self.content


def _legacy_call(content: Any) -> dict[str, Any]:
    """A 0.x ``function_call`` message's content, the JSON of ``{name, arguments}``, as
    the assistant's tool call (its id is filled in when the turn links results to calls)."""
    try:
        call = json.loads(content) if isinstance(content, str) else None
    except ValueError:
        return {}
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return {}
    args = call.get("arguments", {})
    arguments = args if isinstance(args, str) else json.dumps(args)
    function = {"name": call["name"], "arguments": arguments}
    return {"content": None, "tool_calls": [{"id": "", "type": "function", "function": function}]}


def _dump(part: str | Body) -> Any:
    return part if isinstance(part, str) else part.model_dump(exclude_none=True)


class ResponseFormat(Body):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")

    def as_dict(self) -> dict[str, Any] | None:
        if self.type == "text":
            return None
        out: dict[str, Any] = {"type": self.type}
        if self.type == "json_schema":
            # no schema: a 400 from models/formats.py, before anything is saved
            out["json_schema"] = self.json_schema or (
                {"schema": self.schema_} if self.schema_ else None
            )
        return out


class Settings(Body):
    temperature: float | None = Field(default=None, ge=0, le=5)
    top_p: float | None = Field(default=None, ge=0, le=1)
    min_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    seed: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    repetition_penalty: float | None = Field(default=None, ge=0, le=2)
    length_penalty: float | None = Field(default=None, ge=0, le=2)
    logit_bias: dict[str, float | None] | None = None
    preset: Literal[PRESET_NAMES] | None = None  # type: ignore[valid-type]
    response_format: ResponseFormat | None = None

    @field_validator("stop")
    @classmethod
    def _stop(cls, value: str | list[str] | None) -> list[str] | None:
        if isinstance(value, str):
            value = [value]
        if value is not None and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value


class ChatIn(Settings):
    messages: Annotated[list[MessageIn], Field(min_length=1, max_length=10_000)]
    settings: Settings | None = None
    agent: UUID | None = None
    model: Annotated[str, Field(max_length=255)] | None = None
    metadata: dict[str, Any] | None = None
    save: bool | None = None
    record: bool | None = None
    remember: bool | None = None
    recall: bool | None = None
    recall_tools: bool = True
    stream: bool = False
    tools: list[ToolIn] | None = None
    tool_choice: str | dict[str, Any] | None = None
    auto_run_tools: bool | None = None

    def sampling(self) -> dict[str, Any]:
        """The request's own settings: top-level keys win over the nested ``settings``."""
        nested = self.settings.values() if self.settings else {}
        top = self.values(include=set(SETTING_KEYS))
        merged = {**nested, **top}
        merged.pop("response_format", None)
        if isinstance(merged.get("logit_bias"), dict):
            merged["logit_bias"] = {k: v for k, v in merged["logit_bias"].items() if v is not None}
        return merged

    def response_format_dict(self) -> dict[str, Any] | None:
        chosen = self.response_format or (self.settings.response_format if self.settings else None)
        return chosen.as_dict() if chosen else None

    def should_save(self) -> bool:
        for flag in (self.save, self.record):
            if flag is not None:
                return flag
        return True
