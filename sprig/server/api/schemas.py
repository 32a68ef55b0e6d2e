"""Request bodies. Every model ignores unknown keys and treats ``null`` as absent.

Both the v1 and the legacy (0.x) spellings are accepted; `values()` returns only what the
caller actually gave, so PATCH leaves the rest unchanged.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from sprig.server.errors import BadRequestError
from sprig.server.resources.tools import TOOL_TYPES

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=255)]
Short = Annotated[str, StringConstraints(max_length=255)]
Metadata = dict[str, Any]
INT64 = 2**63 - 1


def comparable(value: Any, depth: int = 0) -> Any:
    """A metadata filter's values must be comparable in the database: integers within 64
    bits, finite numbers (a larger one cannot match anything stored)."""
    if isinstance(value, bool) or depth > 64:
        return value
    if isinstance(value, int) and not -INT64 - 1 <= value <= INT64:
        raise ValueError("metadata filter integers must fit in 64 bits")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("metadata filter numbers must be finite")
    if isinstance(value, dict):
        for item in value.values():
            comparable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            comparable(item, depth + 1)
    return value


MetadataFilter = Annotated[Metadata, AfterValidator(comparable)]
Content = str | list[str]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        """The 0.x SDKs send every key, ``null`` when unset: treat those as not sent."""
        if isinstance(data, dict):
            _refuse_nul(data)
            return {k: v for k, v in data.items() if v is not None}
        return data

    def values(
        self, *, exclude: set[str] | None = None, include: set[str] | None = None
    ) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude=exclude or set(), include=include)


def _refuse_nul(value: Any, depth: int = 0) -> None:
    """NUL characters cannot be stored (PostgreSQL text and JSON refuse them): a 422."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL (\\u0000) characters")
    elif isinstance(value, dict) and depth < 64:
        for key, item in value.items():
            _refuse_nul(key, depth + 1)
            _refuse_nul(item, depth + 1)
    elif isinstance(value, list) and depth < 64:
        for item in value:
            if not isinstance(item, float | int):  # a vector's 384 numbers cost no call each
                _refuse_nul(item, depth + 1)


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

    def normalised(self, *, require: bool = True) -> dict[str, Any]:
        data = self.values()
        kind = data.get("type") or ("function" if self.function else None)
        if kind == "webhook":
            kind, data["legacy_type"] = "function", "webhook"
        if kind is not None and kind not in TOOL_TYPES:
            raise BadRequestError(f"Unknown tool type {kind!r}; expected one of {TOOL_TYPES}")
        if kind is not None:
            data["type"] = kind
        fn = data.get("function") or {}
        if "name" not in data and fn.get("name"):
            data["name"] = fn["name"]
        if not data.get("description") and fn.get("description"):
            data["description"] = fn["description"]
        if require and ("name" not in data or "type" not in data):
            raise BadRequestError("A tool needs a name and a type (or a legacy function object)")
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


class RecallOptions(Body):
    mode: Literal["text", "vector", "hybrid"] = "hybrid"
    limit: int = Field(default=10, ge=1, le=50)
    lang: str = "en-US"
    metadata_filter: MetadataFilter = Field(default_factory=dict)
    num_search_messages: int = Field(default=4, ge=1, le=50)
    max_query_length: int = Field(default=1000, ge=100, le=10_000)
    include_embeddings: bool = False
    confidence: float = Field(default=0.5, ge=-1, le=1)
    mmr_strength: float = Field(default=0.5, ge=0, lt=1)
    alpha: float = Field(default=0.5, ge=0, le=1)
    k_multiplier: int = Field(default=7, ge=1, le=10)
    trigram_similarity_threshold: float | None = Field(default=None, ge=0, le=1)

    def stored(self) -> dict[str, Any]:
        """Every field of this mode's v1 schema (used by Sprig or not), defaults filled in."""
        data = self.model_dump()
        for key in _NOT_IN_MODE[self.mode]:
            data.pop(key)
        return data


# The v1 schemas: TextOnlyDocSearch adds trigram_similarity_threshold to the common fields,
# VectorDocSearch confidence and mmr_strength, HybridDocSearch all of them.
_NOT_IN_MODE: dict[str, tuple[str, ...]] = {
    "hybrid": (),
    "vector": ("alpha", "k_multiplier", "trigram_similarity_threshold"),
    "text": ("alpha", "k_multiplier", "confidence", "mmr_strength"),
}


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
