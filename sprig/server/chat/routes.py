"""``POST /sessions/{id}/chat`` (JSON or SSE) and ``POST /sessions/{id}/render``."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, Response, StreamingResponse

from sprig.server.api import views
from sprig.server.api.deps import ChatDep, Developer, Metered, RuntimeDep, is_legacy
from sprig.server.api.responses import documented
from sprig.server.chat.responses import ChatChunk, ChatResponse, Rendered
from sprig.server.chat.schemas import ChatIn
from sprig.server.chat.service import (
    ChatResult,
    StreamDelta,
    StreamEnd,
    StreamEvent,
    StreamStart,
    StreamToolStep,
)
from sprig.server.chat.turn import ChatOptions
from sprig.server.errors import SprigError
from sprig.server.ids import rfc3339
from sprig.server.models.base import ChatMessage

router = APIRouter(tags=["chat"])
log = logging.getLogger("sprig.server")


def options_from(body: ChatIn) -> ChatOptions:
    return ChatOptions(
        messages=[
            {**m.values(exclude={"content"}), "content": m.stored_content()} for m in body.messages
        ],
        sampling=body.sampling(),
        response_format=body.response_format_dict(),
        agent_id=body.agent,
        model=body.model,
        metadata=body.metadata or {},
        save=body.should_save(),
        remember=body.remember,
        recall=body.recall,
        recall_tools=body.recall_tools,
        tools=[t.normalised() for t in body.tools or []],
        tool_choice=body.tool_choice,
        auto_run_tools=body.auto_run_tools,
    )


def wants_sse(request: Request, body: ChatIn) -> bool:
    """``stream: true`` streams, whatever ``Accept`` says (curl sends ``*/*``, the OpenAI
    and Julep 2.x SDKs ``application/json``), except to the 0.x SDKs, which cannot read a
    stream: they get the whole reply as JSON."""
    return body.stream and not is_legacy(request)


def sends_done(request: Request) -> bool:
    """The official 2.x SDK JSON-parses every event and breaks on ``[DONE]``."""
    return not request.headers.get("user-agent", "").startswith("Julep/Python")


SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "The reply (JSON), or with `stream: true` Server-Sent Events: "
        "`data: <chunk JSON>` events, the last with `finish_reason` and `usage`, then "
        "`data: [DONE]`; a failure after the stream started is one `data:` event in the "
        "error shape",
        "content": {
            # OpenAPI 3.2: `itemSchema` describes each event (a stream-level `schema` would
            # describe the whole stream, as an array of events: left out)
            "text/event-stream": {
                "itemSchema": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "data": {
                            "anyOf": [
                                {
                                    "type": "string",
                                    "contentMediaType": "application/json",
                                    "contentSchema": {
                                        "anyOf": [
                                            {"$ref": "#/components/schemas/ChatChunk"},
                                            {"$ref": "#/components/schemas/ErrorResponse"},
                                        ]
                                    },
                                },
                                {"const": "[DONE]"},
                            ]
                        }
                    },
                },
            }
        },
    }
}
# Models the document names that no route's JSON body does (the streamed events).
DOCUMENTED_MODELS = (ChatChunk,)


@router.post(
    "/sessions/{session_id}/chat",
    status_code=status.HTTP_201_CREATED,
    response_model=documented(ChatResponse),
    responses=SSE_RESPONSE,
)
async def chat(
    session_id: UUID, body: ChatIn, request: Request, runtime: RuntimeDep, dev: Metered
) -> Response:
    options, chat = options_from(body), runtime.chat
    if wants_sse(request, body):
        slot = await runtime.quotas.open_stream(dev)
        async with slot.starting():
            events = await chat.stream(dev, session_id, options)
        return StreamingResponse(
            slot.guard(_sse(events, sends_done(request))),
            status_code=status.HTTP_201_CREATED,
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )
    result = await chat.complete(dev, session_id, options)
    return JSONResponse(chat_response(result), status_code=status.HTTP_201_CREATED)


@router.post("/sessions/{session_id}/render", response_model=documented(Rendered))
async def render(session_id: UUID, body: ChatIn, chat: ChatDep, dev: Developer) -> dict[str, Any]:
    """The exact messages the model would get for this request, without calling it."""
    turn = await chat.render(dev, session_id, options_from(body))
    return {
        "messages": [m.to_openai() for m in turn.request.messages],
        "docs": [views.doc_reference(d) for d in turn.docs],
        "tools": [t.to_openai() for t in turn.request.tools],
        "tool_choice": turn.request.tool_choice,
        "model": turn.model.name,
        "settings": turn.request.sampling.as_dict(),
        "token_budget": turn.window.tokens,
    }


def _usage(result: ChatResult) -> dict[str, int]:
    return result.usage.as_dict()


def _doc_ids(result: ChatResult) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {"agent_doc_ids": [], "user_doc_ids": []}
    for d in result.docs:
        key = "user_doc_ids" if d.get("owner_kind") == "user" else "agent_doc_ids"
        ids[key].append(str(d["id"]))
    return ids


def chat_response(result: ChatResult) -> dict[str, Any]:
    """The v1 ChatResponse plus the legacy keys (``response``, ``finish_reason``, ``doc_ids``)."""
    created = rfc3339(result.created_at)
    message = {
        "id": str(result.id),
        "role": "assistant",
        "content": result.content,
        "tool_calls": result.tool_calls or None,
        "created_at": created,
    }
    return {
        "id": str(result.id),
        "created_at": created,
        "choices": [{"index": 0, "message": message, "finish_reason": result.finish_reason}],
        "usage": _usage(result),
        "docs": [views.doc_reference(d) for d in result.docs],
        "jobs": [str(j) for j in result.jobs],
        "response": [views.legacy_messages(_as_entry(result))],
        "finish_reason": result.finish_reason,
        "doc_ids": _doc_ids(result),
        "stop_reason": result.stop_reason,
    }


def _as_entry(result: ChatResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "role": "assistant",
        "name": None,
        "content": result.content,
        "tool_calls": result.tool_calls,
        "created_at": result.created_at,
    }


def _chunk(
    reply_id: str, created: str, delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": reply_id,
        "created_at": created,
        "choices": [{"index": 0, "delta": {"role": "assistant", **delta}, "finish_reason": finish}],
        "jobs": [],
    }


async def _sse(events: AsyncIterator[StreamEvent], done_marker: bool) -> AsyncIterator[str]:
    """The turn's events as SSE chunks. A failure after the stream started (the model's
    call happens then) ends it with one ``data:`` event in the error shape;
    the turn raised before saving anything; then ``[DONE]`` as usual."""
    try:
        async for chunk in _sse_chunks(events):
            yield chunk
    except Exception as exc:  # the response has started: say what failed, in its shape
        yield _error_event(exc)
    if done_marker:
        yield "data: [DONE]\n\n"


def _error_event(exc: Exception) -> str:
    if not isinstance(exc, SprigError):
        log.exception("chat stream failed", exc_info=exc)
        exc = SprigError("Internal server error")
    error = {"message": exc.message, "code": exc.code, "type": exc.type}
    return _data({"error": error, "detail": exc.message})


async def _sse_chunks(events: AsyncIterator[StreamEvent]) -> AsyncIterator[str]:
    reply_id = created = ""
    async for event in events:
        if isinstance(event, StreamStart):
            reply_id, created = str(event.id), str(rfc3339(event.created_at))
            first = _chunk(reply_id, created, {"content": ""})
            first["docs"] = [views.doc_reference(d) for d in event.docs]
            yield _data(first)
        elif isinstance(event, StreamDelta):
            yield _data(_chunk(reply_id, created, {"content": event.content}))
        elif isinstance(event, StreamToolStep):
            for message in event.messages:
                yield _data(_chunk(reply_id, created, _tool_delta(message)))
        elif isinstance(event, StreamEnd):
            r = event.result
            delta: dict[str, Any] = {"content": ""}
            if r.tool_calls:
                delta["tool_calls"] = r.tool_calls
            last = _chunk(reply_id, created, delta, r.finish_reason)
            last["usage"] = _usage(r)
            last["jobs"] = [str(j) for j in r.jobs]
            if r.stop_reason:
                last["stop_reason"] = r.stop_reason
            yield _data(last)


def _tool_delta(message: ChatMessage) -> dict[str, Any]:
    """A server-run tool step as a chunk delta: the calls, or one result (role ``tool``; its
    text: image parts passed to the model are not streamed)."""
    delta = message.to_openai()
    delta.pop("name", None)
    if isinstance(delta.get("content"), list):
        delta["content"] = message.text()
    return delta


def _data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
