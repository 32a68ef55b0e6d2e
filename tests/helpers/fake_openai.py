"""A tiny OpenAI-compatible chat server for testing the LiteLLM provider without network.

The last user message steers it:
- ``error:<status>``: answer that HTTP status with an OpenAI error body;
- ``tool:<name>``: call tool `<name>` with ``{"city": "Paris"}``;
- ``json``: reply ``{"ok": true}``; ``badjson``: reply ``not json``;
- ``slow``: stream 50 words, 50 ms apart (for cancellation tests);
- ``hang``: answer nothing for 30 s (for timeouts);
- ``midstream``: stream two words, then an error event (as OpenAI reports a failure
  after the stream started);
- ``flaky:<status>:<n>[:<retry-after>]``: answer that status (with that ``retry-after``
  header) the first ``n`` times this text is asked, then reply as usual;
- ``malformed``: answer 200 with a body that is not JSON;
- ``die``: stream two words, then drop the connection;
- ``unfinished``: stream two words, then end the stream cleanly but without a finish reason
  or ``[DONE]``;
- anything else: reply ``echo: <text>``;
- after a tool result (the last message has role ``tool``): reply ``result: <its content>``.
A tool message that answers no earlier call is refused with 400, as OpenAI does.
Every request body and Authorization header is recorded.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.helpers.servers import ThreadedServer

PROMPT_TOKENS = 11


@dataclass
class Recorder:
    bodies: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    traceparents: list[str | None] = field(default_factory=list)  # W3C trace context sent
    streams_started: int = 0
    streams_finished: int = 0
    streams_abandoned: int = 0
    asked: dict[str, int] = field(default_factory=dict)  # times each text was asked


def _reply_for(text: str) -> tuple[str, list[dict[str, Any]]]:
    if text.startswith("tool:"):
        function = {"name": text[5:], "arguments": '{"city": "Paris"}'}
        call: dict[str, Any] = {"id": "call_1", "type": "function", "function": function}
        return "", [call]
    if text == "json":
        return '{"ok": true}', []
    if text == "badjson":
        return "not json", []
    if text == "slow":
        return " ".join(f"w{i}" for i in range(50)), []
    return f"echo: {text}", []


def _usage(content: str) -> dict[str, int]:
    completion = len(content.split())
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": completion,
        "total_tokens": PROMPT_TOKENS + completion,
    }


def _last_user_text(body: dict[str, Any]) -> str:
    users = [m for m in body["messages"] if m["role"] == "user"]
    content = users[-1]["content"] if users else ""
    return content if isinstance(content, str) else content[0]["text"]


def _error(status: int, message: str = "") -> Response:
    message = message or f"fake failure {status}"
    body = {"error": {"message": message, "type": "fake_error", "code": None}}
    return JSONResponse(body, status_code=status)


def _flaky(text: str, asked: int) -> Response | None:
    status, times, *wait = text.split(":")[1:]
    if asked > int(times):
        return None
    response = _error(int(status))
    if wait:
        response.headers["retry-after"] = wait[0]
    return response


def _unanswerable_tool_message(messages: list[dict[str, Any]]) -> str:
    called: set[str] = set()
    for m in messages:
        called.update(c["id"] for c in m.get("tool_calls") or [])
        if m["role"] == "tool" and m.get("tool_call_id") not in called:
            return f"tool message {m.get('tool_call_id')!r} answers no preceding tool call"
    return ""


def _completion(content: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content or None}
    if calls:
        message["tool_calls"] = calls
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake",
        "choices": [choice],
        "usage": _usage(content),
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def _tool_deltas(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each call split the way OpenAI streams it: id + name, then arguments in two parts."""
    out = []
    for index, call in enumerate(calls):
        args = call["function"]["arguments"]
        function = {"name": call["function"]["name"], "arguments": ""}
        head = {"index": index, "id": call["id"], "type": "function", "function": function}
        out.append({"tool_calls": [head]})
        for part in (args[:5], args[5:]):
            out.append({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
    return out


async def _events(
    rec: Recorder, content: str, calls: list[dict[str, Any]], body: dict[str, Any], delay: float
) -> AsyncIterator[str]:
    rec.streams_started += 1
    finished = False
    try:
        yield _chunk({"role": "assistant", "content": ""})
        last = body["messages"][-1]["content"]
        if last in {"midstream", "die", "unfinished"}:
            yield _chunk({"content": "two words"})
            if last == "die":
                raise ConnectionAbortedError("the fake drops the connection")
            if last == "midstream":
                error = {"message": "fake midstream failure", "type": "server_error"}
                yield f"data: {json.dumps({'error': {**error, 'code': None}})}\n\n"
            return
        for word in content.split(" ") if content else []:
            await asyncio.sleep(delay)
            yield _chunk({"content": word + " "})
        for delta in _tool_deltas(calls):
            yield _chunk(delta)
        yield _chunk({}, "tool_calls" if calls else "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "choices": []}
            yield f"data: {json.dumps({**usage, 'usage': _usage(content)})}\n\n"
        yield "data: [DONE]\n\n"
        finished = True
    finally:
        if finished:
            rec.streams_finished += 1
        else:
            rec.streams_abandoned += 1


def make_app(rec: Recorder) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        rec.bodies.append(body)
        rec.auth.append(request.headers.get("authorization", ""))
        rec.traceparents.append(request.headers.get("traceparent"))
        text = _last_user_text(body)
        rec.asked[text] = rec.asked.get(text, 0) + 1
        if text.startswith("error:"):
            return _error(int(text[6:]))
        if text.startswith("flaky:") and (failure := _flaky(text, rec.asked[text])):
            return failure
        if text == "malformed":
            return Response("<html>not json</html>", media_type="application/json")
        if text == "hang":
            await asyncio.sleep(30)
        unlinked = _unanswerable_tool_message(body["messages"])
        if unlinked:  # as OpenAI: every tool message answers a call made before it
            return _error(400, unlinked)
        content, calls = _reply_for(text)
        last = body["messages"][-1]
        if last["role"] == "tool":
            content, calls = f"result: {last['content']}", []
        if body.get("stream"):
            delay = 0.05 if text == "slow" else 0.0
            events = _events(rec, content, calls, body, delay)
            return StreamingResponse(events, media_type="text/event-stream")
        return JSONResponse(_completion(content, calls))

    return app


class FakeOpenAI:
    """The fake server running under uvicorn in a daemon thread."""

    def __init__(self, port: int | None = None) -> None:
        self.recorder = Recorder()
        self._server = ThreadedServer(make_app(self.recorder), port)
        self.port = self._server.port

    @property
    def api_base(self) -> str:
        return f"{self._server.url}/v1"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()
