"""Documents: storage, listing, deletion (search and embeddings live in `search/`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.docs.indexing import (
    DocIndexer,
    PreparedDoc,
    bump_version,
    content_hash,
    write_chunks,
)
from sprig.server.errors import ConflictError, NotFoundError
from sprig.server.ids import new_id, utcnow
from sprig.server.jobs.service import enqueue
from sprig.server.store import crud, tables
from sprig.server.store.crud import ListQuery, Row, Rows
from sprig.server.store.db import Database
from sprig.server.store.filters import metadata_contains

# A vector store (OpenAI's, /v1/vector_stores) owns docs too, as "vstore" (owner_kind holds
# 8 characters); the Julep routes serve the other kinds.
OwnerKind = Literal["agent", "user", "session", "vstore"]
OWNER_NAMES = {"vstore": "Vector store"}
OWNER_TABLES: dict[str, sa.Table] = {
    "agent": tables.agents,
    "user": tables.users,
    "session": tables.sessions,
    "vstore": tables.vector_stores,
}


async def require_owner(
    conn: AsyncConnection, developer_id: UUID, kind: OwnerKind, owner_id: UUID
) -> None:
    if await crud.get(conn, OWNER_TABLES[kind], developer_id, owner_id) is None:
        raise NotFoundError(f"{OWNER_NAMES.get(kind, kind.capitalize())} {owner_id} not found")


@functools.cache
def _owner_version_stmt(kind: OwnerKind) -> sa.Select[Any]:
    owner, dev = OWNER_TABLES[kind], tables.developers
    developer_id: sa.BindParameter[Any] = sa.bindparam("developer_id")
    owned = sa.exists().where(
        owner.c.id == sa.bindparam("owner_id"), owner.c.developer_id == developer_id
    )
    return sa.select(owned, dev.c.docs_version).where(dev.c.id == developer_id)


async def owner_docs_version(
    conn: AsyncConnection, developer_id: UUID, kind: OwnerKind, owner_id: UUID
) -> int:
    """``require_owner`` and the tenant's ``docs_version`` (a search's first read) at once."""
    params = {"developer_id": developer_id, "owner_id": owner_id}
    row = (await conn.execute(_owner_version_stmt(kind), params)).first()
    if row is None or not row[0]:
        raise NotFoundError(f"{OWNER_NAMES.get(kind, kind.capitalize())} {owner_id} not found")
    return int(row[1])


def _dimensions(prepared: PreparedDoc) -> int | None:
    vectors = prepared.vectors
    return int(vectors.shape[1]) if vectors is not None and len(vectors) else None


async def insert_doc(
    conn: AsyncConnection,
    developer_id: UUID,
    kind: OwnerKind,
    owner_id: UUID,
    doc: Row,
    prepared: PreparedDoc,
    embedder_name: str | None = None,
) -> Row:
    """Insert one doc (already validated) and its chunks inside the caller's transaction.

    Without embeddings in ``prepared`` the doc is ``pending`` and an ``embed_doc`` job (in
    the same transaction) computes them; its id is in the returned row's ``jobs``.
    """
    digest = prepared.content_hash or content_hash(doc["title"], doc["content"])
    dupe = sa.select(tables.docs.c.id).where(
        tables.docs.c.owner_kind == kind,
        tables.docs.c.owner_id == owner_id,
        tables.docs.c.content_hash == digest,
    )
    if (await conn.execute(dupe)).first() is not None:
        raise ConflictError(f"A doc with the same title and content already exists for {kind}")
    now = utcnow()
    row = {
        "id": new_id(),
        "developer_id": developer_id,
        "owner_kind": kind,
        "owner_id": owner_id,
        "title": doc["title"],
        "content": doc["content"],
        "content_hash": digest,
        "metadata": doc.get("metadata") or {},
        "embed_instruction": doc.get("embed_instruction"),
        "embedding_model": embedder_name if prepared.vectors is not None else None,
        "embedding_dimensions": _dimensions(prepared),
        "language": doc.get("language") or "english",
        "modality": "text",
        "status": "ready" if prepared.vectors is not None else "pending",
        "created_at": now,
        "updated_at": now,
    }
    await crud.insert(conn, tables.docs, row)
    await write_chunks(conn, developer_id, row["id"], prepared, doc=(row["title"], row["language"]))
    row["jobs"] = []
    if prepared.vectors is None:
        job = await enqueue(
            conn, developer_id, "embed_doc", {"doc_id": str(row["id"])}, name="embed document"
        )
        row["jobs"] = [job["id"]]
    return row


class DocService:
    def __init__(
        self, db: Database, indexer: DocIndexer, on_jobs: Callable[[], None] = lambda: None
    ) -> None:
        self.db = db
        self.indexer = indexer
        self.on_jobs = on_jobs  # wakes the in-process worker

    async def create(self, developer_id: UUID, kind: OwnerKind, owner_id: UUID, doc: Row) -> Row:
        """Chunked and (for normal sizes) embedded before the write: searchable on return."""
        async with self.db.read() as conn:
            await require_owner(conn, developer_id, kind, owner_id)
        prepared = await self.indexer.prepare(doc["title"], doc["content"])
        async with self.db.write() as conn:
            await require_owner(conn, developer_id, kind, owner_id)
            row = await insert_doc(
                conn, developer_id, kind, owner_id, doc, prepared, self.indexer.embedder.name
            )
        if row["jobs"]:
            self.on_jobs()
        return row

    async def get(self, developer_id: UUID, doc_id: UUID) -> Row:
        async with self.db.read() as conn:
            row = await crud.get(conn, tables.docs, developer_id, doc_id)
        if row is None:
            raise NotFoundError(f"Doc {doc_id} not found")
        return row

    async def list(
        self, developer_id: UUID, kind: OwnerKind, owner_id: UUID, query: ListQuery
    ) -> Rows:
        async with self.db.read() as conn:
            await require_owner(conn, developer_id, kind, owner_id)
            where = [tables.docs.c.owner_kind == kind, tables.docs.c.owner_id == owner_id]
            return await crud.list_rows(conn, tables.docs, developer_id, query, where)

    async def list_recent(self, developer_id: UUID, limit: int) -> Rows:
        """The tenant's newest docs of agents, users and sessions (not vector stores')."""
        async with self.db.read() as conn:
            where = [tables.docs.c.owner_kind != "vstore"]
            return await crud.list_rows(conn, tables.docs, developer_id, ListQuery(limit), where)

    async def delete(
        self, developer_id: UUID, kind: OwnerKind, owner_id: UUID, doc_id: UUID
    ) -> Row:
        docs = tables.docs
        async with self.db.write() as conn:
            await require_owner(conn, developer_id, kind, owner_id)
            stmt = sa.delete(docs).where(
                docs.c.id == doc_id,
                docs.c.developer_id == developer_id,
                docs.c.owner_kind == kind,
                docs.c.owner_id == owner_id,
            )
            if not (await conn.execute(stmt)).rowcount:
                raise NotFoundError(f"Doc {doc_id} not found")
            await bump_version(conn, developer_id)
        return {"id": doc_id, "deleted_at": utcnow()}

    async def bulk_delete(
        self,
        developer_id: UUID,
        kind: OwnerKind,
        owner_id: UUID,
        metadata_filter: dict[str, Any],
        delete_all: bool,
    ) -> Rows:
        docs = tables.docs
        async with self.db.write() as conn:
            await require_owner(conn, developer_id, kind, owner_id)
            if not delete_all and not metadata_filter:
                return []  # as upstream: nothing chosen, nothing deleted (202, no items)
            where = [
                docs.c.developer_id == developer_id,
                docs.c.owner_kind == kind,
                docs.c.owner_id == owner_id,
            ]
            if not delete_all:
                where.append(metadata_contains(docs.c.metadata, metadata_filter, conn.dialect.name))
            ids = [r[0] for r in await conn.execute(sa.select(docs.c.id).where(*where))]
            if ids:
                await conn.execute(sa.delete(docs).where(docs.c.id.in_(ids)))
                await bump_version(conn, developer_id)
        now = utcnow()
        return [{"id": i, "deleted_at": now} for i in ids]


async def delete_owned_docs(
    conn: AsyncConnection, developer_id: UUID, kind: OwnerKind, owner_id: UUID
) -> None:
    docs = tables.docs
    await conn.execute(
        sa.delete(docs).where(
            docs.c.developer_id == developer_id,
            docs.c.owner_kind == kind,
            docs.c.owner_id == owner_id,
        )
    )
    await bump_version(conn, developer_id)
