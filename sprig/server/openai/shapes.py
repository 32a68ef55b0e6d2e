"""What the ``/v1`` routes send, for the OpenAPI document (the ``openai`` SDK's types, as
far as Sprig fills them; Sprig's own additions are named ``sprig_*`` or ``agent_*``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class OpenAIModel(_Open):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    agent_id: str | None = Field(default=None, description="The agent this model is")
    agent_model: str | None = Field(default=None, description="The model the agent uses")


class OpenAIModelList(BaseModel):
    object: Literal["list"]
    data: list[OpenAIModel]


class CalledFunction(BaseModel):
    name: str
    arguments: str


class ToolCallOut(BaseModel):
    id: str
    type: Literal["function"]
    function: CalledFunction


class CompletionMessage(BaseModel):
    role: Literal["assistant"]
    content: str | None
    refusal: None = None
    tool_calls: list[ToolCallOut] | None = None


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class CompletionChoice(BaseModel):
    index: int
    message: CompletionMessage
    finish_reason: Literal["stop", "length", "tool_calls", "content_filter"]
    logprobs: None = None


class ChatCompletion(_Open):
    """``stream: true`` sends ``ChatCompletionChunk`` events instead, then ``[DONE]``."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: CompletionUsage
    system_fingerprint: str | None = None
    sprig_session_id: str | None = Field(
        default=None, description="The session the exchange was saved in (stateful or `store`)"
    )


class CompletionToolCallDelta(BaseModel):
    index: int
    id: str | None = None
    type: Literal["function"] | None = None
    function: CalledFunction | None = None


class CompletionDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    tool_calls: list[CompletionToolCallDelta] | None = None


class CompletionChunkChoice(BaseModel):
    index: int
    delta: CompletionDelta
    finish_reason: Literal["stop", "length", "tool_calls", "content_filter"] | None
    logprobs: None = None


class ChatCompletionChunk(_Open):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[CompletionChunkChoice]
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None


class EmbeddingItem(BaseModel):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str = Field(description="Floats, or base64 of float32 LE")


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"]
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage


class OpenAIErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorResponse(BaseModel):
    """Every error of the ``/v1`` routes, as OpenAI shapes it."""

    error: OpenAIErrorInfo


def sse_response(chunk_ref: str, error_ref: str) -> dict[int | str, dict[str, Any]]:
    """The ``stream: true`` answer of ``/v1/chat/completions``: ``data:`` events."""
    data = {
        "anyOf": [
            {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"anyOf": [{"$ref": chunk_ref}, {"$ref": error_ref}]},
            },
            {"const": "[DONE]"},
        ]
    }
    item = {"type": "object", "required": ["data"], "properties": {"data": data}}
    description = (
        "The completion (JSON), or with `stream: true` Server-Sent Events: "
        "`chat.completion.chunk` events, then `data: [DONE]`"
    )
    return {
        200: {"description": description, "content": {"text/event-stream": {"itemSchema": item}}}
    }


class OpenAIResponse(_Open):
    """A model response (``/v1/responses``)."""

    id: str
    object: Literal["response"]
    created_at: int
    status: Literal["completed", "failed", "in_progress", "incomplete", "cancelled", "queued"]
    model: str
    output: list[dict[str, Any]]
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    incomplete_details: dict[str, Any] | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    metadata: dict[str, str] | None = None
    tools: list[dict[str, Any]]
    tool_choice: str | dict[str, Any]
    parallel_tool_calls: bool
    store: bool | None = None
    conversation: dict[str, str] | None = None


class ResponseDeleted(BaseModel):
    id: str
    object: Literal["response"]
    deleted: bool


class InputItemList(BaseModel):
    object: Literal["list"]
    data: list[dict[str, Any]]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ResponseStreamEvent(_Open):
    """One event of a streamed response: ``type`` says which (``response.created``,
    ``response.output_text.delta``, ``response.completed``, …)."""

    type: str
    sequence_number: int


def responses_sse(event_ref: str) -> dict[int | str, dict[str, Any]]:
    item = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "event": {"type": "string"},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": event_ref},
            },
        },
    }
    description = "The response (JSON), or with `stream: true` its typed events (SSE)"
    return {
        200: {"description": description, "content": {"text/event-stream": {"itemSchema": item}}}
    }


class Conversation(BaseModel):
    """An OpenAI conversation: a Sprig session (``conv_<session id hex>``)."""

    id: str
    object: Literal["conversation"]
    created_at: int
    metadata: dict[str, str]


class ConversationDeleted(BaseModel):
    id: str
    object: Literal["conversation.deleted"]
    deleted: bool


class ConversationItem(_Open):
    """An item of a conversation (a ``message``, ``function_call`` or
    ``function_call_output``)."""

    id: str
    type: str


class CompactedResponse(BaseModel):
    """``POST /v1/responses/compact``: the user's messages and one ``compaction`` item."""

    id: str
    object: Literal["response.compaction"]
    output: list[dict[str, Any]]
    created_at: int
    usage: dict[str, Any]


class FileObject(BaseModel):
    id: str
    object: Literal["file"]
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: str
    status_details: str | None = None
    expires_at: int | None = None


class ObjectList(BaseModel):
    """A list of objects (files, vector stores, vector store files)."""

    object: Literal["list"]
    data: list[dict[str, Any]]
    first_id: str | None
    last_id: str | None
    has_more: bool


class OpenAIDeleted(BaseModel):
    id: str
    object: str
    deleted: bool


class VectorStore(_Open):
    id: str
    object: Literal["vector_store"]
    created_at: int
    name: str | None
    usage_bytes: int
    file_counts: dict[str, int]
    status: str
    metadata: dict[str, str]


class VectorStoreFile(_Open):
    id: str
    object: Literal["vector_store.file"]
    created_at: int
    vector_store_id: str
    status: str
    usage_bytes: int
    last_error: dict[str, Any] | None
    attributes: dict[str, Any]


class SearchResultsPage(BaseModel):
    object: Literal["vector_store.search_results.page"]
    search_query: list[str]
    data: list[dict[str, Any]]
    has_more: bool
    next_page: str | None
