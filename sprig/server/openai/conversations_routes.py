"""``/v1/conversations``: conversations (Sprig sessions) and their items (history entries)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from sprig.server.api.body import Body
from sprig.server.api.deps import Developer, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.openai.conversations import ConversationsService
from sprig.server.openai.shapes import (
    Conversation,
    ConversationDeleted,
    ConversationItem,
    InputItemList,
)

router = APIRouter(prefix="/v1", tags=["openai"])
Metadata = dict[str, Annotated[str, Field(max_length=512)]]


class ConversationIn(Body):
    items: Annotated[list[dict[str, Any]], Field(max_length=20)] | None = None
    metadata: Metadata | None = None


class ConversationUpdate(Body):
    metadata: Metadata


class ItemsIn(Body):
    items: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=20)]


Limit = Annotated[int, Query(ge=1, le=100)]
After = Annotated[str | None, Query(max_length=80)]


@router.post("/conversations", response_model=documented(Conversation))
async def create_conversation(
    runtime: RuntimeDep, dev: Developer, body: ConversationIn | None = None
) -> dict[str, Any]:
    """A new conversation (a Sprig session without an agent until a response names one)."""
    body = body or ConversationIn()
    service = ConversationsService(runtime)
    return await service.create(dev, body.items or [], dict(body.metadata or {}))


@router.get("/conversations/{conversation_id}", response_model=documented(Conversation))
async def get_conversation(
    conversation_id: str, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    return await ConversationsService(runtime).get(dev, conversation_id)


@router.post("/conversations/{conversation_id}", response_model=documented(Conversation))
async def update_conversation(
    conversation_id: str, body: ConversationUpdate, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    return await ConversationsService(runtime).update(dev, conversation_id, dict(body.metadata))


@router.delete("/conversations/{conversation_id}", response_model=documented(ConversationDeleted))
async def delete_conversation(
    conversation_id: str, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    return await ConversationsService(runtime).delete(dev, conversation_id)


@router.get("/conversations/{conversation_id}/items", response_model=documented(InputItemList))
async def list_items(
    conversation_id: str,
    runtime: RuntimeDep,
    dev: Developer,
    limit: Limit = 20,
    order: Literal["asc", "desc"] = "desc",
    after: After = None,
) -> dict[str, Any]:
    return await ConversationsService(runtime).items(dev, conversation_id, limit, order, after)


@router.post("/conversations/{conversation_id}/items", response_model=documented(InputItemList))
async def add_items(
    conversation_id: str, body: ItemsIn, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    return await ConversationsService(runtime).add_items(dev, conversation_id, body.items)


@router.get(
    "/conversations/{conversation_id}/items/{item_id}", response_model=documented(ConversationItem)
)
async def get_item(
    conversation_id: str, item_id: str, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    return await ConversationsService(runtime).item(dev, conversation_id, item_id)


@router.delete(
    "/conversations/{conversation_id}/items/{item_id}", response_model=documented(Conversation)
)
async def delete_item(
    conversation_id: str, item_id: str, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    """Not served yet (501): a session's history is append-only."""
    await ConversationsService(runtime).delete_item(dev, conversation_id, item_id)
    return {}
