"""``client.sessions.docs``: documents attached to one session (recalled in its chats)."""

from __future__ import annotations

from sprig.client._call import Call, ListCall, list_params, path
from sprig.client._methods import (
    AsyncResource,
    SyncResource,
    async_list,
    async_method,
    sync_list,
    sync_method,
)
from sprig.client._validation import Id
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
from sprig.client.resources.docs import doc_body
from sprig.client.types import Doc, DocSearchResponse, ResourceDeletedResponse


def session_doc_create(
    session_id: Id,
    doc: DocParam | None = None,
    *,
    title: str | None = None,
    content: str | list[str] | None = None,
    metadata: Metadata | None = None,
    embed_instruction: str | None = None,
) -> Call[Doc]:
    """Attach a document to a session (``POST /sessions/{id}/docs``)."""
    body = doc_body(doc, title, content, metadata, embed_instruction)
    return Call("POST", path("/sessions/{}/docs", session_id), Doc.model_validate, json=body)


def session_doc_list(
    session_id: Id,
    limit: Limit | None = None,
    offset: Offset | None = None,
    metadata_filter: MetadataFilter | None = None,
    sort_by: SortBy | None = None,
    order: Order | None = None,
    include_embeddings: bool | None = None,
) -> ListCall[Doc]:
    """A session's documents (``GET /sessions/{id}/docs``)."""
    params = list_params(
        limit, offset, metadata_filter, sort_by, order, include_embeddings=include_embeddings
    )
    return ListCall(path("/sessions/{}/docs", session_id), Doc.model_validate, params)


def session_doc_delete(session_id: Id, doc_id: Id) -> Call[ResourceDeletedResponse]:
    """Remove a document from a session (``DELETE /sessions/{id}/docs/{doc_id}``)."""
    route = path("/sessions/{}/docs/{}", session_id, doc_id)
    return Call("DELETE", route, ResourceDeletedResponse.model_validate)


def session_doc_search(
    session_id: Id,
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
    """Search a session's documents (``POST /sessions/{id}/search``); see `docs.search`."""
    return search_call(
        path("/sessions/{}", session_id),
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


class SessionDocs(SyncResource):
    _label = "sessions.docs"
    create = sync_method(session_doc_create)
    list = sync_list(session_doc_list)
    delete = sync_method(session_doc_delete)
    search = sync_method(session_doc_search)


class AsyncSessionDocs(AsyncResource):
    _label = "sessions.docs"
    create = async_method(session_doc_create)
    list = async_list(session_doc_list)
    delete = async_method(session_doc_delete)
    search = async_method(session_doc_search)
