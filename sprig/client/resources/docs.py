"""``client.docs``: documents of agents and users, and searching them."""

from __future__ import annotations

from typing import Any

from sprig.client._call import Call, ListCall, compact, jsonable, list_params, one_owner, path
from sprig.client._methods import (
    AsyncResource,
    SyncResource,
    async_list,
    async_method,
    sync_list,
    sync_method,
)
from sprig.client._validation import Id
from sprig.client.errors import ArgumentValueError
from sprig.client.params import DocParam
from sprig.client.resources._shared import (
    Confidence,
    KMultiplier,
    Limit,
    Metadata,
    MetadataFilter,
    MmrStrength,
    Offset,
    Order,
    SearchLimit,
    SearchMode,
    SortBy,
    Unit,
    search_call,
)
from sprig.client.types import Doc, DocSearchResponse, ResourceDeletedResponse


def doc_body(
    doc: DocParam | None,
    title: str | None,
    content: str | list[str] | None,
    metadata: Metadata | None,
    embed_instruction: str | None,
) -> dict[str, Any]:
    """A document from the ``doc`` dict and/or keywords (keywords win)."""
    given = compact(
        title=title, content=content, metadata=metadata, embed_instruction=embed_instruction
    )
    body = {**(jsonable(doc) if doc else {}), **given}
    if "title" not in body or "content" not in body:
        raise ArgumentValueError("a document needs a title and content")
    return body


def doc_create(
    agent_id: Id | None = None,
    user_id: Id | None = None,
    doc: DocParam | None = None,
    *,
    title: str | None = None,
    content: str | list[str] | None = None,
    metadata: Metadata | None = None,
    embed_instruction: str | None = None,
) -> Call[Doc]:
    """Add a document to an agent or a user (``POST /{agents|users}/{id}/docs``).

    Pass ``doc={"title": ..., "content": ...}`` (Julep docs) or ``title=``/``content=``.
    The document is searchable when this returns.
    """
    kind, owner = one_owner(agent_id, user_id)
    body = doc_body(doc, title, content, metadata, embed_instruction)
    return Call("POST", path(f"/{kind}/{{}}/docs", owner), Doc.model_validate, json=body)


def doc_get(doc_id: Id, include_embeddings: bool | None = None) -> Call[Doc]:
    """Get one document (``GET /docs/{id}``)."""
    params = list_params(None, None, include_embeddings=include_embeddings)
    return Call("GET", path("/docs/{}", doc_id), Doc.model_validate, params)


def doc_list(
    agent_id: Id | None = None,
    user_id: Id | None = None,
    limit: Limit | None = None,
    offset: Offset | None = None,
    metadata_filter: MetadataFilter | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
    include_embeddings: bool | None = None,
) -> ListCall[Doc]:
    """List an agent's or a user's documents (``GET /{agents|users}/{id}/docs``)."""
    kind, owner = one_owner(agent_id, user_id)
    params = list_params(
        limit, offset, metadata_filter, sort_by, order, include_embeddings=include_embeddings
    )
    return ListCall(path(f"/{kind}/{{}}/docs", owner), Doc.model_validate, params)


def doc_delete(
    doc_id: Id, agent_id: Id | None = None, user_id: Id | None = None
) -> Call[ResourceDeletedResponse]:
    """Delete a document (``DELETE /{agents|users}/{id}/docs/{doc_id}``)."""
    kind, owner = one_owner(agent_id, user_id)
    route = path(f"/{kind}/{{}}/docs/{{}}", owner, doc_id)
    return Call("DELETE", route, ResourceDeletedResponse.model_validate)


def doc_bulk_delete(
    agent_id: Id | None = None,
    user_id: Id | None = None,
    *,
    metadata_filter: Metadata | None = None,
    delete_all: bool | None = None,
) -> Call[list[ResourceDeletedResponse]]:
    """Delete the documents matching ``metadata_filter`` (or all, with ``delete_all=True``)."""
    kind, owner = one_owner(agent_id, user_id)
    if not metadata_filter and not delete_all:
        raise ArgumentValueError("bulk_delete needs metadata_filter=... or delete_all=True")
    body = compact(metadata_filter=metadata_filter, delete_all=delete_all)
    route = path(f"/{kind}/{{}}/docs", owner)
    return Call("DELETE", route, _deleted_items, json=body)


def _deleted_items(body: Any) -> list[ResourceDeletedResponse]:
    items = body.get("items", []) if isinstance(body, dict) else body or []
    return [ResourceDeletedResponse.model_validate(item) for item in items]


def doc_search(
    agent_id: Id | None = None,
    user_id: Id | None = None,
    *,
    text: str | None = None,
    vector: list[float] | None = None,
    lang: str | None = None,
    limit: SearchLimit | None = None,
    metadata_filter: Metadata | None = None,
    include_embeddings: bool | None = None,
    trigram_similarity_threshold: Unit | None = None,
    confidence: Confidence | None = None,
    mmr_strength: MmrStrength | None = None,
    alpha: Unit | None = None,
    k_multiplier: KMultiplier | None = None,
    mode: SearchMode | None = None,
) -> Call[DocSearchResponse]:
    """Search an agent's or a user's documents (``POST /{agents|users}/{id}/search``).

    The server embeds ``text``: text alone is a hybrid search (full text fused with vector
    similarity; ``alpha``: 0 = text only, 1 = vector only), ``vector`` alone a vector
    search; ``mode`` ("text", "vector", "hybrid") picks one explicitly. Best first.
    """
    kind, owner = one_owner(agent_id, user_id)
    return search_call(
        path(f"/{kind}/{{}}", owner),
        text=text,
        vector=vector,
        mode=mode,
        lang=lang,
        limit=limit,
        metadata_filter=metadata_filter,
        include_embeddings=include_embeddings,
        trigram_similarity_threshold=trigram_similarity_threshold,
        confidence=confidence,
        mmr_strength=mmr_strength,
        alpha=alpha,
        k_multiplier=k_multiplier,
    )


class Docs(SyncResource):
    _label = "docs"
    create = sync_method(doc_create)
    get = sync_method(doc_get)
    list = sync_list(doc_list)
    delete = sync_method(doc_delete)
    bulk_delete = sync_method(doc_bulk_delete)
    search = sync_method(doc_search)


class AsyncDocs(AsyncResource):
    _label = "docs"
    create = async_method(doc_create)
    get = async_method(doc_get)
    list = async_list(doc_list)
    delete = async_method(doc_delete)
    bulk_delete = async_method(doc_bulk_delete)
    search = async_method(doc_search)
