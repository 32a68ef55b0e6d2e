"""What the model sees of each tool type; merging; tool_choice normalisation."""

from __future__ import annotations

from typing import Any

import pytest

from sprig.server.errors import BadRequestError
from sprig.server.resources.tools import tool_values
from sprig.server.tools.spec import merge_tools, normalise_tool_choice, tool_spec, tool_specs

WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "units": {"type": "string", "x-in": "query"}},
    "required": ["city"],
}


def row(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool as the tools service stores it."""
    return tool_values(tool)


def test_function_spec_from_stored_row_and_request_shape() -> None:
    fn = {"name": "add", "description": "Add", "parameters": {"type": "object", "properties": {}}}
    tool = {"name": "add", "type": "function", "function": fn}
    for shape in (tool, row(tool)):
        spec = tool_spec(shape)
        assert spec.name == "add" and spec.description == "Add"
        assert spec.parameters == fn["parameters"]


def test_function_without_parameters_gets_an_empty_object() -> None:
    spec = tool_spec({"name": "ping", "type": "function", "function": {}})
    assert spec.parameters == {"type": "object", "properties": {}}


def test_legacy_webhook_is_a_function() -> None:
    spec = tool_spec({"type": "webhook", "function": {"name": "hook", "parameters": {}}})
    assert spec.name == "hook"


def test_api_call_shows_only_declared_parameters() -> None:
    api = {
        "method": "GET",
        "url": "https://api.example.com/weather/{city}",
        "headers": {"Authorization": "Bearer s3cret-token"},
        "params_schema": WEATHER,
    }
    spec = tool_spec(row({"name": "weather", "type": "api_call", "api_call": api}))
    text = repr(spec)
    assert "s3cret" not in text and "api.example.com" not in text and "GET" not in text
    assert set(spec.parameters["properties"]) == {"city", "units"}
    assert spec.parameters["additionalProperties"] is False
    assert "x-in" not in spec.parameters["properties"]["units"]


def test_api_call_schema_key_and_no_schema() -> None:
    with_schema = {"method": "POST", "url": "https://x.test/", "schema": WEATHER}
    assert tool_spec({"name": "a", "type": "api_call", "api_call": with_schema}).parameters[
        "required"
    ] == ["city"]
    bare = tool_spec({"name": "b", "type": "api_call", "api_call": {"url": "https://x.test/"}})
    assert bare.parameters == {"type": "object", "properties": {}, "additionalProperties": False}


def test_system_spec_per_operation_hides_fixed_values() -> None:
    search = {"resource": "agent", "subresource": "doc", "operation": "search"}
    spec = tool_spec({"name": "s", "type": "system", "system": search})
    assert set(spec.parameters["properties"]) == {"agent_id", "text", "limit"}
    assert spec.parameters["required"] == ["text"]
    fixed = {
        **search,
        "resource_id": "0190a4c2-0000-7000-8000-000000000001",
        "arguments": {"limit": 3},
    }
    spec = tool_spec({"name": "s", "type": "system", "system": fixed})
    assert set(spec.parameters["properties"]) == {"text"}
    history = tool_spec(
        {"name": "h", "type": "system", "system": {"resource": "session", "operation": "history"}}
    )
    assert set(history.parameters["properties"]) == {"session_id", "limit"}


def test_unsupported_system_operation_still_has_a_spec() -> None:
    body = {"resource": "task", "operation": "delete"}
    spec = tool_spec({"name": "t", "type": "system", "system": body})
    assert spec.parameters == {"type": "object", "properties": {}}
    assert "task.delete" in spec.description


def test_integration_spec_uses_provider_schema_minus_fixed_arguments() -> None:
    calc = tool_spec({"name": "calc", "type": "integration", "integration": {"provider": "math"}})
    assert calc.parameters["required"] == ["expression"]
    convert = {"provider": "datetime", "method": "convert", "arguments": {"timezone": "UTC"}}
    spec = tool_spec({"name": "c", "type": "integration", "integration": convert})
    assert set(spec.parameters["properties"]) == {"datetime", "assume_timezone"}
    brave = tool_spec({"name": "b", "type": "integration", "integration": {"provider": "brave"}})
    assert brave.parameters == {"type": "object", "properties": {}}


def test_computer_use_types_have_input_schemas() -> None:
    bash = tool_spec({"name": "bash", "type": "bash_20241022", "bash_20241022": {}})
    assert "command" in bash.parameters["properties"]
    editor = tool_spec({"name": "ed", "type": "text_editor_20241022"})
    assert editor.parameters["required"] == ["command", "path"]


def test_unknown_type_is_a_bad_request() -> None:
    with pytest.raises(BadRequestError):
        tool_spec({"name": "x", "type": "telepathy"})


def test_merge_request_wins_on_name_clash() -> None:
    agent = [
        row({"name": "a", "type": "function", "function": {"description": "agent a"}}),
        row({"name": "b", "type": "function", "function": {"description": "agent b"}}),
    ]
    request = [
        {"name": "b", "type": "function", "description": "request b", "function": {}},
        {"name": "c", "type": "integration", "integration": {"provider": "math"}},
    ]
    merged = merge_tools(agent, request)
    assert [t.name for t in merged] == ["a", "b", "c"]
    assert merged[1].description == "request b"
    specs = tool_specs(merged)
    assert [s.description for s in specs][:2] == ["agent a", "request b"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("any", "required"),
        ({"type": "auto"}, "auto"),
        ({"function": {"name": "add"}}, {"type": "function", "function": {"name": "add"}}),
        (
            {"type": "function", "function": {"name": "add", "arguments": "{}"}},
            {"type": "function", "function": {"name": "add"}},
        ),
        ({"type": "tool", "name": "add"}, {"type": "function", "function": {"name": "add"}}),
    ],
)
def test_tool_choice_shapes(choice: Any, expected: Any) -> None:
    assert normalise_tool_choice(choice, ["add", "sub"]) == expected


@pytest.mark.parametrize(
    "choice",
    [
        {"function": {"name": "missing"}},
        "sometimes",
        {"type": "function"},
        {"type": "weird", "name": "add"},
        42,
    ],
)
def test_tool_choice_rejects(choice: Any) -> None:
    with pytest.raises(BadRequestError):
        normalise_tool_choice(choice, ["add"])


def test_required_needs_a_tool_but_unknown_names_pass_without_a_tool_list() -> None:
    with pytest.raises(BadRequestError, match="at least one tool"):
        normalise_tool_choice("required", [])
    named = normalise_tool_choice({"function": {"name": "later"}})
    assert named == {"type": "function", "function": {"name": "later"}}
