"""Hybrid document search: full text (SQLite FTS5 BM25 / PostgreSQL ts_rank) and exact
vector similarity over the tenant's chunks, fused by ``search.ranking``.

The tenant's vectors live in an in-memory index, reloaded when the tenant's
``docs_version`` moved (another process wrote); the scope (owners + metadata filter) is
resolved in SQL on every query, so results never leave it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.embeddings.base import Vectors
from sprig.server.errors import BadRequestError
from sprig.server.search import fts
from sprig.server.search.ranking import Ranked, RankOptions, rank
from sprig.server.search.vector import VectorIndex
from sprig.server.services.indexing import DocIndexer
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database
from sprig.server.store.filters import metadata_contains

Owner = tuple[str, UUID]


@dataclass
class SearchQuery:
    text: str | None = None
    vector: list[float] | None = None
    options: RankOptions = field(default_factory=RankOptions)
    metadata_filter: dict[str, Any] = field(default_factory=dict)
    lang: str = "en-US"
    include_embeddings: bool = False


@dataclass
class _TenantIndex:
    version: int
    index: VectorIndex


class SearchService:
    def __init__(self, db: Database, indexer: DocIndexer) -> None:
        self.db = db
        self.indexer = indexer
        self._indexes: dict[UUID, _TenantIndex] = {}
        self._locks: dict[UUID, asyncio.Lock] = {}
        self._scopes: dict[tuple[Any, ...], dict[int, UUID]] = {}

    async def search(
        self,
        developer_id: UUID,
        owners: Sequence[Owner],
        q: SearchQuery,
        docs_version: int | None = None,
    ) -> tuple[list[Row], float]:
        """Docs best first, each with its best chunk as snippet; and the time taken (s).

        With the tenant's current ``docs_version`` (the chat turn has read it), the scope
        is served from a small cache while the tenant's documents are unchanged.
        """
        started = time.perf_counter()
        scope = await self._cached_scope(developer_id, owners, q, docs_version)
        if not scope:  # nothing to search: no query embedding either
            return [], time.perf_counter() - started
        query_vector = await self._query_vector(q)  # outside any transaction: may be slow
        async with self.db.read() as conn:
            text_hits = await self._text_hits(conn, q, scope) if q.options.mode != "vector" else []
            index = (
                await self._index(conn, developer_id)
                if q.options.mode != "text"
                else VectorIndex(1)  # a text search needs no vectors (MMR is vector-only)
            )
            vector_hits = self._vector_hits(index, query_vector, q, scope)
            vectors_of = _vectors_of(index) if len(index) else None
            ranked = rank(text_hits, vector_hits, scope, q.options, vectors_of)
            docs = await _materialise(conn, ranked, index if q.include_embeddings else None)
        if q.options.mode != "vector":
            for doc in docs:
                doc["distance"] = None  # a fused or BM25 score is no distance
        return docs, time.perf_counter() - started

    async def _cached_scope(
        self, developer_id: UUID, owners: Sequence[Owner], q: SearchQuery, version: int | None
    ) -> dict[int, UUID]:
        key = (developer_id, version, tuple(owners), json.dumps(q.metadata_filter, sort_keys=True))
        if version is not None and key in self._scopes:
            return self._scopes[key]
        async with self.db.read() as conn:
            scope = await _scope(conn, developer_id, owners, q.metadata_filter)
        if version is not None:
            if len(self._scopes) >= 256:
                self._scopes.clear()
            self._scopes[key] = scope
        return scope

    async def search_text(
        self, developer_id: UUID, owner: str, owner_id: UUID, text: str, limit: int
    ) -> list[Row]:
        docs, _ = await self.search(
            developer_id,
            [(owner, owner_id)],
            SearchQuery(text=text, options=RankOptions(limit=limit)),
        )
        return docs

    async def _query_vector(self, q: SearchQuery) -> np.ndarray[Any, Any] | None:
        if q.options.mode == "text":
            return None
        if q.vector is not None:
            return np.asarray(q.vector, dtype=np.float32)
        if not q.text:
            raise BadRequestError("A vector or hybrid search needs `text` or `vector`")
        vectors = await self.indexer.embed([q.text])
        return np.asarray(vectors[0], dtype=np.float32)

    async def _text_hits(
        self, conn: AsyncConnection, q: SearchQuery, scope: dict[int, UUID]
    ) -> list[tuple[int, float]]:
        if not q.text:
            return []
        limit = q.options.pool
        if conn.dialect.name == "sqlite":
            ids = json.dumps(list(scope))

            def run(sync_conn: Any) -> list[tuple[int, float]]:
                return fts.bm25_search(
                    cast(sqlite3.Connection, _DriverSql(sync_conn)),
                    q.text or "",
                    limit=limit,
                    language=q.lang,
                    scope_sql="SELECT value FROM json_each(:scope_ids)",
                    scope_params={"scope_ids": ids},
                )

            return await conn.run_sync(run)
        return await _postgres_text_hits(conn, q.text, q.lang, list(scope), limit)

    def _vector_hits(
        self, index: VectorIndex, vector: Any, q: SearchQuery, scope: dict[int, UUID]
    ) -> list[tuple[int, float]]:
        if vector is None or not len(index):
            return []
        if len(vector) != index.dimensions:
            raise BadRequestError(
                f"The vector has {len(vector)} dimensions; this store's have {index.dimensions}"
            )
        return index.search(vector, q.options.pool, allowed=scope.keys())

    async def _index(self, conn: AsyncConnection, developer_id: UUID) -> VectorIndex:
        d = tables.developers
        version = (
            await conn.execute(sa.select(d.c.docs_version).where(d.c.id == developer_id))
        ).scalar_one()
        cached = self._indexes.get(developer_id)
        if cached is not None and cached.version == version:
            return cached.index
        lock = self._locks.setdefault(developer_id, asyncio.Lock())
        async with lock:
            cached = self._indexes.get(developer_id)
            if cached is None or cached.version != version:
                cached = _TenantIndex(version, await self._load(conn, developer_id))
                self._indexes[developer_id] = cached
        return cached.index

    async def _load(self, conn: AsyncConnection, developer_id: UUID) -> VectorIndex:
        c = tables.doc_chunks
        stmt = sa.select(c.c.id, c.c.embedding).where(
            c.c.developer_id == developer_id, c.c.embedding.is_not(None)
        )
        rows = [(int(i), bytes(b)) for i, b in await conn.execute(stmt)]
        dims = len(rows[0][1]) // 4 if rows else (self.indexer.embedder.dimensions or 1)
        return VectorIndex.from_blobs(dims, rows)


def _vectors_of(index: VectorIndex) -> Callable[[Sequence[int]], Vectors]:
    """Chunk vectors for MMR; a chunk still waiting for its embedding counts as zeros."""

    def get(ids: Sequence[int]) -> Vectors:
        out = np.zeros((len(ids), index.dimensions), dtype=np.float32)
        known = [i for i, chunk in enumerate(ids) if chunk in index]
        if known:
            out[known] = index.vectors([ids[i] for i in known])
        return out

    return get


class _DriverSql:
    """What ``fts.bm25_search`` needs (``execute(sql, params)``) over a sync connection."""

    def __init__(self, sync_conn: Any) -> None:
        self.conn = sync_conn

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.conn.exec_driver_sql(sql, params)


async def _scope(
    conn: AsyncConnection,
    developer_id: UUID,
    owners: Sequence[Owner],
    metadata_filter: dict[str, Any],
) -> dict[int, UUID]:
    """chunk id → doc id for every chunk the search may return."""
    if not owners:
        return {}
    c, d = tables.doc_chunks, tables.docs
    owned = sa.or_(*(sa.and_(d.c.owner_kind == kind, d.c.owner_id == oid) for kind, oid in owners))
    stmt = (
        sa.select(c.c.id, c.c.doc_id)
        .join(d, d.c.id == c.c.doc_id)
        .where(d.c.developer_id == developer_id, owned)
    )
    if metadata_filter:
        stmt = stmt.where(metadata_contains(d.c.metadata, metadata_filter, conn.dialect.name))
    return {int(cid): did for cid, did in await conn.execute(stmt)}


async def _postgres_text_hits(
    conn: AsyncConnection, text: str, lang: str, ids: list[int], limit: int
) -> list[tuple[int, float]]:
    terms = fts.query_terms(text, lang)
    if not terms:
        return []
    config = "english" if fts.is_english(lang) else "simple"
    c, d = tables.doc_chunks, tables.docs
    vector = sa.func.to_tsvector(
        sa.literal_column(f"'{config}'::regconfig"), d.c.title + " " + c.c.content
    )
    query = sa.func.to_tsquery(sa.literal_column(f"'{config}'::regconfig"), " | ".join(terms))
    score = sa.func.ts_rank_cd(vector, query)
    stmt = (
        sa.select(c.c.id, score)
        .join(d, d.c.id == c.c.doc_id)
        .where(c.c.id.in_(ids), vector.op("@@")(query))
        .order_by(score.desc())
        .limit(limit)
    )
    return [(int(i), float(s)) for i, s in await conn.execute(stmt)]


async def _materialise(
    conn: AsyncConnection, ranked: list[Ranked[UUID]], index: VectorIndex | None
) -> list[Row]:
    if not ranked:
        return []
    d, c = tables.docs, tables.doc_chunks
    docs = {
        r["id"]: dict(r)
        for r in (
            await conn.execute(sa.select(d).where(d.c.id.in_([x.doc_id for x in ranked])))
        ).mappings()
    }
    chunks = {
        r["id"]: dict(r)
        for r in (
            await conn.execute(
                sa.select(c.c.id, c.c.chunk_index, c.c.content).where(
                    c.c.id.in_([x.chunk_id for x in ranked])
                )
            )
        ).mappings()
    }
    out = []
    for hit in ranked:
        if hit.doc_id not in docs or hit.chunk_id not in chunks:
            continue  # deleted since the scope was read
        doc, chunk = docs[hit.doc_id], chunks[hit.chunk_id]
        snippet: dict[str, Any] = {"index": chunk["chunk_index"], "content": chunk["content"]}
        if index is not None and hit.chunk_id in index:
            snippet["embedding"] = [float(v) for v in index.vectors([hit.chunk_id])[0]]
        out.append(
            {
                **doc,
                "snippet": snippet,
                "score": hit.score,
                "relevance": hit.relevance,
                "distance": 1.0 - hit.relevance,
            }
        )
    return out
