"""Typed response models (and `InputChatMlMessage` for requests).

All models are lenient: unknown keys are kept (readable as attributes), and every field
but the id is optional, so a newer server never breaks an older SDK. Schemas are built on
first use, which keeps ``import sprig`` fast.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Agent",
    "ChatMessage",
    "ChatMlMessage",
    "ChatResponse",
    "Choice",
    "ChunkChatResponse",
    "ChunkChoice",
    "Delta",
    "Doc",
    "DocIds",
    "DocOwner",
    "DocReference",
    "DocSearchResponse",
    "Entry",
    "FunctionDef",
    "History",
    "InputChatMlMessage",
    "JobStatus",
    "Memory",
    "Relation",
    "ResourceCreatedResponse",
    "ResourceDeletedResponse",
    "ResourceUpdatedResponse",
    "Session",
    "Snippet",
    "Suggestion",
    "Tool",
    "ToolCall",
    "TurnPhase",
    "TurnTrace",
    "Usage",
    "User",
]


class SprigModel(BaseModel):
    model_config = ConfigDict(
        extra="allow", defer_build=True, populate_by_name=True, protected_namespaces=()
    )


class ResourceCreatedResponse(SprigModel):
    id: str
    created_at: datetime | None = None
    jobs: list[str] = Field(default_factory=list)


class ResourceUpdatedResponse(SprigModel):
    id: str
    updated_at: datetime | None = None
    jobs: list[str] = Field(default_factory=list)


class ResourceDeletedResponse(SprigModel):
    id: str
    deleted_at: datetime | None = None
    jobs: list[str] = Field(default_factory=list)


class _Timestamps(SprigModel):
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Agent(_Timestamps):
    id: str
    name: str | None = None
    about: str | None = None
    model: str | None = None
    instructions: str | list[str] | None = None
    default_settings: dict[str, Any] | None = None
    default_system_template: str | None = None
    canonical_name: str | None = None
    metadata: dict[str, Any] | None = None
    project: str | None = None


class User(_Timestamps):
    id: str
    name: str | None = None
    about: str | None = None
    metadata: dict[str, Any] | None = None
    project: str | None = None


class Session(_Timestamps):
    id: str
    agent_id: str | None = None
    user_id: str | None = None
    agents: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)
    kind: str | None = None
    situation: str | None = None
    summary: str | None = None
    system_template: str | None = None
    render_templates: bool | None = None
    token_budget: int | None = None
    context_overflow: str | None = None
    auto_run_tools: bool | None = None
    forward_tool_calls: bool | None = None
    recall_options: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class FunctionDef(SprigModel):
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None


class Tool(_Timestamps):
    id: str
    agent_id: str | None = None
    name: str | None = None
    type: str | None = None
    description: str | None = None
    function: FunctionDef | None = None


class DocOwner(SprigModel):
    id: str | None = None
    role: str | None = None


class Doc(_Timestamps):
    id: str
    title: str | None = None
    content: str | list[str] | None = None
    metadata: dict[str, Any] | None = None
    owner: DocOwner | None = None
    embeddings: list[float] | list[list[float]] | None = None
    embedding_model: str | None = None
    embedding_dimensions: int | None = None
    language: str | None = None
    modality: str | None = None


class Snippet(SprigModel):
    index: int | None = None
    content: str | None = None
    embedding: list[float] | None = None


class DocReference(SprigModel):
    id: str
    owner: DocOwner | None = None
    snippet: Snippet | None = None
    distance: float | None = None
    score: float | None = None
    title: str | None = None
    metadata: dict[str, Any] | None = None


class DocSearchResponse(SprigModel):
    docs: list[DocReference] = Field(default_factory=list)
    time: float | None = None


class JobStatus(_Timestamps):
    id: str
    name: str | None = None
    state: str | None = None
    reason: str | None = None
    has_progress: bool | None = None
    progress: float | None = None


class Memory(SprigModel):
    id: str
    agent_id: str | None = None
    user_id: str | None = None
    content: str | None = None
    type: str | None = None
    entities: list[dict[str, Any]] = Field(default_factory=list)
    created_at: datetime | None = None
    last_accessed_at: datetime | None = None
    timestamp: datetime | None = None
    sentiment: float | None = None


class Suggestion(SprigModel):
    target: str | None = None
    content: str | None = None
    message_id: str | None = None
    session_id: str | None = None
    created_at: datetime | None = None


class ChatMlMessage(SprigModel):
    """A history message in the legacy (0.x) shape: text content, old role names."""

    id: str | None = None
    role: str
    content: str | None = None
    name: str | None = None
    created_at: datetime | None = None


class Entry(SprigModel):
    """One stored history entry (v1 shape), with its token count."""

    id: str
    session_id: str | None = None
    role: str
    name: str | None = None
    content: Any = None
    source: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    model: str | None = None
    token_count: int | None = None
    tokenizer: str | None = None
    timestamp: datetime | None = None
    created_at: datetime | None = None


class Relation(SprigModel):
    head: str
    relation: str
    tail: str


class History(SprigModel):
    session_id: str | None = None
    created_at: datetime | None = None
    entries: list[Entry] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    items: list[ChatMlMessage] = Field(default_factory=list)


class InputChatMlMessage(SprigModel):
    """A message to send to chat (roles of v1 and of the legacy API)."""

    role: str
    content: str | list[Any] | None = None
    name: str | None = None
    continue_: bool | None = Field(default=None, alias="continue")
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class FunctionCall(SprigModel):
    name: str | None = None
    arguments: str | None = None


class ToolCall(SprigModel):
    id: str | None = None
    type: str | None = None
    function: FunctionCall | None = None


class ChatMessage(SprigModel):
    role: str | None = None
    content: str | list[Any] | None = None
    name: str | None = None
    id: str | None = None
    created_at: datetime | None = None
    tool_call_id: str | None = None
    tool_calls: list[ToolCall] | None = None


class Choice(SprigModel):
    index: int = 0
    message: ChatMessage | None = None
    finish_reason: str | None = None
    tool_calls: list[ToolCall] | None = None


class Usage(SprigModel):
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    total_tokens: int | None = None


class DocIds(SprigModel):
    agent_doc_ids: list[str] = Field(default_factory=list)
    user_doc_ids: list[str] = Field(default_factory=list)


class ChatResponse(SprigModel):
    """The answer to a chat turn: v1 ``choices`` plus the legacy ``response`` view."""

    id: str
    created_at: datetime | None = None
    choices: list[Choice] = Field(default_factory=list)
    usage: Usage | None = None
    docs: list[DocReference] = Field(default_factory=list)
    jobs: list[str] = Field(default_factory=list)
    finish_reason: str | None = None
    response: list[list[ChatMlMessage]] | None = None
    doc_ids: DocIds | None = None

    @property
    def text(self) -> str:
        """The first choice's message content as text ("" when there is none)."""
        message = self.choices[0].message if self.choices else None
        return _text(message.content if message else None)


class Delta(SprigModel):
    role: str | None = None
    content: str | list[Any] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[ToolCall] | None = None


class ChunkChoice(SprigModel):
    index: int = 0
    delta: Delta = Field(default_factory=Delta)
    finish_reason: str | None = None


class ChunkChatResponse(SprigModel):
    """One streamed piece of a chat turn."""

    id: str | None = None
    created_at: datetime | None = None
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: Usage | None = None
    docs: list[DocReference] = Field(default_factory=list)
    jobs: list[str] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """The first choice's delta content as text ("" when there is none)."""
        return _text(self.choices[0].delta.content) if self.choices else ""


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content]
    return "".join(parts)


class TurnPhase(SprigModel):
    """One phase of a chat turn: ``context``, ``recall``, ``embed``, ``search``, ``model``,
    ``ttft``, ``tool`` or ``persist``."""

    name: str
    start_ms: float | None = None
    duration_ms: float | None = None
    detail: str | None = None


class TurnTrace(SprigModel):
    """What a chat turn did and where its time went (``GET
    /sessions/{id}/turns/{entry_id}/trace``). ``prompt`` (what the model saw) is only in a
    single trace, not in a listing."""

    id: str
    session_id: str | None = None
    agent: dict[str, Any] | None = None
    model: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    outcome: str | None = None
    finish_reason: str | None = None
    stop_reason: str | None = None
    duration_ms: float | None = None
    model_ms: float | None = None
    overhead_ms: float | None = None
    phases: list[TurnPhase] = Field(default_factory=list)
    usage: Usage | None = None
    recall: dict[str, Any] | None = None
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    client_tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    prompt: dict[str, Any] | None = None
