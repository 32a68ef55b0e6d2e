"""Hybrid document search over a tenant's chunks: BM25 and cosine similarity, fused by
``search.ranking``.

On SQLite both retrievals run over the tenant's in-memory corpus
(``search.cache``: kept in step with the store by ``docs_version``); the scope
(owners, metadata filter) is a mask over it, so results never leave it.

On PostgreSQL vectors are searched by pgvector's HNSW index (``search.postgres``), and text
by the same in-memory BM25 over a text-only corpus once the tenant's is loaded (in the
background, at the first search or at start): 4-6x faster than ``tsvector`` ranking in SQL
at 100k chunks (docs/performance.md). Until then, for tenants too big to hold, and with
``pg_text_search = "sql"``, text is ranked in SQL.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.docs.indexing import DocIndexer
from sprig.server.docs.service import OwnerKind, owner_docs_version
from sprig.server.embeddings.base import Vectors
from sprig.server.errors import BadRequestError
from sprig.server.observability import metrics, timeline
from sprig.server.search import postgres
from sprig.server.search.cache import CorpusCache
from sprig.server.search.corpus import Corpus, Hit, Mask
from sprig.server.search.ranking import Ranked, RankOptions, rank
from sprig.server.search.types import Owner, Scope
from sprig.server.search.vector import normalise_query
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database
from sprig.server.store.filters import metadata_contains

__all__ = ["Owner", "SearchQuery", "SearchService"]

log = logging.getLogger(__name__)


@dataclass
class SearchQuery:
    text: str | None = None
    vector: list[float] | None = None
    options: RankOptions = field(default_factory=RankOptions)
    metadata_filter: dict[str, Any] = field(default_factory=dict)
    lang: str = "en-US"
    include_embeddings: bool = False
    whole_docs: bool = True  # False: only what a DocReference shows (no content, timestamps)


@dataclass
class _Retrieved:
    text: list[Hit]
    vector: list[Hit]
    vectors_of: Any  # chunk ids -> unit vectors (MMR, include_embeddings)


class SearchService:
    def __init__(
        self,
        db: Database,
        indexer: DocIndexer,
        max_chunks: int = 2_000_000,
        pg_ef_search: int = postgres.EF_SEARCH,
        *,
        pg_text_in_memory: bool = True,
    ) -> None:
        self.db = db
        self.indexer = indexer
        self.pg_ef_search = pg_ef_search
        self.on_postgres = db.dialect == "postgresql"
        # on PostgreSQL a corpus holds text only, and only if text search runs in memory
        self.in_memory = pg_text_in_memory or not self.on_postgres
        self.corpora = CorpusCache(max_chunks, vectors=not self.on_postgres)
        self._filtered: dict[tuple[Any, ...], set[UUID]] = {}

    async def search(
        self,
        developer_id: UUID,
        owners: Sequence[Owner],
        q: SearchQuery,
        docs_version: int | None = None,
    ) -> tuple[list[Row], float]:
        """Docs best first, each with its best chunk as snippet; and the time taken (s).

        ``docs_version``, when the caller has read it (a chat turn has), saves a read.
        """
        started = time.perf_counter()
        if not owners:
            return [], time.perf_counter() - started
        scope = Scope(developer_id, tuple(owners), q.metadata_filter)
        if _needs_embedding(q) and not await self._has_chunks(scope, docs_version):
            return [], time.perf_counter() - started  # nothing to search: no embedding either
        query_vector = await self._query_vector(q)  # outside any transaction: may be slow
        with timeline.phase(timeline.SEARCH):
            async with self.db.read() as conn:
                docs = await self._search_in(conn, scope, q, query_vector, docs_version)
        return docs, self._took(q, started)

    async def search_owner(
        self, developer_id: UUID, kind: OwnerKind, owner_id: UUID, q: SearchQuery
    ) -> tuple[list[Row], float]:
        """One owner's docs, as ``POST /{kind}s/{id}/search`` asks: a 404 for an unknown
        owner, read in the same transaction as the search unless the query text must be
        embedded first (a vector search without ``vector``)."""
        started = time.perf_counter()
        if _needs_embedding(q):  # check the owner before spending an embedding
            async with self.db.read() as conn:
                version = await owner_docs_version(conn, developer_id, kind, owner_id)
            docs, _ = await self.search(developer_id, [(kind, owner_id)], q, version)
            return docs, time.perf_counter() - started
        scope = Scope(developer_id, ((kind, owner_id),), q.metadata_filter)
        async with self.db.read() as conn:
            version = await owner_docs_version(conn, developer_id, kind, owner_id)
            docs = await self._search_in(conn, scope, q, await self._query_vector(q), version)
        return docs, self._took(q, started)

    def _took(self, q: SearchQuery, started: float) -> float:
        """Seconds since ``started``, counted in the search metrics."""
        seconds = time.perf_counter() - started
        backend = "postgresql" if self.on_postgres else "sqlite"
        metrics.observe_search(backend, q.options.mode, seconds)
        return seconds

    async def _search_in(
        self,
        conn: AsyncConnection,
        scope: Scope,
        q: SearchQuery,
        query_vector: Any,
        version: int | None,
    ) -> list[Row]:
        found = await self._retrieve(conn, scope, q, query_vector, version)
        doc_of = {cid: doc for cid, doc, _ in [*found.text, *found.vector]}
        text_hits = [(cid, score) for cid, _, score in found.text]
        vector_hits = [(cid, score) for cid, _, score in found.vector]
        ranked = rank(text_hits, vector_hits, doc_of, q.options, found.vectors_of)
        vectors = found.vectors_of if q.include_embeddings else None
        docs = await _materialise(conn, ranked, vectors, q.whole_docs)
        if q.options.mode != "vector":
            for doc in docs:
                doc["distance"] = None  # a fused or BM25 score is no distance
        return docs

    async def _has_chunks(self, scope: Scope, version: int | None) -> bool:
        async with self.db.read() as conn:
            if conn.dialect.name == "postgresql":
                return bool(await _filtered_docs(conn, scope, limit=1))
            _, mask = await self._mask(conn, scope, version)
            return bool(mask.any())

    async def _mask(
        self, conn: AsyncConnection, scope: Scope, version: int | None
    ) -> tuple[Corpus, Mask]:
        corpus = await self.corpora.get(conn, scope.developer_id, version)
        docs = await self._docs_passing(conn, scope, version) if scope.metadata_filter else None
        return corpus, corpus.mask(scope.owners, docs)

    async def _retrieve(
        self,
        conn: AsyncConnection,
        scope: Scope,
        q: SearchQuery,
        vector: Any,
        version: int | None,
    ) -> _Retrieved:
        if conn.dialect.name == "postgresql":
            return await self._retrieve_pg(conn, scope, q, vector, version)
        corpus, mask = await self._mask(conn, scope, version)
        pool = q.options.pool
        found = _Retrieved([], [], corpus.vectors)
        if q.text and q.options.mode != "vector":
            found.text = corpus.text_search(q.text, mask, pool)
        if vector is not None:
            _check_dimensions(corpus, vector)
            found.vector = corpus.vector_search(vector, mask, pool)
        return found

    async def _retrieve_pg(
        self,
        conn: AsyncConnection,
        scope: Scope,
        q: SearchQuery,
        vector: Any,
        version: int | None,
    ) -> _Retrieved:
        """Text in memory or in SQL (``_text_pg``), vectors by pgvector HNSW
        (``search.postgres``); vectors are read only for MMR or ``include_embeddings``."""
        pool = q.options.pool
        found = _Retrieved([], [], None)
        if q.text and q.options.mode != "vector":
            found.text = await self._text_pg(conn, scope, q.text, q.lang, pool, version)
        if vector is not None:
            dims = self.indexer.embedder.dimensions or len(vector)
            unit = normalise_query(vector, dims)
            found.vector = await postgres.vector_hits(
                conn, scope, unit, pool, ef_search=self.pg_ef_search
            )
        wants_mmr = q.options.mode != "text" and q.options.mmr_strength > 0
        if wants_mmr or q.include_embeddings:
            ids = list(dict.fromkeys(c for c, _, _ in [*found.text, *found.vector]))
            found.vectors_of = _lookup(await postgres.chunk_vectors(conn, ids), dims_of(vector))
        return found

    async def _text_pg(
        self,
        conn: AsyncConnection,
        scope: Scope,
        text: str,
        lang: str,
        pool: int,
        version: int | None,
    ) -> list[Hit]:
        """BM25 over the tenant's in-memory corpus once it is held; in SQL until then."""
        if self.in_memory:
            if self.corpora.holds(scope.developer_id):
                corpus, mask = await self._mask(conn, scope, version)
                return corpus.text_search(text, mask, pool)
            self.corpora.load_soon(self.db, scope.developer_id)
        return await postgres.text_hits(conn, scope, text, lang, pool)

    async def _docs_passing(
        self, conn: AsyncConnection, scope: Scope, version: int | None
    ) -> set[UUID]:
        """Docs of the scope's owners whose metadata contains the filter (cached by version)."""
        key = (scope.developer_id, version, scope.owners, scope.filter_key)
        if version is not None and key in self._filtered:
            return self._filtered[key]
        docs = await _filtered_docs(conn, scope)
        if version is not None:
            if len(self._filtered) >= 256:
                self._filtered.clear()
            self._filtered[key] = docs
        return docs

    async def warm_up(self) -> None:
        """Load the corpora of the tenants with the most chunks, up to the memory bound."""
        try:
            await self.corpora.warm_up(self.db)
        except Exception:  # a failed warm-up only means a slower first search
            log.exception("search warm-up failed; indexes load on first search instead")

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
        name = self.indexer.embedder.name
        attributes = {"gen_ai.operation.name": "embeddings", "gen_ai.request.model": name}
        with timeline.phase(timeline.EMBED, f"embeddings {name}", attributes):
            vectors = await self.indexer.embed([q.text or ""])
        return np.asarray(vectors[0], dtype=np.float32)


def _needs_embedding(q: SearchQuery) -> bool:
    """The query text must be embedded here (a vector or hybrid search without a vector)."""
    if q.options.mode == "text" or q.vector is not None:
        return False
    if not q.text:
        raise BadRequestError("A vector or hybrid search needs `text` or `vector`")
    return True


def _check_dimensions(corpus: Corpus, vector: Any) -> None:
    if corpus.dimensions is not None and len(vector) != corpus.dimensions:
        raise BadRequestError(
            f"The vector has {len(vector)} dimensions; this store's have {corpus.dimensions}"
        )


def dims_of(vector: Any) -> int:
    return 1 if vector is None else len(vector)


def _lookup(vectors: dict[int, Any], dims: int) -> Callable[[Sequence[int]], Vectors]:
    """``vectors_of`` over prefetched vectors (zeros for a chunk without one)."""
    width = len(next(iter(vectors.values()))) if vectors else dims

    def get(ids: Sequence[int]) -> Vectors:
        out = np.zeros((len(ids), width), dtype=np.float32)
        for i, chunk in enumerate(ids):
            if chunk in vectors:
                out[i] = vectors[chunk]
        return out

    return get


async def _filtered_docs(
    conn: AsyncConnection, scope: Scope, limit: int | None = None
) -> set[UUID]:
    """Docs of the scope's owners that pass its metadata filter (``limit``: any N of them)."""
    d = tables.docs
    owned = sa.or_(
        *(sa.and_(d.c.owner_kind == kind, d.c.owner_id == oid) for kind, oid in scope.owners)
    )
    stmt = sa.select(d.c.id).where(d.c.developer_id == scope.developer_id, owned)
    if scope.metadata_filter:
        stmt = stmt.where(metadata_contains(d.c.metadata, scope.metadata_filter, conn.dialect.name))
    return {doc_id for (doc_id,) in await conn.execute(stmt.limit(limit))}


@functools.cache
def _materialise_stmt(whole_docs: bool) -> tuple[sa.Select[Any], list[str]]:
    """Chunk id, index and text, then the doc's columns (and their names)."""
    d, c = tables.docs, tables.doc_chunks
    columns = list(d.c) if whole_docs else [d.c[k] for k in _REFERENCE_COLUMNS]
    chunk = (c.c.id, c.c.chunk_index, c.c.content)
    ids: sa.BindParameter[Any] = sa.bindparam("chunk_ids", expanding=True)
    stmt = sa.select(*chunk, *columns).join(c, c.c.doc_id == d.c.id).where(c.c.id.in_(ids))
    return stmt, [col.name for col in columns]


_REFERENCE_COLUMNS = ("id", "title", "owner_kind", "owner_id", "metadata")


async def _materialise(
    conn: AsyncConnection, ranked: list[Ranked[UUID]], vectors_of: Any, whole_docs: bool
) -> list[Row]:
    """The ranked hits as doc rows with their snippet (one query; a doc deleted since the
    corpus was read is left out)."""
    if not ranked:
        return []
    stmt, keys = _materialise_stmt(whole_docs)
    params = {"chunk_ids": [hit.chunk_id for hit in ranked]}
    rows = {r[0]: r for r in await conn.execute(stmt, params)}
    out = []
    for hit in ranked:
        row = rows.get(hit.chunk_id)
        if row is None:
            continue
        snippet: dict[str, Any] = {"index": row[1], "content": row[2]}
        if vectors_of is not None:
            snippet["embedding"] = [float(v) for v in vectors_of([hit.chunk_id])[0]]
        relevance = {"score": hit.score, "relevance": hit.relevance, "distance": 1 - hit.relevance}
        out.append({**dict(zip(keys, row[3:], strict=True)), "snippet": snippet, **relevance})
    return out
