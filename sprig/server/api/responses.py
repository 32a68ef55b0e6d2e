"""The response bodies of `views`, as pydantic models: what ``/openapi.json`` documents.

The models document; they do not check. A route declares ``response_model=documented(...)``:
its body passes through as it was built (no validation, no copy) and is serialised to JSON
by pydantic's core, while the document shows the model (or, where the 0.x SDKs get a view
of their own, ``anyOf`` the v1 superset and the legacy view). The tests hold every body
the API sends to its schema (tests/api/conftest.py).

Every key a view always writes is required (nullable where it can be null); a body may
carry more keys than a model names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema, core_schema

from sprig.server.api.schemas import ContextOverflow
from sprig.server.api.views import LegacyPreset

T = TypeVar("T")


@dataclass(frozen=True)
class DocumentedAs:
    """Annotated metadata: any value, passed through as is, documented as `model`."""

    model: Any

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.any_schema()

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The generator itself (``handler()`` would inline a model): models become
        # components, referred to by ``$ref``.
        generator: GenerateJsonSchema = handler.generate_json_schema  # type: ignore[attr-defined]
        return generator.generate_inner(TypeAdapter(self.model).core_schema)


Absent = Annotated[T | SkipJsonSchema[None], "A key sent only sometimes, never null"]


def documented(model: Any, legacy: Any = None) -> Any:
    """A route's ``response_model``: documents `model` (``anyOf`` it and `legacy`, the 0.x
    view chosen by the ``Legacy`` dependency), costs nothing per response."""
    shown = model if legacy is None else model | legacy
    return Annotated[Any, DocumentedAs(shown)]


class Deleted(BaseModel):
    """A deleted resource (202)."""

    id: UUID
    deleted_at: datetime
    jobs: list[UUID]


class DeletedList(BaseModel):
    items: list[Deleted]


class _Stamped(BaseModel):
    created_at: datetime
    updated_at: datetime


class _Resource(_Stamped):
    id: UUID
    jobs: list[UUID] = Field(description="Background jobs this change started")


class Agent(_Resource):
    name: str
    canonical_name: str | None
    about: str
    model: str
    instructions: str | list[str]
    default_settings: dict[str, Any]
    default_system_template: str | None
    metadata: dict[str, Any]
    project: str | None


class LegacySettings(BaseModel):
    preset: LegacyPreset | None = None


class LegacyAgent(Agent):
    """The 0.x view: a ``preset`` the 0.x enum lacks is left out of ``default_settings``."""

    default_settings: LegacySettings  # type: ignore[assignment]


class AgentList(BaseModel):
    items: list[Agent]


class LegacyAgentList(BaseModel):
    items: list[LegacyAgent]


class User(_Resource):
    name: str
    about: str
    metadata: dict[str, Any]
    project: str | None


class UserList(BaseModel):
    items: list[User]


SessionKind = Literal[
    "single_agent_no_user",
    "single_agent_single_user",
    "single_agent_multi_user",
    "multi_agent_no_user",
    "multi_agent_single_user",
    "multi_agent_multi_user",
]


class Session(_Resource):
    agent_id: UUID | None = Field(description="The first agent (0.x)")
    user_id: UUID | None = Field(description="The first user (0.x)")
    agents: list[UUID]
    users: list[UUID]
    kind: SessionKind
    situation: str | None
    summary: str | None
    system_template: str | None
    render_templates: bool
    token_budget: int | None
    context_overflow: ContextOverflow | None
    auto_run_tools: bool
    forward_tool_calls: bool
    recall: bool
    remember: bool
    recall_options: dict[str, Any] | None
    metadata: dict[str, Any]


class LegacySession(Session):
    """The 0.x view: ``user_id`` is the nil UUID when the session has no user."""

    user_id: UUID


class SessionList(BaseModel):
    items: list[Session]


class LegacySessionList(BaseModel):
    items: list[LegacySession]


class ToolFunction(BaseModel):
    name: str
    description: str | None
    parameters: dict[str, Any]


ToolType = Literal[
    "function",
    "integration",
    "system",
    "api_call",
    "computer_20241022",
    "text_editor_20241022",
    "bash_20241022",
    "mcp",
]
Spec = dict[str, Any] | None


class Tool(_Resource):
    """A tool: its definition under the key its ``type`` names (secrets redacted)."""

    agent_id: UUID
    name: str
    type: ToolType
    description: str | None
    function: Absent[ToolFunction] = None
    integration: Spec = None
    system: Spec = None
    api_call: Spec = None
    computer_20241022: Spec = None
    text_editor_20241022: Spec = None
    bash_20241022: Spec = None
    mcp: Spec = None


class LegacyTool(Tool):
    """The 0.x view: every tool is a function (``webhook`` where it was made as one)."""

    type: Literal["function", "webhook"]  # type: ignore[assignment]
    function: ToolFunction


class ToolList(BaseModel):
    items: list[Tool]


class LegacyToolList(BaseModel):
    items: list[LegacyTool]


class DocOwner(BaseModel):
    id: UUID
    role: Literal["agent", "user", "session"]


class Doc(_Stamped):
    id: UUID
    title: str
    content: str | list[str]
    metadata: dict[str, Any]
    owner: DocOwner
    embeddings: list[float] | list[list[float]] | None = Field(
        description="With `include_embeddings=true`: one vector per chunk"
    )
    embedding_model: str | None
    embedding_dimensions: int | None
    language: str
    modality: str
    status: Literal["ready", "pending", "failed"]
    jobs: list[UUID] = Field(description="The doc's indexing job, while it runs")


class LegacyDoc(Doc):
    """The 0.x view: a list content is joined into one text."""

    content: str


class _Preview(BaseModel):
    content_length: int = Field(description="The whole content's length in characters")
    content_truncated: bool = Field(description="Whether `content` is only its beginning")


class CreatedDoc(Doc, _Preview):
    """A create's answer: the doc, its content cut to a preview when large."""


class LegacyCreatedDoc(LegacyDoc, _Preview):
    pass


class DocList(BaseModel):
    items: list[Doc]


class LegacyDocList(BaseModel):
    items: list[LegacyDoc]


class Job(_Stamped):
    id: UUID
    name: str
    state: str
    reason: str | None
    has_progress: bool
    progress: float
    kind: str | None = None  # Sprig's: what runs it (summarize_session, embed_doc, ...)
    attempts: int | None = None
    max_attempts: int | None = None


class Entry(BaseModel):
    """One stored history entry (v1)."""

    id: UUID
    session_id: UUID
    role: str
    name: str | None
    content: Any
    source: str
    tool_call_id: str | None
    tool_calls: list[dict[str, Any]] | None
    model: str | None
    token_count: int
    tokenizer: str
    partial: bool
    timestamp: datetime
    created_at: datetime


class ChatMlMessage(BaseModel):
    """A message as the 0.x SDKs read it: text content, 0.x role names."""

    id: UUID
    role: str
    name: str | None
    content: str
    created_at: datetime


class Relation(BaseModel):
    head: UUID
    relation: str
    tail: UUID


class History(BaseModel):
    """``entries`` (v1) and the same turns as 0.x ``items``."""

    session_id: UUID
    created_at: datetime
    entries: list[Entry]
    relations: list[Relation]
    items: list[ChatMlMessage]


class Snippet(BaseModel):
    index: int
    content: str
    embedding: Absent[list[float]] = Field(default=None, description="With `include_embeddings`")


class RefOwner(BaseModel):
    id: UUID | None
    role: Literal["agent", "user", "session"] | None


class DocReference(BaseModel):
    """A found doc: its owner, best snippet and score."""

    id: UUID
    title: str | None
    owner: RefOwner
    snippet: Snippet
    distance: float | None
    score: float | None
    relevance: float | None
    metadata: dict[str, Any] | None


class SearchResult(BaseModel):
    docs: list[DocReference]
    time: float = Field(description="Seconds the search took")


class Embeddings(BaseModel):
    vectors: list[list[float]]
    model: str


class ModelName(BaseModel):
    id: str


class ModelList(BaseModel):
    models: list[ModelName]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    schema_: str | None = Field(alias="schema", description="The database's migration")
