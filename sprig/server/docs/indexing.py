"""Document indexing: chunks (always written with the doc, so full text works at once) and
their embeddings (computed before the write for normal docs, or by a job for big ones).

The embedding model of a store is recorded on first use; a server started with another
model refuses to mix vectors of two models (it says how to re-embed instead).

On PostgreSQL the same writes also fill the search columns of migration 0005 in the same
transaction: ``embedding_vector`` (pgvector) beside the ``embedding`` blob, and ``tsv`` (the
doc's title and the chunk text under the doc language's text search configuration); the
HNSW index for the vectors' dimension is created with the first vectors of that size.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.embeddings import Embedder, make_embedder
from sprig.server.embeddings.base import Vectors
from sprig.server.errors import ConflictError
from sprig.server.observability import metrics
from sprig.server.search import postgres
from sprig.server.search.chunking import Chunk, chunk_document
from sprig.server.settings import Settings
from sprig.server.store import tables
from sprig.server.usage.meter import add_embedded

MODEL_KEY = "embedding_model"


def content_hash(title: str, content: str | list[str]) -> str:
    blob = json.dumps([title, content], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class PreparedDoc:
    chunks: list[Chunk]
    vectors: Vectors | None  # None: embeddings come later, from an embed_doc job
    content_hash: str | None = None  # computed beside the chunks when prepared
    embedded_by: Embedder | None = None  # what made the vectors (counted in usage)


class DocIndexer:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    def chunk(self, title: str, content: str | list[str]) -> list[Chunk]:
        s = self.settings
        embedder = self.embedder
        return chunk_document(
            title,
            content,
            s.chunk_tokens,
            s.chunk_overlap,
            embedder.count_tokens,
            embedder.token_starts,
        )

    def _unembedded(self, title: str, content: str | list[str]) -> PreparedDoc:
        return PreparedDoc(self.chunk(title, content), None, content_hash(title, content))

    async def prepare(
        self, title: str, content: str | list[str], inline: bool = True
    ) -> PreparedDoc:
        """Chunks and content hash (in a worker thread: O(size) work stays off the event
        loop), then the vectors of a doc small enough to embed before its write."""
        prepared = await asyncio.to_thread(self._unembedded, title, content)
        if inline and len(prepared.chunks) <= self.settings.embed_inline_max_chunks:
            prepared.vectors = await self.embed([c.embed_text for c in prepared.chunks])
            prepared.embedded_by = self.embedder
        return prepared

    async def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.embedder.dimensions or 0), dtype=np.float32)
        started = time.perf_counter()
        vectors = await self.embedder.embed(texts)
        elapsed = time.perf_counter() - started
        metrics.observe_embedding(self.embedder.name, len(texts), elapsed)
        return vectors

    async def check_model(self, conn: AsyncConnection) -> None:
        """Record the store's embedding model, or refuse a different one."""
        meta = tables.store_meta
        row = (await conn.execute(sa.select(meta.c.value).where(meta.c.key == MODEL_KEY))).first()
        mine = {"model": self.embedder.name}
        if row is None:
            await conn.execute(sa.insert(meta).values(key=MODEL_KEY, value=mine))
        elif row[0].get("model") != mine["model"]:
            raise ConflictError(
                f"This store's documents are embedded with {row[0].get('model')!r}, not "
                f"{mine['model']!r}: vectors of two models are never mixed. Set "
                f"SPRIG_EMBEDDING_MODEL={row[0].get('model')!r}, or start from a new data dir."
            )
        dims = self.embedder.dimensions
        if conn.dialect.name == "postgresql" and dims:
            await postgres.ensure_vector_index(conn, dims)


async def write_chunks(
    conn: AsyncConnection,
    developer_id: UUID,
    doc_id: UUID,
    prepared: PreparedDoc,
    *,
    doc: tuple[str, str] | None = None,
) -> None:
    """The doc's chunks (and their search columns on PostgreSQL: ``doc`` is its title and
    language when the caller has them, else they are read)."""
    rows: list[dict[str, Any]] = []
    for i, chunk in enumerate(prepared.chunks):
        vector = prepared.vectors[i] if prepared.vectors is not None else None
        rows.append(
            {
                "developer_id": developer_id,
                "doc_id": doc_id,
                "chunk_index": chunk.index,
                "content": chunk.text,
                "token_count": chunk.token_count,
                "embedding": _blob(vector),
            }
        )
    if rows and conn.dialect.name == "postgresql":
        await _write_pg_chunks(conn, doc_id, rows, prepared.vectors, doc)
    elif rows:
        await _insert_batched(conn, sa.insert(tables.doc_chunks), rows)
    if rows and prepared.embedded_by is not None:
        await add_embedded(conn, developer_id, prepared.embedded_by, len(rows))
    await bump_version(conn, developer_id)


_PG_INSERT = sa.text(
    "INSERT INTO doc_chunks (developer_id, doc_id, chunk_index, content, token_count, "
    "embedding, embedding_vector, tsv) VALUES (:developer_id, :doc_id, :chunk_index, "
    ":content, :token_count, :embedding, CAST(CAST(:vector AS real[]) AS vector), "
    "to_tsvector(CAST(:config AS regconfig), :title || chr(10) || :content))"
)


async def _write_pg_chunks(
    conn: AsyncConnection,
    doc_id: UUID,
    rows: list[dict[str, Any]],
    vectors: Vectors | None,
    doc: tuple[str, str] | None,
) -> None:
    """Chunk rows with their pgvector and tsvector columns (PostgreSQL)."""
    if doc is None:
        d = tables.docs
        found = await conn.execute(sa.select(d.c.title, d.c.language).where(d.c.id == doc_id))
        title, language = found.one()
        doc = (str(title), str(language))
    title, config = doc[0], postgres.ts_config(doc[1])
    for i, row in enumerate(rows):
        vector = vectors[i] if vectors is not None else None
        row |= {"vector": postgres.vector_param(vector), "config": config, "title": title}
    await _insert_batched(conn, _PG_INSERT, rows)
    if vectors is not None and len(vectors):
        await postgres.ensure_vector_index(conn, int(vectors.shape[1]))


# Rows per statement: the driver prepares each statement's rows on the event loop, so a big
# doc's thousands of chunks go in several statements, other requests served in between.
WRITE_BATCH = 500


async def _insert_batched(
    conn: AsyncConnection, stmt: sa.Executable, rows: list[dict[str, Any]]
) -> None:
    for start in range(0, len(rows), WRITE_BATCH):
        await conn.execute(stmt, rows[start : start + WRITE_BATCH])


def _blob(vector: Any) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


async def bump_version(conn: AsyncConnection, developer_id: UUID) -> None:
    d = tables.developers
    await conn.execute(
        sa.update(d).where(d.c.id == developer_id).values(docs_version=d.c.docs_version + 1)
    )


_PG_SET_VECTOR = sa.text(
    "UPDATE doc_chunks SET embedding = :blob, "
    "embedding_vector = CAST(CAST(:vector AS real[]) AS vector) WHERE id = :chunk_id"
)


async def _store_vectors(conn: AsyncConnection, chunk_ids: list[int], vectors: Vectors) -> None:
    """Vectors of existing chunks: the blob, and on PostgreSQL the pgvector column too."""
    if not chunk_ids:
        return
    pairs = zip(chunk_ids, vectors, strict=True)
    rows: list[dict[str, Any]] = [{"chunk_id": i, "blob": _blob(v)} for i, v in pairs]
    if conn.dialect.name == "postgresql":
        for row, vector in zip(rows, vectors, strict=True):
            row["vector"] = postgres.vector_param(vector)
        await conn.execute(_PG_SET_VECTOR, rows)
        await postgres.ensure_vector_index(conn, int(vectors.shape[1]))
        return
    c = tables.doc_chunks
    stmt = sa.update(c).where(c.c.id == sa.bindparam("chunk_id"))
    await conn.execute(stmt.values(embedding=sa.bindparam("blob")), rows)


async def embed_pending_doc(
    db: Any, indexer: DocIndexer, developer_id: UUID, doc_id: UUID, on_progress: Any = None
) -> None:
    """Job body: embed a pending doc's chunks in batches, then mark it ready."""
    c, d = tables.doc_chunks, tables.docs
    async with db.read() as conn:
        stmt = sa.select(c.c.id, c.c.content).where(
            c.c.doc_id == doc_id, c.c.developer_id == developer_id, c.c.embedding.is_(None)
        )
        todo = [(int(i), str(t)) for i, t in await conn.execute(stmt.order_by(c.c.chunk_index))]
        title = (await conn.execute(sa.select(d.c.title).where(d.c.id == doc_id))).scalar()
    if title is None:
        return  # deleted meanwhile
    step = indexer.settings.embedding_batch_size * 4
    for start in range(0, len(todo), step):
        batch = todo[start : start + step]
        vectors = await indexer.embed([f"{title}\n{text}" for _, text in batch])
        async with db.write() as conn:
            await _store_vectors(conn, [i for i, _ in batch], vectors)
            await add_embedded(conn, developer_id, indexer.embedder, len(batch))
            await bump_version(conn, developer_id)
        if on_progress is not None:
            await on_progress(min(1.0, (start + len(batch)) / max(len(todo), 1)))
    dims = indexer.embedder.dimensions
    async with db.write() as conn:
        await conn.execute(
            sa.update(d)
            .where(d.c.id == doc_id)
            .values(
                status="ready", embedding_model=indexer.embedder.name, embedding_dimensions=dims
            )
        )
