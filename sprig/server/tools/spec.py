"""What the model sees of each tool, how agent and request tools merge, and ``tool_choice``.

- ``function``: its declared parameters.
- ``api_call``: only the declared parameters schema (never the URL, method or headers).
- ``system``: the schema of the named operation (system.py), minus what the tool fixes.
- ``integration``: the provider method's argument schema, minus what the tool fixes. An
  unconfigured provider or unsupported operation still reaches the model with an open
  schema; running it answers a clear error.
- ``computer_20241022`` / ``text_editor_20241022`` / ``bash_20241022``: Anthropic's input
  schemas; the client runs them.
- ``mcp``: a source, expanded for the turn into its server's tools (mcp/source.py), each
  with the server's description and input schema.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sprig.server.errors import BadRequestError, SprigError
from sprig.server.models.base import ToolSpec
from sprig.server.tools import apicall
from sprig.server.tools.integrations import IntegrationRegistry, default_integrations
from sprig.server.tools.schema import Schema, empty_object, object_schema, without
from sprig.server.tools.system import SystemRegistry
from sprig.server.tools.types import ToolDef, tool_def

ToolChoice = str | dict[str, Any]
CHOICE_WORDS = {"auto": "auto", "none": "none", "required": "required", "any": "required"}

_STR = {"type": "string"}
_INT = {"type": "integer"}
COMPUTER_USE: dict[str, tuple[str, Schema]] = {
    "computer_20241022": (
        "Control the computer: screenshot, mouse and keyboard.",
        {
            "type": "object",
            "properties": {
                "action": {
                    "type": "string",
                    "enum": [
                        "key", "type", "mouse_move", "left_click", "left_click_drag",
                        "right_click", "middle_click", "double_click", "screenshot",
                        "cursor_position",
                    ],
                },
                "coordinate": {"type": "array", "items": _INT, "minItems": 2, "maxItems": 2},
                "text": _STR,
            },
            "required": ["action"],
        },
    ),
    "text_editor_20241022": (
        "View and edit files.",
        {
            "type": "object",
            "properties": {
                "command": {
                    "type": "string",
                    "enum": ["view", "create", "str_replace", "insert", "undo_edit"],
                },
                "path": _STR,
                "file_text": _STR,
                "old_str": _STR,
                "new_str": _STR,
                "insert_line": _INT,
                "view_range": {"type": "array", "items": _INT},
            },
            "required": ["command", "path"],
        },
    ),
    "bash_20241022": (
        "Run a shell command.",
        {
            "type": "object",
            "properties": {"command": _STR, "restart": {"type": "boolean"}},
        },
    ),
}  # fmt: skip


def tool_spec(
    tool: ToolDef | Mapping[str, Any],
    *,
    integrations: IntegrationRegistry | None = None,
    system: SystemRegistry | None = None,
) -> ToolSpec:
    """The model-facing spec of one tool (stored row, request tool or `ToolDef`)."""
    d = tool_def(tool)
    if d.type == "function":
        return ToolSpec(d.name, d.description, object_schema(d.body.get("parameters")))
    if d.type == "api_call":
        return ToolSpec(
            d.name, d.description or "Call an HTTP API.", apicall.parameters_schema(d.body)
        )
    if d.type == "system":
        params = (system or SystemRegistry()).parameters(d.body)
        return ToolSpec(d.name, d.description or _system_label(d.body), params or empty_object())
    if d.type == "integration":
        return _integration_spec(d, integrations or default_integrations())
    if d.type in COMPUTER_USE:
        description, schema = COMPUTER_USE[d.type]
        return ToolSpec(d.name, d.description or description, schema)
    if d.type == "mcp":
        return ToolSpec(d.name, d.description, object_schema(d.body.get("input_schema")))
    raise BadRequestError(f"Unknown tool type {d.type!r}")


def _system_label(body: Mapping[str, Any]) -> str:
    parts = (body.get("resource"), body.get("subresource"), body.get("operation"))
    return "Sprig operation " + ".".join(str(p) for p in parts if p)


def _integration_spec(d: ToolDef, registry: IntegrationRegistry) -> ToolSpec:
    fixed = d.body.get("arguments") or {}
    try:
        _, method = registry.get(str(d.body.get("provider"))).method(d.body.get("method"))
    except SprigError:
        return ToolSpec(d.name, d.description, empty_object())
    return ToolSpec(d.name, d.description or method.description, without(method.parameters, fixed))


def merge_tools(
    agent_tools: Iterable[ToolDef | Mapping[str, Any]],
    request_tools: Iterable[ToolDef | Mapping[str, Any]],
) -> list[ToolDef]:
    """Agent tools then request tools, by name; a request tool replaces an agent's namesake."""
    merged: dict[str, ToolDef] = {}
    for tool in [*agent_tools, *request_tools]:
        d = tool_def(tool)
        merged[d.name] = d
    return list(merged.values())


def tool_specs(
    tools: Iterable[ToolDef | Mapping[str, Any]],
    *,
    integrations: IntegrationRegistry | None = None,
    system: SystemRegistry | None = None,
) -> list[ToolSpec]:
    registry = integrations or default_integrations()
    ops = system or SystemRegistry()
    return [tool_spec(t, integrations=registry, system=ops) for t in tools]


def normalise_tool_choice(
    choice: ToolChoice | None, tool_names: Collection[str] | None = None
) -> ToolChoice | None:
    """``auto``/``none``/``required`` or ``{type: function, function: {name}}`` (OpenAI shape).

    Accepts the v1 ``{function: {name}}``, the legacy ``{type: function, function: {name}}``,
    Anthropic's ``{type: auto|any|tool, name}`` and ``any``. With ``tool_names`` given, a named
    function must be one of them and ``required`` needs at least one tool.
    """
    if choice is None:
        return None
    if isinstance(choice, str):
        return _word(choice, tool_names)
    if not isinstance(choice, Mapping):
        raise BadRequestError("tool_choice must be a string or an object")
    kind = choice.get("type")
    if kind in CHOICE_WORDS and "function" not in choice:
        return _word(str(kind), tool_names)
    name = _choice_name(choice)
    if tool_names is not None and name not in tool_names:
        known = ", ".join(sorted(tool_names)) or "none"
        raise BadRequestError(f"tool_choice names {name!r}, which is not a tool here ({known})")
    return {"type": "function", "function": {"name": name}}


def _word(word: str, tool_names: Collection[str] | None) -> str:
    normal = CHOICE_WORDS.get(word.strip().lower())
    if normal is None:
        raise BadRequestError(
            f"tool_choice must be auto, none, required or a function, not {word!r}"
        )
    if normal == "required" and tool_names is not None and not tool_names:
        raise BadRequestError("tool_choice 'required' needs at least one tool")
    return normal


def _choice_name(choice: Mapping[str, Any]) -> str:
    kind = choice.get("type")
    if kind not in (None, "function", "tool"):
        raise BadRequestError(f"Unknown tool_choice type {kind!r}")
    fn = choice.get("function")
    name = fn.get("name") if isinstance(fn, Mapping) else choice.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequestError("A named tool_choice needs function.name")
    return name
