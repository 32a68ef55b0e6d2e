"""The data the tool runtime speaks: a normalised tool definition, a result, JSON helpers.

A tool reaches this package in one of two shapes, and `tool_def` reads both:

- a stored row: ``{name, type, description, spec: {<type>: {...}}}`` (resources/tools.py);
- a request tool, already normalised: ``{name, type, description, <type>: {...}}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from sprig.server.errors import BadRequestError

CLIENT_SIDE_TYPES = frozenset(
    {"function", "computer_20241022", "text_editor_20241022", "bash_20241022"}
)
SERVER_SIDE_TYPES = frozenset({"api_call", "integration", "system", "mcp"})
# Keys never shown to the model or stored in a tool result: tenancy and storage internals.
INTERNAL_KEYS = frozenset({"developer_id", "content_hash", "embedding", "embeddings"})
MCP_TOOL_KEY = "tool"  # an expanded mcp tool's server tool name, in its object


@dataclass(frozen=True, slots=True)
class ToolDef:
    """One tool: its name, type, description and the type's own object (``body``)."""

    name: str
    type: str
    description: str
    body: Mapping[str, Any]

    @property
    def client_side(self) -> bool:
        """True when the server cannot run this tool: the call goes back to the client."""
        return self.type in CLIENT_SIDE_TYPES

    @property
    def mcp_source(self) -> bool:
        """An ``mcp`` tool not yet expanded into its server's tools (mcp/source.py)."""
        return self.type == "mcp" and MCP_TOOL_KEY not in self.body


def tool_def(tool: ToolDef | Mapping[str, Any]) -> ToolDef:
    """Normalise a stored row or a request tool (legacy ``webhook`` counts as ``function``)."""
    if isinstance(tool, ToolDef):
        return tool
    kind = str(tool.get("type") or ("function" if tool.get("function") else ""))
    kind = "function" if kind == "webhook" else kind
    spec = tool.get("spec")
    source: Mapping[str, Any] = spec if isinstance(spec, Mapping) else tool
    body = source.get(kind) or {}
    if not isinstance(body, Mapping):
        raise BadRequestError(f"Tool {tool.get('name')!r}: its {kind!r} object must be an object")
    name = tool.get("name") or (body.get("name") if kind == "function" else None)
    if not name or not kind:
        raise BadRequestError("A tool needs a name and a type")
    description = tool.get("description") or body.get("description") or ""
    return ToolDef(name=str(name), type=kind, description=str(description), body=body)


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool call gave: ``content`` is JSON text for the ``tool`` message.

    ``client_side`` marks a call the server cannot run (function and computer-use tools):
    the chat loop returns it to the client instead of feeding ``content`` to the model.
    ``parts`` are content parts beside the JSON (an MCP tool's images), for models that take
    them in tool results.
    """

    content: str
    is_error: bool = False
    client_side: bool = False
    parts: tuple[dict[str, Any], ...] = ()

    @classmethod
    def ok(cls, value: Any, *, is_error: bool = False) -> ToolResult:
        return cls(content=dumps(value), is_error=is_error)

    @classmethod
    def error(cls, message: str, *, code: str = "tool_error") -> ToolResult:
        return cls(content=dumps({"error": {"message": message, "code": code}}), is_error=True)

    @classmethod
    def for_client(cls, tool: ToolDef) -> ToolResult:
        note = {"client_side": True, "tool": tool.name, "type": tool.type}
        return cls(content=dumps(note), client_side=True)


def dumps(value: Any) -> str:
    """JSON text of a tool result; UUIDs, datetimes and decimals become strings."""
    return json.dumps(value, default=_default, ensure_ascii=False, allow_nan=False)


def _default(value: Any) -> Any:
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def public(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as a tool may show it: internals, raw bytes and NaNs left out."""
    return {
        key: value
        for key, value in row.items()
        if key not in INTERNAL_KEYS
        and not isinstance(value, bytes | bytearray | memoryview)
        and not (isinstance(value, float) and not math.isfinite(value))
    }
