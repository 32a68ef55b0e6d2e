"""Request bodies. Every model ignores unknown keys and treats ``null`` as absent.

Both the v1 and the legacy (0.x) spellings are accepted; `values()` returns only what the
caller actually gave, so PATCH leaves the rest unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from sprig.server.api.body import Body, Metadata, MetadataFilter
from sprig.server.errors import BadRequestError
from sprig.server.mcp.config import check_tool
from sprig.server.resources.tools import TOOL_TYPES
from sprig.server.search.options import RecallOptions
from sprig.server.tools.schema import check_schema

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=255)]
Short = Annotated[str, StringConstraints(max_length=255)]
Content = str | list[str]


class DocIn(Body):
    title: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    content: str | Annotated[list[str], Field(min_length=1)]
    metadata: Metadata | None = None
    embed_instruction: str | None = None
    language: Annotated[str, StringConstraints(max_length=32)] | None = None

    @model_validator(mode="after")
    def _non_empty(self) -> DocIn:
        if isinstance(self.content, list) and not self.content:
            raise ValueError("content must not be an empty list")
        return self


class FunctionDef(Body):
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None


class ToolIn(Body):
    """A tool: v1 ``{name, type, <type>: {...}}`` or legacy ``{type, function: {...}}``."""

    name: Identifier | None = None
    type: Annotated[str, StringConstraints(max_length=40)] | None = None
    description: str | None = None
    function: FunctionDef | None = None
    integration: dict[str, Any] | None = None
    system: dict[str, Any] | None = None
    api_call: dict[str, Any] | None = None
    computer_20241022: dict[str, Any] | None = None
    text_editor_20241022: dict[str, Any] | None = None
    bash_20241022: dict[str, Any] | None = None
    mcp: dict[str, Any] | None = None  # an MCP server as a source of tools (mcp/config.py)

    def normalised(self, *, require: bool = True) -> dict[str, Any]:
        data = self.values()
        kind = data.get("type") or ("function" if self.function else None)
        if kind == "webhook":
            kind, data["legacy_type"] = "function", "webhook"
        if (kind is not None and kind not in TOOL_TYPES) or (kind is None and "type" in data):
            raise BadRequestError(
                f"Unknown tool type {data.get('type')!r}; expected one of {TOOL_TYPES}"
            )
        if kind is not None:
            data["type"] = kind
        fn = data.get("function") or {}
        if "name" not in data and fn.get("name"):
            data["name"] = fn["name"]
        if not data.get("description") and fn.get("description"):
            data["description"] = fn["description"]
        if require and ("name" not in data or "type" not in data):
            raise BadRequestError("A tool needs a name and a type (or a legacy function object)")
        if kind == "mcp" and require:
            check_tool(data.get("mcp"))
        if kind == "function" and fn.get("parameters") is not None:
            check_schema(fn["parameters"])
        return data


class AgentIn(Body):
    name: Name
    about: str | None = None
    model: Short | None = None
    instructions: Content | None = None
    default_settings: dict[str, Any] | None = None
    default_system_template: str | None = None
    metadata: Metadata | None = None
    canonical_name: Identifier | None = None
    project: Short | None = None
    tools: list[ToolIn] | None = None
    docs: list[DocIn] | None = None

    def split(self) -> tuple[dict[str, Any], dict[str, Any]]:
        extra = {
            "tools": [t.normalised() for t in self.tools or []],
            "docs": [d.values() for d in self.docs or []],
        }
        return self.values(exclude={"tools", "docs"}), extra


class AgentPatch(AgentIn):
    name: Name | None = None  # type: ignore[assignment]


class UserIn(Body):
    name: Annotated[str, StringConstraints(max_length=255)] | None = None
    about: str | None = None
    metadata: Metadata | None = None
    project: Short | None = None
    docs: list[DocIn] | None = None

    def split(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.values(exclude={"docs"}), {"docs": [d.values() for d in self.docs or []]}


ContextOverflow = Literal["truncate", "summarize", "adaptive"]


class SessionIn(Body):
    agent: UUID | None = None
    agents: list[UUID] | None = None
    agent_id: UUID | None = None
    user: UUID | None = None
    users: list[UUID] | None = None
    user_id: UUID | None = None
    situation: str | None = None
    system_template: str | None = None
    render_templates: bool | None = None
    token_budget: int | None = Field(default=None, ge=1, le=2**31 - 1)
    context_overflow: ContextOverflow | None = None
    auto_run_tools: bool | None = None
    forward_tool_calls: bool | None = None
    recall: bool | None = None
    remember: bool | None = None
    recall_options: RecallOptions | None = None
    metadata: Metadata | None = None

    def split(self) -> tuple[dict[str, Any], dict[str, Any]]:
        agents = _one_or_many("agent", self.agent or self.agent_id, self.agents)
        users = _one_or_many("user", self.user or self.user_id, self.users)
        values = self.values(
            exclude={"agent", "agents", "agent_id", "user", "users", "user_id", "recall_options"}
        )
        if self.recall_options is not None:
            values["recall_options"] = self.recall_options.stored()
        return values, {"agents": agents, "users": users}


def _one_or_many(kind: str, one: UUID | None, many: list[UUID] | None) -> list[UUID] | None:
    if one is not None and many is not None:
        raise BadRequestError(f"Give either '{kind}' or '{kind}s', not both")
    if one is not None:
        return [one]
    return many


def default_recall_options() -> dict[str, Any]:
    return RecallOptions().stored()


class BulkDeleteIn(Body):
    delete_all: bool = False
    metadata_filter: MetadataFilter = Field(default_factory=dict)
