"""The SDK's response types (sprig/client/types.py) agree with the server's documented
responses (``/openapi.json``): each field an SDK model reads is a property the server's
schema has, of a JSON type the SDK accepts, and a field the SDK requires is one the server
always sends."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from sprig.client import types as sdk
from tests.helpers.app import build_app, make_settings

# SDK model -> the component schema of what the server sends in its place.
COMPONENTS: dict[type[BaseModel], str] = {
    sdk.Agent: "Agent",
    sdk.User: "User",
    sdk.Session: "Session",
    sdk.Tool: "Tool",
    sdk.FunctionDef: "ToolFunction",
    sdk.Doc: "Doc",
    sdk.DocOwner: "DocOwner",
    sdk.Snippet: "Snippet",
    sdk.DocReference: "DocReference",
    sdk.DocSearchResponse: "SearchResult",
    sdk.JobStatus: "Job",
    sdk.Memory: "Memory",
    sdk.Suggestion: "Suggestion",
    sdk.ChatMlMessage: "ChatMlMessage",
    sdk.Entry: "Entry",
    sdk.Relation: "Relation",
    sdk.History: "History",
    sdk.ChatResponse: "ChatResponse",
    sdk.Choice: "Choice",
    sdk.ChatMessage: "ReplyMessage",
    sdk.ToolCall: "ToolCall",
    sdk.Usage: "Usage",
    sdk.TurnTrace: "TurnTrace",
    sdk.TurnPhase: "TracePhase",
    sdk.DocIds: "DocIds",
    sdk.ChunkChatResponse: "ChatChunk",
    sdk.ChunkChoice: "ChunkChoice",
    sdk.Delta: "Delta",
    sdk.ResourceDeletedResponse: "Deleted",
    sdk.ResourceCreatedResponse: "Agent",  # what a create answers (any resource)
    sdk.ResourceUpdatedResponse: "Agent",
}
# SDK fields the server's answer does not carry, and why the SDK keeps them.
NOT_SENT = {
    (sdk.ChatMessage, "name"): "the SDK's message type is ChatML's, shared with its input",
    (sdk.ChatMessage, "tool_call_id"): "the same",
    (sdk.Choice, "tool_calls"): "older servers put a reply's calls on the choice",
}


@functools.cache
def _schemas() -> dict[str, Any]:
    app = build_app(make_settings(Path(tempfile.mkdtemp()) / "data"))
    schemas: dict[str, Any] = app.openapi()["components"]["schemas"]
    return schemas


def _types(schema: dict[str, Any], defs: dict[str, Any]) -> set[str] | None:
    """The JSON types a schema allows (None: any)."""
    if "$ref" in schema:
        return _types(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [_types(s, defs) for s in schema[key]]
            return None if None in parts else set().union(*parts)  # type: ignore[arg-type]
    if "type" in schema:
        kind = schema["type"]
        return set(kind) if isinstance(kind, list) else {kind}
    if "const" in schema or "enum" in schema:
        values = schema.get("enum", [schema.get("const")])
        names = {str: "string", bool: "boolean", int: "integer", float: "number"}
        return {names.get(type(v), "null") for v in values}
    if "properties" in schema:
        return {"object"}
    return None


def _accepts(sdk_types: set[str] | None, server_types: set[str] | None) -> bool:
    if sdk_types is None:
        return True
    if server_types is None:
        return False
    widened = sdk_types | ({"integer"} if "number" in sdk_types else set())
    return server_types <= widened


@pytest.mark.parametrize("model", list(COMPONENTS), ids=lambda m: m.__name__)
def test_sdk_type_matches_the_documented_response(model: type[BaseModel]) -> None:
    server = _schemas()[COMPONENTS[model]]
    properties, required = server["properties"], set(server.get("required", []))
    mine = model.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
    sdk_defs = mine.get("$defs", {})
    for name, field in model.model_fields.items():
        key = field.alias or name
        if (model, key) in NOT_SENT:
            assert key not in properties, f"{model.__name__}.{key} is sent now: drop NOT_SENT"
            continue
        assert key in properties, f"{model.__name__}.{key}: the server never sends it"
        sdk_types = _types(mine["properties"][key], sdk_defs)
        server_types = _types(properties[key], _schemas())
        assert _accepts(sdk_types, server_types), (
            f"{model.__name__}.{key}: the server sends {server_types}, the SDK takes {sdk_types}"
        )
        if field.is_required():
            assert key in required, f"{model.__name__}.{key}: required by the SDK, not always sent"
