"""`response_format` handling shared by providers: which JSON mode, and checking the output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from sprig.server.errors import BadRequestError, NotImplementedFeatureError
from sprig.server.models.errors import InvalidModelOutputError

JsonMode = Literal["json_object", "json_schema"]


@dataclass(frozen=True, slots=True)
class JsonFormat:
    mode: JsonMode
    schema: dict[str, Any] | None = None


def json_format(response_format: dict[str, Any] | None) -> JsonFormat | None:
    """The JSON constraint a `response_format` asks for (None for plain text).

    Accepts the OpenAI/Julep v1 shapes (`json_object`, `json_schema` with
    `json_schema.schema`) and the 0.x `{type: json_object, schema}` shape.
    """
    if not response_format:
        return None
    kind = response_format.get("type", "text")
    if kind == "text":
        return None
    if kind == "json_object":
        schema = response_format.get("schema")
        return JsonFormat("json_object", schema if isinstance(schema, dict) else None)
    if kind == "json_schema":
        return JsonFormat("json_schema", _schema_of(response_format))
    if kind == "regex":
        raise NotImplementedFeatureError("response_format type 'regex' is not supported.")
    raise BadRequestError(f"Unknown response_format type {kind!r}.")


def _schema_of(response_format: dict[str, Any]) -> dict[str, Any]:
    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(schema, dict):
        raise BadRequestError("response_format json_schema needs json_schema.schema (object).")
    return schema


def parse_json_output(text: str, model: str) -> Any:
    """The reply parsed as JSON, or a clear upstream error naming the model."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        preview = text if len(text) <= 200 else text[:200] + "..."
        raise InvalidModelOutputError(
            f"Model {model!r} was asked for JSON but replied with invalid JSON "
            f"({exc.msg} at char {exc.pos}): {preview!r}"
        ) from exc
