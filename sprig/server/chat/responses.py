"""The bodies of ``/sessions/{id}/chat`` and ``/render``, as documented (see api/responses.py).

One chat body serves every SDK: the v1 ``ChatResponse`` plus the keys the 0.x SDKs read
(``response``, ``finish_reason``, ``doc_ids``). A streamed turn sends `ChatChunk` events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from sprig.server.api.responses import Absent, ChatMlMessage, DocReference


class FunctionCall(BaseModel):
    name: str
    arguments: str


class ToolCall(BaseModel):
    id: str
    type: str
    function: FunctionCall


class ReplyMessage(BaseModel):
    id: str
    role: str
    content: str | list[Any] | None
    tool_calls: list[ToolCall] | None
    created_at: datetime


class Choice(BaseModel):
    index: int
    message: ReplyMessage
    finish_reason: str


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class DocIds(BaseModel):
    agent_doc_ids: list[str]
    user_doc_ids: list[str]


class ChatResponse(BaseModel):
    """A chat turn's reply (v1), with the 0.x keys."""

    id: str
    created_at: datetime
    choices: list[Choice]
    usage: Usage
    docs: list[DocReference] = Field(description="The docs recalled for this turn")
    jobs: list[str]
    response: list[list[ChatMlMessage]] = Field(description="0.x: the reply as ChatML")
    finish_reason: str = Field(description="0.x: the first choice's")
    doc_ids: DocIds = Field(description="0.x: the recalled docs' ids")
    stop_reason: str | None = Field(
        description="Why Sprig stopped the turn early: `max_tool_iterations`, `repetition`"
    )


class Delta(BaseModel):
    role: str
    content: str | list[Any] | None = None
    name: Absent[str] = None
    tool_call_id: Absent[str] = None
    tool_calls: Absent[list[ToolCall]] = None


class ChunkChoice(BaseModel):
    index: int
    delta: Delta
    finish_reason: str | None


class ChatChunk(BaseModel):
    """One ``data:`` event of a streamed turn: the first carries ``docs``, the last
    ``finish_reason``, ``usage`` and ``jobs``."""

    id: str
    created_at: datetime
    choices: list[ChunkChoice]
    jobs: list[str]
    docs: Absent[list[DocReference]] = None
    usage: Absent[Usage] = None
    stop_reason: Absent[str] = None


class Rendered(BaseModel):
    """The exact request the model would get."""

    messages: list[dict[str, Any]]
    docs: list[DocReference]
    tools: list[dict[str, Any]]
    tool_choice: Any
    model: str
    settings: dict[str, Any]
    token_budget: int
