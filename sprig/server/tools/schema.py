"""JSON-schema helpers for tool parameters, validated with ``jsonschema``.

The model may fill only the properties a tool declares: `check_arguments` closes the top-level
object (``additionalProperties: false``); nested objects keep what their schema says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, best_match

from sprig.server.errors import BadRequestError

Schema = dict[str, Any]


def empty_object() -> Schema:
    return {"type": "object", "properties": {}}


def object_schema(schema: Mapping[str, Any] | None) -> Schema:
    """A parameters schema the model can take: always an object with ``properties``."""
    if not schema:
        return empty_object()
    out = dict(schema)
    out.setdefault("type", "object")
    if out["type"] != "object":
        raise BadRequestError("A tool's parameters schema must describe an object")
    out.setdefault("properties", {})
    return out


def closed(schema: Mapping[str, Any]) -> Schema:
    """The schema with no properties beyond the declared ones."""
    return {**object_schema(schema), "additionalProperties": False}


def without(schema: Mapping[str, Any], keys: Iterable[str]) -> Schema:
    """The schema minus some properties (values the tool fixes; the model may not set them)."""
    drop = set(keys)
    out = object_schema(schema)
    out["properties"] = {k: v for k, v in out["properties"].items() if k not in drop}
    if "required" in out:
        out["required"] = [k for k in out["required"] if k not in drop]
    return out


def check_schema(schema: Mapping[str, Any] | None) -> None:
    """Refuse a parameters schema that is not a valid JSON schema of an object (when a tool
    is written, so the mistake is not found only when the model calls it)."""
    full = object_schema(schema)
    cls = validators.validator_for(full, default=Draft202012Validator)
    try:
        cls.check_schema(full)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        at = f" at {where}" if where else ""
        message = f"The tool's parameters schema is invalid{at}: {exc.message}"
        raise BadRequestError(message) from None


def check_arguments(
    arguments: Mapping[str, Any], schema: Mapping[str, Any], *, force_closed: bool = True
) -> None:
    """Raise a `BadRequestError` naming the first mismatch of the arguments with the schema.

    Extra properties are refused; with ``force_closed=False`` a schema that says
    ``additionalProperties`` itself keeps its say (Sprig's own providers use this).
    """
    full = (
        closed(schema) if force_closed else {"additionalProperties": False, **object_schema(schema)}
    )
    cls = validators.validator_for(full, default=Draft202012Validator)
    try:
        cls.check_schema(full)
    except SchemaError as exc:
        raise BadRequestError(f"The tool's parameters schema is invalid: {exc.message}") from None
    error = best_match(cls(full).iter_errors(dict(arguments)))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "arguments"
        raise BadRequestError(f"Invalid tool arguments at {where}: {error.message}")
