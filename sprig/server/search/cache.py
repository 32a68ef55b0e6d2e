"""Per-tenant in-memory corpora (``search.corpus.Corpus``) kept in step with the store.

A tenant's corpus is read from the chunk table on its first search, then caught up
whenever the tenant's ``docs_version`` has moved (every doc write bumps it, in this
process or another). Catching up reads only what changed:

1. chunks with an id above the highest one known (new docs);
2. embeddings of known chunks that were pending (a bulk load's job has embedded them);
3. a check that nothing else changed: the tenant's chunk count equals the known count,
   and the highest known id still belongs to the same doc (SQLite reuses the highest
   rowid after it is deleted). When the check fails (docs were deleted), the ids and doc
   ids of every chunk are read, without text or vectors, and the difference applied.

Corpora of tenants not searched for a while are dropped when the total held passes
``max_chunks`` (least recently used first).

On PostgreSQL the cache holds text only (``vectors=False``): pgvector's HNSW index serves
the vector half, the corpus's BM25 the text half. There a tenant is loaded in the
background (``load_soon``) while its searches run in SQL, so no search waits for a load.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.search.corpus import ChunkRow, Corpus
from sprig.server.store import tables
from sprig.server.store.db import Database

log = logging.getLogger(__name__)
RETRY_SECONDS = 60.0  # a tenant too big to hold (or whose load failed) is checked again
BATCH = 1000  # rows per read while loading (indexing one batch holds the event loop ~0.1 s)
IDS_PER_QUERY = 500


class CorpusCache:
    def __init__(self, max_chunks: int = 2_000_000, *, vectors: bool = True) -> None:
        self.max_chunks = max_chunks
        self.vectors = vectors  # False: text only (the embeddings are never read)
        self._corpora: OrderedDict[UUID, tuple[int, Corpus]] = OrderedDict()
        self._locks: dict[UUID, asyncio.Lock] = {}
        self._loading: dict[UUID, asyncio.Task[None]] = {}
        self._retry_at: dict[UUID, float] = {}  # tenants too big to hold, or whose load failed

    async def get(
        self, conn: AsyncConnection, developer_id: UUID, version: int | None = None
    ) -> Corpus:
        """The tenant's corpus as of ``version`` (read here when not given)."""
        if version is None:
            version = await docs_version(conn, developer_id)
        cached = self._corpora.get(developer_id)
        if cached is None or cached[0] != version:
            async with self._locks.setdefault(developer_id, asyncio.Lock()):
                cached = self._corpora.get(developer_id)
                if cached is None or cached[0] != version:
                    corpus = cached[1] if cached else Corpus()
                    await _catch_up(conn, developer_id, corpus, self.vectors)
                    cached = (version, corpus)
                    self._corpora[developer_id] = cached
                    self._corpora.move_to_end(developer_id)
                    self._evict()  # only a load or catch-up can grow what is held
        self._corpora.move_to_end(developer_id)
        return cached[1]

    def holds(self, developer_id: UUID) -> bool:
        """The tenant's corpus is in memory (perhaps behind the store: ``get`` catches up)."""
        return developer_id in self._corpora

    def load_soon(self, db: Database, developer_id: UUID) -> None:
        """Start loading the tenant's corpus in the background (once; not when its chunks
        alone would pass ``max_chunks``)."""
        if developer_id in self._corpora or developer_id in self._loading:
            return
        if time.monotonic() < self._retry_at.get(developer_id, 0.0):
            return
        task = asyncio.create_task(self._load(db, developer_id), name="sprig-search-load")
        self._loading[developer_id] = task
        task.add_done_callback(lambda _: self._loading.pop(developer_id, None))

    async def _load(self, db: Database, developer_id: UUID) -> None:
        try:
            async with db.read() as conn:
                if await _chunk_count(conn, developer_id) <= self.max_chunks:
                    await self.get(conn, developer_id)
                    return
        except Exception:  # the searches go on in SQL
            log.warning("could not load the search index of a tenant", exc_info=True)
        self._retry_at[developer_id] = time.monotonic() + RETRY_SECONDS

    @property
    def loading(self) -> bool:
        return bool(self._loading)

    async def wait_loads(self) -> None:
        """Wait for the background loads in progress."""
        await asyncio.gather(*self._loading.values(), return_exceptions=True)

    async def close(self) -> None:
        """Stop background loads (at shutdown)."""
        tasks = list(self._loading.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def warm_up(self, db: Database) -> None:
        """Load tenants' corpora, most chunks first, while they fit in ``max_chunks``."""
        c = tables.doc_chunks
        stmt = (
            sa.select(c.c.developer_id, sa.func.count().label("n"))
            .group_by(c.c.developer_id)
            .order_by(sa.desc("n"))
        )
        async with db.read() as conn:
            tenants = [(dev, int(n)) for dev, n in await conn.execute(stmt)]
        total = 0
        for developer_id, n in tenants:
            total += n
            if total > self.max_chunks:
                break
            async with db.read() as conn:
                await self.get(conn, developer_id)

    def _evict(self) -> None:
        total = sum(len(c) for _, c in self._corpora.values())
        while total > self.max_chunks and len(self._corpora) > 1:
            _, (_, corpus) = self._corpora.popitem(last=False)
            total -= len(corpus)


async def docs_version(conn: AsyncConnection, developer_id: UUID) -> int:
    d = tables.developers
    stmt = sa.select(d.c.docs_version).where(d.c.id == developer_id)
    return int((await conn.execute(stmt)).scalar_one())


async def _chunk_count(conn: AsyncConnection, developer_id: UUID) -> int:
    c = tables.doc_chunks
    stmt = sa.select(sa.func.count()).select_from(c).where(c.c.developer_id == developer_id)
    return int((await conn.execute(stmt)).scalar_one())


async def _catch_up(
    conn: AsyncConnection, developer_id: UUID, corpus: Corpus, vectors: bool
) -> None:
    highest = corpus.max_id
    highest_doc = corpus.doc_of(highest)
    await _load_rows(conn, developer_id, corpus, tables.doc_chunks.c.id > highest, vectors)
    pending = corpus.pending_ids() if vectors else []
    if pending:
        await _fill_embeddings(conn, corpus, pending)
    if not await _consistent(conn, developer_id, corpus, highest, highest_doc):
        await _reconcile(conn, developer_id, corpus, vectors)


async def _load_rows(
    conn: AsyncConnection, developer_id: UUID, corpus: Corpus, where: Any, vectors: bool
) -> None:
    c, d = tables.doc_chunks, tables.docs
    columns = (c.c.id, c.c.doc_id, d.c.owner_kind, d.c.owner_id, d.c.language, d.c.title)
    embedding = c.c.embedding if vectors else sa.null().label("embedding")
    stmt = (
        sa.select(*columns, c.c.content, embedding)
        .join(d, d.c.id == c.c.doc_id)
        .where(c.c.developer_id == developer_id, where)
        .order_by(c.c.id)
        .execution_options(yield_per=BATCH)
    )
    result = await conn.stream(stmt)
    async for partition in result.partitions(BATCH):
        corpus.add([_chunk_row(r) for r in partition])


def _chunk_row(r: Any) -> ChunkRow:
    blob = None if r.embedding is None else bytes(r.embedding)
    owner = (str(r.owner_kind), r.owner_id)
    return ChunkRow(int(r.id), r.doc_id, owner, r.language, r.title, r.content, blob)


async def _fill_embeddings(conn: AsyncConnection, corpus: Corpus, ids: Sequence[int]) -> None:
    c = tables.doc_chunks
    for start in range(0, len(ids), IDS_PER_QUERY):
        batch = ids[start : start + IDS_PER_QUERY]
        stmt = sa.select(c.c.id, c.c.embedding).where(c.c.id.in_(batch), c.c.embedding.is_not(None))
        corpus.set_embeddings((int(i), bytes(b)) for i, b in await conn.execute(stmt))


async def _consistent(
    conn: AsyncConnection,
    developer_id: UUID,
    corpus: Corpus,
    highest: int,
    highest_doc: UUID | None,
) -> bool:
    if await _chunk_count(conn, developer_id) != len(corpus):
        return False
    if highest_doc is None:
        return True
    c = tables.doc_chunks
    doc_stmt = sa.select(c.c.doc_id).where(c.c.id == highest, c.c.developer_id == developer_id)
    return (await conn.execute(doc_stmt)).scalar() == highest_doc


async def _reconcile(
    conn: AsyncConnection, developer_id: UUID, corpus: Corpus, vectors: bool
) -> None:
    """Apply deletions (and rowid reuse) found by comparing every (id, doc id)."""
    c = tables.doc_chunks
    stmt = sa.select(c.c.id, c.c.doc_id).where(c.c.developer_id == developer_id)
    stored = {int(i): doc for i, doc in await conn.execute(stmt)}
    corpus.remove([cid for cid, doc in list(corpus.items()) if stored.get(cid) != doc])
    missing = [cid for cid in stored if cid not in corpus]
    for start in range(0, len(missing), IDS_PER_QUERY):
        batch = missing[start : start + IDS_PER_QUERY]
        await _load_rows(conn, developer_id, corpus, tables.doc_chunks.c.id.in_(batch), vectors)
