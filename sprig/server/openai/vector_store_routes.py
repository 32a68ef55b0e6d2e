"""``/v1/files`` and ``/v1/vector_stores``: uploads, stores of their text, and search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import Field, StringConstraints

from sprig.server.api.body import Body
from sprig.server.api.deps import Developer, RuntimeDep
from sprig.server.api.responses import documented
from sprig.server.errors import PayloadTooLargeError
from sprig.server.openai.shapes import (
    FileObject,
    ObjectList,
    OpenAIDeleted,
    SearchResultsPage,
    VectorStore,
    VectorStoreFile,
)
from sprig.server.openai.vector_stores import FilesService, VectorStoresService, file_object

router = APIRouter(prefix="/v1", tags=["openai"])
Limit = Annotated[int, Query(ge=1, le=100)]
Metadata = dict[str, Annotated[str, StringConstraints(max_length=512)]]
MAX_FILE_BYTES = 20 * 2**20


class VectorStoreIn(Body):
    name: Annotated[str, StringConstraints(max_length=255)] | None = None
    metadata: Metadata | None = None
    file_ids: Annotated[list[str], Field(max_length=100)] | None = None


class VectorStoreUpdate(Body):
    name: Annotated[str, StringConstraints(max_length=255)] | None = None
    metadata: Metadata | None = None


class VectorStoreFileIn(Body):
    file_id: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    attributes: dict[str, str | float | bool] | None = None


class SearchIn(Body):
    query: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    max_num_results: Annotated[int, Field(ge=1, le=50)] = 10


# -- files ------------------------------------------------------------------------------------
@router.post("/files", response_model=documented(FileObject))
async def upload_file(
    runtime: RuntimeDep,
    dev: Developer,
    file: Annotated[UploadFile, File()],
    purpose: Annotated[str, Form(max_length=32)] = "assistants",
) -> dict[str, Any]:
    """A file, kept as uploaded (text files can go into a vector store)."""
    content = await file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise PayloadTooLargeError(f"A file may hold at most {MAX_FILE_BYTES} bytes")
    name = file.filename or "file"
    return await FilesService(runtime).create(dev, name, purpose, content)


@router.get("/files", response_model=documented(ObjectList))
async def list_files(
    runtime: RuntimeDep,
    dev: Developer,
    purpose: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    return await FilesService(runtime).listed(dev, purpose, limit)


@router.get("/files/{file_id}", response_model=documented(FileObject))
async def get_file(file_id: str, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    return file_object(await FilesService(runtime).row(dev, file_id))


@router.get(
    "/files/{file_id}/content",
    response_class=Response,
    responses={
        200: {
            "description": "The file's bytes, as uploaded",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def file_content(file_id: str, runtime: RuntimeDep, dev: Developer) -> Response:
    row = await FilesService(runtime).row(dev, file_id)
    return Response(bytes(row["content"]), media_type="application/octet-stream")


@router.delete("/files/{file_id}", response_model=documented(OpenAIDeleted))
async def delete_file(file_id: str, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    return await FilesService(runtime).delete(dev, file_id)


# -- vector stores ----------------------------------------------------------------------------
@router.post("/vector_stores", response_model=documented(VectorStore))
async def create_store(body: VectorStoreIn, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    """A vector store: Sprig documents made from the text of the files added to it."""
    service = VectorStoresService(runtime)
    metadata = dict(body.metadata or {})
    return await service.create(dev, body.name, metadata, list(body.file_ids or []))


@router.get("/vector_stores", response_model=documented(ObjectList))
async def list_stores(runtime: RuntimeDep, dev: Developer, limit: Limit = 20) -> dict[str, Any]:
    return await VectorStoresService(runtime).listed_stores(dev, limit)


@router.get("/vector_stores/{store_id}", response_model=documented(VectorStore))
async def get_store(store_id: str, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    return await VectorStoresService(runtime).get(dev, store_id)


@router.post("/vector_stores/{store_id}", response_model=documented(VectorStore))
async def update_store(
    store_id: str, body: VectorStoreUpdate, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    metadata = dict(body.metadata) if body.metadata is not None else None
    return await VectorStoresService(runtime).update(dev, store_id, body.name, metadata)


@router.delete("/vector_stores/{store_id}", response_model=documented(OpenAIDeleted))
async def delete_store(store_id: str, runtime: RuntimeDep, dev: Developer) -> dict[str, Any]:
    return await VectorStoresService(runtime).delete(dev, store_id)


@router.post("/vector_stores/{store_id}/files", response_model=documented(VectorStoreFile))
async def add_store_file(
    store_id: str, body: VectorStoreFileIn, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    attributes = dict(body.attributes or {})
    return await VectorStoresService(runtime).add_file(dev, store_id, body.file_id, attributes)


@router.get("/vector_stores/{store_id}/files", response_model=documented(ObjectList))
async def list_store_files(
    store_id: str, runtime: RuntimeDep, dev: Developer, limit: Limit = 20
) -> dict[str, Any]:
    return await VectorStoresService(runtime).files_of(dev, store_id, limit)


@router.get("/vector_stores/{store_id}/files/{file_id}", response_model=documented(VectorStoreFile))
async def get_store_file(
    store_id: str, file_id: str, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    return await VectorStoresService(runtime).file(dev, store_id, file_id)


@router.delete(
    "/vector_stores/{store_id}/files/{file_id}", response_model=documented(OpenAIDeleted)
)
async def remove_store_file(
    store_id: str, file_id: str, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    return await VectorStoresService(runtime).remove_file(dev, store_id, file_id)


@router.post("/vector_stores/{store_id}/search", response_model=documented(SearchResultsPage))
async def search_store(
    store_id: str, body: SearchIn, runtime: RuntimeDep, dev: Developer
) -> dict[str, Any]:
    """Sprig's hybrid search (BM25 and vectors) over the store's files."""
    service = VectorStoresService(runtime)
    return await service.search(dev, store_id, body.query, body.max_num_results)
