"""Documents of agents, users and sessions: ``/{agents|users|sessions}/{id}/docs``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status

from sprig.server.api import responses as out
from sprig.server.api import views
from sprig.server.api.deps import Developer, DocsDep, Legacy, ListQueryDep
from sprig.server.api.responses import documented
from sprig.server.api.schemas import BulkDeleteIn, DocIn
from sprig.server.docs.service import OwnerKind

router = APIRouter(tags=["docs"])
DELETED, DELETED_LIST = documented(out.Deleted), documented(out.DeletedList)


@router.get("/docs/{doc_id}", response_model=documented(out.Doc, out.LegacyDoc))
async def get_doc(
    doc_id: UUID,
    docs: DocsDep,
    dev: Developer,
    legacy: Legacy,
    include_embeddings: bool = False,
) -> dict[str, Any]:
    row = await docs.get(dev, doc_id)
    return views.doc(row, legacy, include_embeddings)


def _owner_routes(kind: OwnerKind) -> None:
    base = f"/{kind}s/{{owner_id}}/docs"

    async def create(
        owner_id: UUID, body: DocIn, docs: DocsDep, dev: Developer, legacy: Legacy
    ) -> dict[str, Any]:
        row = await docs.create(dev, kind, owner_id, body.values())
        return views.created_doc(row, legacy)

    async def list_docs(
        owner_id: UUID,
        docs: DocsDep,
        dev: Developer,
        query: ListQueryDep,
        legacy: Legacy,
        include_embeddings: bool = False,
    ) -> dict[str, Any]:
        rows = await docs.list(dev, kind, owner_id, query)
        return {"items": [views.doc(r, legacy, include_embeddings) for r in rows]}

    async def delete(owner_id: UUID, doc_id: UUID, docs: DocsDep, dev: Developer) -> dict[str, Any]:
        return views.deleted(await docs.delete(dev, kind, owner_id, doc_id))

    async def bulk_delete(
        owner_id: UUID, docs: DocsDep, dev: Developer, body: BulkDeleteIn | None = None
    ) -> dict[str, Any]:
        body = body or BulkDeleteIn()
        rows = await docs.bulk_delete(dev, kind, owner_id, body.metadata_filter, body.delete_all)
        return {"items": [views.deleted(r) for r in rows]}

    for fn in (create, list_docs, delete, bulk_delete):
        fn.__name__ = f"{fn.__name__}_{kind}_docs"
    created = documented(out.CreatedDoc, out.LegacyCreatedDoc)
    listed = documented(out.DocList, out.LegacyDocList)
    accepted = status.HTTP_202_ACCEPTED
    add = router.add_api_route
    add(base, create, methods=["POST"], status_code=status.HTTP_201_CREATED, response_model=created)
    add(base, list_docs, methods=["GET"], response_model=listed)
    add(base, bulk_delete, methods=["DELETE"], status_code=accepted, response_model=DELETED_LIST)
    one = base + "/{doc_id}"
    add(one, delete, methods=["DELETE"], status_code=accepted, response_model=DELETED)


_KINDS: tuple[OwnerKind, ...] = ("agent", "user", "session")
for _kind in _KINDS:
    _owner_routes(_kind)
