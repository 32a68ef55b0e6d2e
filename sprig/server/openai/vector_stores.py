"""OpenAI files and vector stores on Sprig's documents.

A file (``/v1/files``) is kept as uploaded (``tables.files``). A vector store
(``/v1/vector_stores``) is a document owner (``docs.owner_kind = 'vstore'``); adding a
file to it makes one doc of the file's text (chunked and embedded like any other, its
``file_id``, ``filename`` and ``attributes`` in the doc's metadata), and its search is
Sprig's hybrid search over those docs. Text files only (UTF-8: plain text, Markdown,
JSON, CSV, HTML, code); converting PDF and Office files is #21's.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from sprig.server.docs.service import OwnerKind
from sprig.server.errors import BadRequestError, NotFoundError
from sprig.server.ids import new_id, utcnow
from sprig.server.openai import items as it
from sprig.server.runtime import Runtime
from sprig.server.search.ranking import RankOptions
from sprig.server.search.service import SearchQuery
from sprig.server.store import crud, tables
from sprig.server.store.crud import ListQuery, Row

FILE_PREFIX = "file-"
STORE_PREFIX = "vs_"
KIND: OwnerKind = "vstore"
PURPOSES = ("assistants", "user_data", "batch", "fine-tune", "vision", "evals")


def file_wire_id(file_id: UUID) -> str:
    return f"{FILE_PREFIX}{file_id.hex}"


def store_wire_id(store_id: UUID) -> str:
    return f"{STORE_PREFIX}{store_id.hex}"


async def _get(runtime: Runtime, table: sa.Table, developer_id: UUID, id_: UUID, what: str) -> Row:
    """The tenant's row, or OpenAI's 404 for it."""
    async with runtime.db.read() as conn:
        row = await crud.get(conn, table, developer_id, id_)
    if row is None:
        prefix = FILE_PREFIX if table is tables.files else STORE_PREFIX
        raise NotFoundError(f"No {what} found with id '{prefix}{id_.hex}'.")
    return row


def _parse(given: str, prefix: str, what: str) -> UUID:
    try:
        return UUID(given.removeprefix(prefix))
    except ValueError:
        raise NotFoundError(f"No {what} found with id '{given}'.") from None


def parse_file(given: str) -> UUID:
    return _parse(given, FILE_PREFIX, "file")


def parse_store(given: str) -> UUID:
    return _parse(given, STORE_PREFIX, "vector store")


def file_object(row: Row) -> dict[str, Any]:
    return {
        "id": file_wire_id(row["id"]),
        "object": "file",
        "bytes": row["bytes"],
        "created_at": int(row["created_at"].timestamp()),
        "filename": row["filename"],
        "purpose": row["purpose"],
        "status": "processed",
        "status_details": None,
        "expires_at": None,
    }


def text_of(row: Row) -> str:
    """A file's text: UTF-8 (a BOM dropped); a 400 for anything else."""
    content = bytes(row["content"])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequestError(
            f"{row['filename']} is not a UTF-8 text file; only text files can be searched "
            "for now (PDF and Office files are not converted yet)",
            param="file_id",
        ) from None
    if "\x00" in text or not text.strip():
        raise BadRequestError(f"{row['filename']} holds no searchable text", param="file_id")
    return text


class FilesService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def create(
        self, developer_id: UUID, filename: str, purpose: str, content: bytes
    ) -> dict[str, Any]:
        if purpose not in PURPOSES:
            raise BadRequestError(f"Unknown purpose {purpose!r}", param="purpose")
        row = {
            "id": new_id(),
            "developer_id": developer_id,
            "filename": filename[:255] or "file",
            "purpose": purpose,
            "bytes": len(content),
            "content": content,
            "created_at": utcnow(),
        }
        async with self.runtime.db.write() as conn:
            await conn.execute(sa.insert(tables.files).values(row))
        return file_object(row)

    async def row(self, developer_id: UUID, given: str) -> Row:
        return await _get(self.runtime, tables.files, developer_id, parse_file(given), "file")

    async def listed(self, developer_id: UUID, purpose: str | None, limit: int) -> dict[str, Any]:
        f = tables.files
        columns = [c for c in f.c if c.key != "content"]
        stmt = sa.select(*columns).where(f.c.developer_id == developer_id)
        if purpose:
            stmt = stmt.where(f.c.purpose == purpose)
        stmt = stmt.order_by(f.c.created_at.desc()).limit(limit + 1)
        async with self.runtime.db.read() as conn:
            rows = [dict(r) for r in (await conn.execute(stmt)).mappings()]
        return _list([file_object(r) for r in rows[:limit]], len(rows) > limit)

    async def delete(self, developer_id: UUID, given: str) -> dict[str, Any]:
        file_id = parse_file(given)
        async with self.runtime.db.write() as conn:
            if not await crud.delete(conn, tables.files, developer_id, file_id):
                raise NotFoundError(f"No file found with id '{given}'.")
        return {"id": given, "object": "file", "deleted": True}


class VectorStoresService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.files = FilesService(runtime)

    # -- the stores ------------------------------------------------------------------------
    async def create(
        self, developer_id: UUID, name: str | None, metadata: dict[str, str], file_ids: list[str]
    ) -> dict[str, Any]:
        now, store_id = utcnow(), new_id()
        values: Row = {"id": store_id, "developer_id": developer_id, "name": name}
        values |= {"metadata": metadata, "created_at": now, "updated_at": now}
        async with self.runtime.db.write() as conn:
            await conn.execute(sa.insert(tables.vector_stores).values(values))
        given = store_wire_id(store_id)
        for file_id in file_ids:
            await self.add_file(developer_id, given, file_id, {})
        return await self.get(developer_id, given)

    async def _row(self, developer_id: UUID, given: str) -> Row:
        store_id = parse_store(given)
        return await _get(
            self.runtime, tables.vector_stores, developer_id, store_id, "vector store"
        )

    async def get(self, developer_id: UUID, given: str) -> dict[str, Any]:
        row = await self._row(developer_id, given)
        docs = await self._docs(developer_id, row["id"])
        return _store_object(row, docs)

    async def listed_stores(self, developer_id: UUID, limit: int) -> dict[str, Any]:
        v = tables.vector_stores
        stmt = (
            sa.select(v)
            .where(v.c.developer_id == developer_id)
            .order_by(v.c.created_at.desc())
            .limit(limit + 1)
        )
        async with self.runtime.db.read() as conn:
            rows = [dict(r) for r in (await conn.execute(stmt)).mappings()]
        stores = [_store_object(r, await self._docs(developer_id, r["id"])) for r in rows[:limit]]
        return _list(stores, len(rows) > limit)

    async def update(
        self, developer_id: UUID, given: str, name: str | None, metadata: dict[str, str] | None
    ) -> dict[str, Any]:
        row = await self._row(developer_id, given)
        values: dict[str, Any] = {"updated_at": utcnow()}
        if name is not None:
            values["name"] = name
        if metadata is not None:
            values["metadata"] = metadata
        async with self.runtime.db.write() as conn:
            await crud.update(conn, tables.vector_stores, developer_id, row["id"], values)
        return await self.get(developer_id, given)

    async def delete(self, developer_id: UUID, given: str) -> dict[str, Any]:
        row = await self._row(developer_id, given)
        for doc in await self._docs(developer_id, row["id"]):
            await self.runtime.docs.delete(developer_id, KIND, row["id"], doc["id"])
        async with self.runtime.db.write() as conn:
            await crud.delete(conn, tables.vector_stores, developer_id, row["id"])
        return {"id": given, "object": "vector_store.deleted", "deleted": True}

    async def _docs(self, developer_id: UUID, store_id: UUID) -> list[Row]:
        query = ListQuery(limit=10_000, direction="asc")
        return list(await self.runtime.docs.list(developer_id, KIND, store_id, query))

    # -- its files -------------------------------------------------------------------------
    async def add_file(
        self, developer_id: UUID, given: str, file_given: str, attributes: dict[str, Any]
    ) -> dict[str, Any]:
        store = await self._row(developer_id, given)
        if await self._doc_of(developer_id, store["id"], file_given) is not None:
            return await self.file(developer_id, given, file_given)
        file = await self.files.row(developer_id, file_given)
        metadata = {"file_id": file_given, "filename": file["filename"], "attributes": attributes}
        doc = {"title": file["filename"], "content": text_of(file), "metadata": metadata}
        row = await self.runtime.docs.create(developer_id, KIND, store["id"], doc)
        return _file_entry(store["id"], {**row, "metadata": metadata}, file["bytes"])

    async def _doc_of(self, developer_id: UUID, store_id: UUID, file_given: str) -> Row | None:
        for doc in await self._docs(developer_id, store_id):
            if (doc.get("metadata") or {}).get("file_id") == file_given:
                return doc
        return None

    async def file(self, developer_id: UUID, given: str, file_given: str) -> dict[str, Any]:
        store = await self._row(developer_id, given)
        doc = await self._doc_of(developer_id, store["id"], file_given)
        if doc is None:
            raise NotFoundError(f"No file {file_given} in vector store {given}.")
        return _file_entry(store["id"], doc, _size(doc))

    async def files_of(self, developer_id: UUID, given: str, limit: int) -> dict[str, Any]:
        store = await self._row(developer_id, given)
        docs = await self._docs(developer_id, store["id"])
        entries = [_file_entry(store["id"], d, _size(d)) for d in docs[:limit]]
        return _list(entries, len(docs) > limit)

    async def remove_file(self, developer_id: UUID, given: str, file_given: str) -> dict[str, Any]:
        store = await self._row(developer_id, given)
        doc = await self._doc_of(developer_id, store["id"], file_given)
        if doc is None:
            raise NotFoundError(f"No file {file_given} in vector store {given}.")
        await self.runtime.docs.delete(developer_id, KIND, store["id"], doc["id"])
        return {"id": file_given, "object": "vector_store.file.deleted", "deleted": True}

    # -- search ----------------------------------------------------------------------------
    async def search(
        self, developer_id: UUID, given: str, query: str, limit: int
    ) -> dict[str, Any]:
        store = await self._row(developer_id, given)
        q = SearchQuery(text=query, options=RankOptions(limit=limit))
        docs, _ = await self.runtime.search.search_owner(developer_id, KIND, store["id"], q)
        return {
            "object": "vector_store.search_results.page",
            "search_query": [query],
            "data": [_search_hit(d) for d in docs],
            "has_more": False,
            "next_page": None,
        }

    async def search_many(
        self, developer_id: UUID, store_ids: list[str], query: str, limit: int
    ) -> list[dict[str, Any]]:
        """``file_search``: the best hits over several stores (a 404 for an unknown one)."""
        hits: list[dict[str, Any]] = []
        for given in store_ids:
            hits += (await self.search(developer_id, given, query, limit))["data"]
        return sorted(hits, key=lambda h: -h["score"])[:limit]


def _store_object(row: Row, docs: list[Row]) -> dict[str, Any]:
    created = int(row["created_at"].timestamp())
    counts = {"in_progress": 0, "completed": len(docs), "failed": 0, "cancelled": 0}
    return {
        "id": store_wire_id(row["id"]),
        "object": "vector_store",
        "created_at": created,
        "name": row["name"],
        "usage_bytes": sum(_size(d) for d in docs),
        "file_counts": {**counts, "total": len(docs)},
        "status": "completed",
        "last_active_at": int(row["updated_at"].timestamp()),
        "metadata": row["metadata"] or {},
        "expires_after": None,
        "expires_at": None,
    }


def _size(doc: Row) -> int:
    content = doc.get("content")
    text = "".join(content) if isinstance(content, list) else str(content or "")
    return len(text.encode())


def _file_entry(store_id: UUID, doc: Row, size: int) -> dict[str, Any]:
    metadata = doc.get("metadata") or {}
    return {
        "id": metadata.get("file_id"),
        "object": "vector_store.file",
        "created_at": int(doc["created_at"].timestamp()),
        "vector_store_id": store_wire_id(store_id),
        "status": "completed",
        "usage_bytes": size,
        "last_error": None,
        "attributes": metadata.get("attributes") or {},
    }


def _search_hit(doc: Row) -> dict[str, Any]:
    metadata = doc.get("metadata") or {}
    return {
        "file_id": metadata.get("file_id"),
        "filename": metadata.get("filename") or doc.get("title"),
        "score": float(doc.get("score") or 0.0),
        "attributes": metadata.get("attributes") or {},
        "content": [{"type": "text", "text": doc["snippet"]["content"]}],
    }


def _list(data: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    first = data[0]["id"] if data else None
    last = data[-1]["id"] if data else None
    return {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": more}


def file_search_item(query: str, hits: list[dict[str, Any]]) -> it.Item:
    """The ``file_search_call`` output item of a response that searched."""
    return {
        "type": "file_search_call",
        "id": it.item_id("fs"),
        "status": "completed",
        "queries": [query],
        "results": [
            {k: h[k] for k in ("file_id", "filename", "score", "attributes")}
            | {"text": h["content"][0]["text"]}
            for h in hits
        ],
    }
