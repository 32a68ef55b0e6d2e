"""An instant OpenAI-compatible chat endpoint for the gateway benches (its own process).

``POST /v1/chat/completions`` parses the request (as any provider must) and answers at
once: a fixed short reply with usage, or that reply streamed as three chunks, a usage
chunk and ``[DONE]``. A bare ASGI app under uvicorn: nothing between the socket and the
answer but parsing.

    python bench/_openai_stub.py PORT
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
REPLY = "stub reply."
USAGE = {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}


def _completion(model: str) -> bytes:
    message = {"role": "assistant", "content": REPLY}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    body = {"id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": model}
    return json.dumps({**body, "choices": [choice], "usage": USAGE}).encode()


def _events(model: str) -> bytes:
    head = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": model}
    deltas = [{"role": "assistant", "content": ""}, *({"content": w} for w in ("stub", " reply."))]
    events = [
        {**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
    ]
    events.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    events.append({**head, "choices": [], "usage": USAGE})
    lines = [f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


async def _body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(parts)


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    request = json.loads(await _body(receive) or b"{}")
    model = str(request.get("model", "stub"))
    stream = bool(request.get("stream"))
    content = _events(model) if stream else _completion(model)
    kind = b"text/event-stream" if stream else b"application/json"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", kind)]})
    await send({"type": "http.response.body", "body": content})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
