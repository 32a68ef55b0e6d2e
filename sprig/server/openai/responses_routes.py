"""``/v1/responses``: create (JSON or SSE), read, delete, input items, cancel."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse

from sprig.server.api.deps import Developer, Metered, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.openai import compaction
from sprig.server.openai.responses_api import ResponsesService, sse
from sprig.server.openai.schemas import ResponseIn
from sprig.server.openai.shapes import (
    CompactedResponse,
    InputItemList,
    OpenAIResponse,
    ResponseDeleted,
    responses_sse,
)

router = APIRouter(prefix="/v1", tags=["openai"])


@router.post(
    "/responses",
    response_model=documented(OpenAIResponse),
    responses=responses_sse("#/components/schemas/ResponseStreamEvent"),
)
async def create_response(body: ResponseIn, runtime: RuntimeDep, dev: Metered) -> Response:
    """A model response (an agent's turn, or a raw model's), stored for
    ``previous_response_id`` unless ``store`` is false; ``stream: true`` sends the typed
    events (``response.created`` … ``response.completed``)."""
    service = ResponsesService(runtime)
    if body.stream:
        slot = await runtime.quotas.open_stream(dev)
        async with slot.starting():
            events = await service.stream(dev, body)
        return StreamingResponse(
            slot.guard(sse(events)),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )
    return JSONResponse(await service.create(dev, body))


@router.post("/responses/compact", response_model=documented(CompactedResponse))
async def compact_response(
    body: compaction.CompactIn, runtime: RuntimeDep, dev: Metered
) -> dict[str, Any]:
    """The conversation (``input`` and/or the chain before ``previous_response_id``) folded
    into a ``compaction`` item by Sprig's summariser; pass the output on as input."""
    return await compaction.compact(runtime, dev, body)


@router.get("/responses/{response_id}", response_model=documented(OpenAIResponse))
async def get_response(response_id: str, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    return await ResponsesService(runtime).get(dev, response_id)


@router.delete("/responses/{response_id}", response_model=documented(ResponseDeleted))
async def delete_response(response_id: str, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    return await ResponsesService(runtime).delete(dev, response_id)


@router.get("/responses/{response_id}/input_items", response_model=documented(InputItemList))
async def list_input_items(
    response_id: str,
    runtime: RuntimeDep,
    dev: Developer,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Literal["asc", "desc"] = "desc",
    after: Annotated[str | None, Query(max_length=80)] = None,
) -> dict[str, Any]:
    return await ResponsesService(runtime).input_items(dev, response_id, limit, order, after)


@router.post("/responses/{response_id}/cancel", response_model=documented(OpenAIResponse))
async def cancel_response(response_id: str, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    return await ResponsesService(runtime).cancel(dev, response_id)
