"""The Responses API's WebSocket mode: ``GET /v1/responses`` upgraded to a WebSocket.

The client sends ``response.create`` messages (the ``POST /v1/responses`` body; ``stream``
is implied, ``background`` is refused); the server answers each with the same typed events
a streamed response sends, one JSON message each, one response at a time. Responses made
with ``store: false`` are kept for the connection's lifetime (``LocalChains``): a
``previous_response_id`` naming one continues it with only the new input; on another
connection, or once a continuation from it failed, it is ``previous_response_not_found``.
Errors are ``{"type": "error", "code", "message", "param", "sequence_number"}`` events; the
connection stays open for the next message.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from sprig.server.api.deps import presented_key
from sprig.server.auth.keys import authenticate
from sprig.server.errors import SprigError
from sprig.server.openai import response_store as store
from sprig.server.openai.errors import validation_payload
from sprig.server.openai.responses_api import LocalChains, ResponsesService
from sprig.server.openai.schemas import ResponseIn
from sprig.server.runtime import Runtime

router = APIRouter(prefix="/v1")
log = logging.getLogger("sprig.server")
TRANSPORT_ONLY = ("type", "stream", "stream_options")


@router.websocket("/responses")
async def responses_socket(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    key = presented_key(websocket.headers)
    developer_id = await authenticate(runtime.db, key, runtime.key_cache) if key else None
    if developer_id is None:
        await websocket.close(code=1008, reason="Incorrect or missing API key")
        return
    await websocket.accept()
    session = _Socket(websocket, ResponsesService(runtime), developer_id)
    try:
        while True:
            await session.handle(await websocket.receive_text())
    except WebSocketDisconnect:
        return


class _Socket:
    def __init__(self, websocket: WebSocket, service: ResponsesService, dev: UUID) -> None:
        self.websocket = websocket
        self.service = service
        self.developer_id = dev
        self.local = LocalChains()

    async def handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            await self.error("invalid_json", "The message is not JSON")
            return
        if not isinstance(message, dict) or message.get("type") != "response.create":
            await self.error("invalid_request_error", "Send `response.create` messages", "type")
            return
        body = {k: v for k, v in message.items() if k not in TRANSPORT_ONLY}
        try:
            request = ResponseIn.model_validate(body)
        except ValidationError as exc:
            info = validation_payload([dict(e) for e in exc.errors()])["error"]
            await self.error(info["code"], info["message"], info["param"])
            return
        await self.respond(request)

    async def respond(self, request: ResponseIn) -> None:
        failed = True
        try:
            events = await self._started(request)
            async for event in events:
                await self.websocket.send_json(event)
                failed = event["type"] == "response.failed"
        except SprigError as exc:
            await self.error(exc.code, exc.message, exc.param)
        except WebSocketDisconnect:
            raise
        except Exception:
            log.exception("a WebSocket response failed")
            await self.error("server_error", "Internal server error")
        finally:
            if failed and request.previous_response_id:
                self._evict(request.previous_response_id)

    async def _started(self, request: ResponseIn) -> AsyncIterator[dict[str, Any]]:
        """The response's events, if the tenant's limits allow one more (each message is a
        request, a model turn and a stream)."""
        quotas = self.service.runtime.quotas
        await quotas.admit(self.developer_id)
        await quotas.check_spend(self.developer_id)
        slot = await quotas.open_stream(self.developer_id)
        async with slot.starting():
            events = await self.service.stream(self.developer_id, request, self.local)
        return slot.guard(events)

    def _evict(self, given: str) -> None:
        with contextlib.suppress(SprigError):  # not an id: nothing was kept under it
            self.local.evict(store.parse_id(given, previous=True))

    async def error(self, code: str | None, message: str, param: str | None = None) -> None:
        event: dict[str, Any] = {"type": "error", "code": code, "message": message}
        await self.websocket.send_json({**event, "param": param, "sequence_number": 0})
