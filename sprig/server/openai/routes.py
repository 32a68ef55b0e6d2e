"""The OpenAI-compatible routes under ``/v1`` (``/api/v1`` too: see app.EdgeMiddleware)."""

from __future__ import annotations

import base64
import dataclasses
from typing import Annotated, Any
from uuid import UUID

import numpy as np
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from sprig.server.api.deps import Developer, Metered, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.errors import BadRequestError, NotImplementedFeatureError
from sprig.server.openai import targets, wire
from sprig.server.openai.completions import SESSION_HEADER, SESSION_KEY, Completions, Plan
from sprig.server.openai.schemas import ChatCompletionIn, EmbeddingIn
from sprig.server.openai.shapes import (
    ChatCompletion,
    EmbeddingList,
    OpenAIModel,
    OpenAIModelList,
    sse_response,
)
from sprig.server.runtime import Runtime
from sprig.server.usage.meter import embedding_counts

router = APIRouter(prefix="/v1", tags=["openai"])


CHUNK_REF = "#/components/schemas/ChatCompletionChunk"
ERROR_REF = "#/components/schemas/OpenAIErrorResponse"


@router.get("/models", response_model=documented(OpenAIModelList))
async def list_models(runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    """The tenant's agents and the raw models, as OpenAI models."""
    async with runtime.db.read() as conn:
        data = await targets.list_models(conn, dev, runtime.models)
    return {"object": "list", "data": data}


@router.get("/models/{model_id:path}", response_model=documented(OpenAIModel))
async def get_model(model_id: str, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    async with runtime.db.read() as conn:
        target = await targets.resolve(conn, dev, runtime.models, model_id)
        owner = await targets.owner_name(conn, dev)
    return targets.model_entry(target, model_id, owner)


SessionHeader = Annotated[str | None, Header(alias=SESSION_HEADER)]


@router.post(
    "/chat/completions",
    response_model=documented(ChatCompletion),
    responses=sse_response(CHUNK_REF, ERROR_REF),
)
async def chat_completions(
    body: ChatCompletionIn,
    request: Request,
    runtime: RuntimeDep,
    dev: Metered,
    session_header: SessionHeader = None,
) -> Response:
    """A chat turn on an agent (stateless, or stateful on a named session) or a raw model.
    ``stream: true`` answers with ``chat.completion.chunk`` events, whatever ``Accept``
    says (the openai SDKs send ``application/json`` when streaming too)."""
    completions = Completions(runtime)
    if body.stream:
        return await _streamed(runtime, completions, dev, body, session_header)
    plan = await completions.plan(dev, body, session_header)
    head, reply = await completions.complete(dev, plan)
    head = dataclasses.replace(head, model=body.model, extra=_session_key(plan))
    return JSONResponse(wire.completion(head, reply), headers=_session_header(plan))


async def _streamed(
    runtime: Runtime, completions: Completions, dev: UUID, body: ChatCompletionIn, given: str | None
) -> Response:
    """The stream's slot first (a refused stream makes no session), then the turn."""
    slot = await runtime.quotas.open_stream(dev)
    async with slot.starting():
        plan = await completions.plan(dev, body, given)
        head, events = await completions.stream(dev, plan)
    head = dataclasses.replace(head, model=body.model, extra=_session_key(plan))
    return StreamingResponse(
        slot.guard(wire.sse(head, events, body.include_usage)),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no", **_session_header(plan)},
    )


def _session_key(plan: Plan) -> dict[str, str]:
    return {SESSION_KEY: str(plan.session_id)} if plan.session_id else {}


def _session_header(plan: Plan) -> dict[str, str]:
    return {SESSION_HEADER: str(plan.session_id)} if plan.session_id else {}


@router.post("/embeddings", response_model=documented(EmbeddingList))
async def embeddings(body: EmbeddingIn, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    """Vectors of the configured embedding model (L2-normalised), one per input."""
    embedder = runtime.indexer.embedder
    if body.model not in (embedder.name, "default"):
        raise targets.ModelNotFoundError(body.model)
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    vectors = np.asarray(await runtime.indexer.embed(texts), dtype=np.float32)
    if body.dimensions is not None and body.dimensions != vectors.shape[1]:
        raise BadRequestError(
            f"{embedder.name} makes {vectors.shape[1]}-dimensional vectors; "
            f"it cannot make {body.dimensions}",
            param="dimensions",
        )
    await runtime.usage.meter.record(dev, embedder.name, embedding_counts(embedder, len(texts)))
    tokens = sum(len(t.split()) for t in texts)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": _encoded(v, body.encoding_format)}
            for i, v in enumerate(vectors)
        ],
        "model": embedder.name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _encoded(vector: np.ndarray[Any, Any], encoding: str) -> list[float] | str:
    if encoding == "base64":  # little-endian float32, as OpenAI sends it
        return base64.b64encode(vector.astype("<f4").tobytes()).decode()
    return [float(v) for v in vector]


# OpenAI APIs Sprig does not serve yet: a clear 501, not a bare 404.
NOT_YET = (
    "assistants", "threads", "batches", "uploads", "fine_tuning", "audio", "images",
    "moderations", "containers", "evals",
)  # fmt: skip


def _not_yet(api: str) -> Any:
    message = (
        f"The OpenAI {api.replace('_', ' ')} API is not served by Sprig; chat completions, "
        "responses, conversations, files, vector stores, models and embeddings are "
        "(docs/openai.md)"
    )

    async def answer(dev: Developer) -> None:
        raise NotImplementedFeatureError(message)

    return answer


for _api in NOT_YET:
    for _path in (f"/{_api}", f"/{_api}/{{rest:path}}"):
        router.add_api_route(
            _path, _not_yet(_api), methods=["GET", "POST", "DELETE"], include_in_schema=False
        )
