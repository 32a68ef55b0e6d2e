"""Search on PostgreSQL (search/postgres.py, migration 0005) against pgserver's bundled
PostgreSQL 16 + pgvector. Skipped when SPRIG_TEST_BACKENDS leaves postgres out or pgserver
is not installed."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import pytest
import sqlalchemy as sa

from sprig.server.docs.indexing import (
    DocIndexer,
    PreparedDoc,
    bump_version,
    embed_pending_doc,
    write_chunks,
)
from sprig.server.docs.service import insert_doc
from sprig.server.embeddings.base import l2_normalise
from sprig.server.embeddings.hashing import HashingEmbedder
from sprig.server.ids import new_id, utcnow
from sprig.server.search import postgres as search_pg
from sprig.server.search.chunking import Chunk
from sprig.server.search.ranking import RankOptions
from sprig.server.search.service import SearchQuery, SearchService
from sprig.server.search.types import Scope
from sprig.server.store import tables
from sprig.server.store.db import Database
from tests.helpers.app import make_settings
from tests.helpers.database import postgres_url

pytestmark = pytest.mark.skipif(
    "postgres" not in os.environ.get("SPRIG_TEST_BACKENDS", "sqlite,postgres").split(","),
    reason="SPRIG_TEST_BACKENDS excludes postgres",
)

DIMS = 16


@pytest.fixture
async def db(pg_server: Any) -> AsyncIterator[Database]:
    database = Database(postgres_url(pg_server))
    await database.migrate()
    yield database
    await database.dispose()


# -- helpers -------------------------------------------------------------------------------
async def tenant(db: Database) -> UUID:
    dev = new_id()
    async with db.write() as conn:
        await conn.execute(
            sa.insert(tables.developers).values(id=dev, name=f"t-{dev}", created_at=utcnow())
        )
    return dev


def unit(values: Any) -> np.ndarray[Any, Any]:
    return l2_normalise(np.atleast_2d(np.asarray(values, dtype=np.float32)))[0]


async def add_doc(
    db: Database,
    dev: UUID,
    owner: UUID,
    texts: list[str],
    *,
    title: str = "doc",
    vectors: np.ndarray[Any, Any] | None = None,
    language: str = "english",
    metadata: dict[str, Any] | None = None,
    kind: str = "agent",
) -> tuple[UUID, list[int]]:
    """A doc through the server's write path (insert_doc -> write_chunks); its chunk ids."""
    chunks = [Chunk(i, t, len(t.split()), f"{title}\n{t}") for i, t in enumerate(texts)]
    doc = {"title": title, "content": texts, "metadata": metadata or {}, "language": language}
    async with db.write() as conn:
        row = await insert_doc(conn, dev, kind, owner, doc, PreparedDoc(chunks, vectors), "test")  # type: ignore[arg-type]
        c = tables.doc_chunks
        stmt = sa.select(c.c.id).where(c.c.doc_id == row["id"]).order_by(c.c.chunk_index)
        ids = [int(i) for i in (await conn.execute(stmt)).scalars()]
    return row["id"], ids


def scope(dev: UUID, *owners: UUID, **metadata: Any) -> Scope:
    return Scope(dev, tuple(("agent", o) for o in owners), metadata)


async def text(db: Database, sc: Scope, query: str, limit: int = 10, lang: str = "en") -> list[Any]:
    async with db.read() as conn:
        return await search_pg.text_hits(conn, sc, query, lang, limit)


async def vector(db: Database, sc: Scope, q: Any, limit: int = 10, **kw: Any) -> list[Any]:
    async with db.read() as conn:
        return await search_pg.vector_hits(conn, sc, unit(q), limit, **kw)


def random_unit(n: int, seed: int = 0) -> np.ndarray[Any, Any]:
    return l2_normalise(np.random.default_rng(seed).standard_normal((n, DIMS)))


# -- schema --------------------------------------------------------------------------------
async def test_migration_adds_columns_and_indexes(db: Database) -> None:
    async with db.read() as conn:
        columns = await conn.execute(
            sa.text(
                "SELECT column_name, udt_name FROM information_schema.columns "
                "WHERE table_name = 'doc_chunks'"
            )
        )
        types = dict(columns.all())
        indexes = await conn.execute(
            sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'doc_chunks'")
        )
        names = set(indexes.scalars())
    assert types["embedding_vector"] == "vector"
    assert types["tsv"] == "tsvector"
    assert types["embedding"] == "bytea"  # the blob stays
    assert "ix_doc_chunks_tsv" in names


async def test_first_vectors_create_their_hnsw_index(db: Database) -> None:
    dev = await tenant(db)
    await add_doc(db, dev, new_id(), ["a", "b"], vectors=random_unit(2))
    async with db.read() as conn:
        found = await conn.execute(
            sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
            {"n": search_pg.vector_index_name(DIMS)},
        )
        definition = found.scalar_one()
    assert "hnsw" in definition
    assert "vector_cosine_ops" in definition
    assert f"vector_dims(embedding_vector) = {DIMS}" in definition


def test_ts_config_by_language() -> None:
    assert search_pg.ts_config("en-US") == "english"
    assert search_pg.ts_config("english") == "english"
    assert search_pg.ts_config(None) == "english"
    assert search_pg.ts_config("fr-FR") == "french"
    assert search_pg.ts_config("de") == "german"
    assert search_pg.ts_config("Spanish") == "spanish"
    assert search_pg.ts_config("pt_BR") == "portuguese"
    assert search_pg.ts_config("zh-CN") == "simple"
    assert search_pg.ts_config("klingon") == "simple"


# -- full text -----------------------------------------------------------------------------
CORPUS = {
    "cancer": "Somatic mutations drive cancer cells to divide without control.",
    "bees": "Honey bees communicate the direction of flowers by dancing.",
    "rivers": "Rivers carry sediment from the mountains down to the sea.",
    "stars": "Stars fuse hydrogen into helium in their cores for billions of years.",
}


async def test_text_ranks_the_relevant_doc_first_with_stemming(db: Database) -> None:
    dev, agent = await tenant(db), new_id()
    docs = {name: (await add_doc(db, dev, agent, [t], title=name))[0] for name, t in CORPUS.items()}
    hits = await text(db, scope(dev, agent), "Which mutation drives a cancer?")
    assert hits[0][1] == docs["cancer"]  # "mutation" matches "mutations" (english stems)
    assert {h[1] for h in hits} == {docs["cancer"]}  # only chunks holding a term
    hits = await text(db, scope(dev, agent), "flowers and stars")
    assert {h[1] for h in hits} == {docs["bees"], docs["stars"]}
    assert [h[2] for h in hits] == sorted((h[2] for h in hits), reverse=True)
    assert await text(db, scope(dev, agent), "the of and") == []  # no content term matches


async def test_text_weighs_rare_terms_above_common_ones(db: Database) -> None:
    """BM25's idf: one rare term beats a common term repeated (with and without ANALYZE)."""
    dev, agent = await tenant(db), new_id()
    for i in range(30):
        await add_doc(db, dev, agent, [f"protein folding study number {i}"], title=f"p{i}")
    noisy, _ = await add_doc(db, dev, agent, ["protein protein protein levels"], title="noisy")
    rare, _ = await add_doc(db, dev, agent, ["a prion disease case"], title="rare")
    for analyze in (False, True):
        if analyze:
            async with db.write() as conn:
                await conn.execute(sa.text("ANALYZE doc_chunks"))
            search_pg._table_stats.clear()  # statistics are cached for a minute
        hits = await text(db, scope(dev, agent), "protein prion")
        assert hits[0][1] == rare
        assert hits[1][1] == noisy  # then the most protein-heavy chunk


async def test_text_in_a_scope_without_the_rare_terms(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only chunks holding the rarest terms are scored first (a budget); a scope holding
    none of them still gets the chunks matching its common terms."""
    monkeypatch.setattr(search_pg, "PRUNE_MIN_ROWS", 100)
    dev, big, small = await tenant(db), new_id(), new_id()
    words = [f"filler{i} river" if i % 10 == 0 else f"filler{i} zebra" for i in range(400)]
    await add_doc(db, dev, big, words, title="big")  # "river" in 10% of the chunks
    await add_doc(db, dev, big, ["quagga zebra"], title="q")
    mine, _ = await add_doc(db, dev, small, ["a river bend", "the river mouth"], title="s")
    async with db.read() as conn:
        terms, total = await search_pg._term_stats(conn, ["quagga", "river"], "en")
        assert [t.df for t in search_pg._candidates(terms, total, 1)] == [1.0]  # quagga only
    hits = await text(db, scope(dev, small), "quagga river")
    assert [h[1] for h in hits] == [mine, mine]
    hits = await text(db, scope(dev, big), "quagga river", limit=3)
    assert len(hits) == 3


async def test_text_uses_the_doc_language(db: Database) -> None:
    dev, agent = await tenant(db), new_id()
    french, [chunk] = await add_doc(
        db, dev, agent, ["Les maisons anciennes du village"], language="fr-FR"
    )
    english, _ = await add_doc(db, dev, agent, ["She runs every morning"], language="english")
    async with db.read() as conn:
        tsv = await conn.execute(
            sa.text("SELECT tsv::text FROM doc_chunks WHERE id = :i"), {"i": chunk}
        )
        stored = tsv.scalar_one()
    assert "'maison'" in stored  # french stems, french stop words ("les", "du") dropped
    assert "'les'" not in stored
    assert [h[1] for h in await text(db, scope(dev, agent), "maison", lang="fr")] == [french]
    assert [h[1] for h in await text(db, scope(dev, agent), "maisons")] == [french]  # same word
    assert [h[1] for h in await text(db, scope(dev, agent), "running")] == [english]


async def test_write_chunks_takes_title_and_language_from_the_caller(db: Database) -> None:
    dev, agent = await tenant(db), new_id()
    doc_id, _ = await add_doc(db, dev, agent, [], title="Häuser")  # a doc row, no chunks yet
    chunk = Chunk(0, "Die alten Häuser", 3, "Häuser\nDie alten Häuser")
    async with db.write() as conn:
        await write_chunks(conn, dev, doc_id, PreparedDoc([chunk], None), doc=("Dächer", "de"))
        stored = await conn.execute(sa.text("SELECT tsv::text FROM doc_chunks"))
        tsv = stored.scalar_one()
    assert "'dach'" in tsv  # the given title, German stems
    assert "'haus'" in tsv
    assert "'die'" not in tsv  # German stop word


# -- vectors -------------------------------------------------------------------------------
async def test_vector_hits_are_cosine_neighbours_best_first(db: Database) -> None:
    dev, agent = await tenant(db), new_id()
    vectors = random_unit(40, seed=1)
    _, ids = await add_doc(db, dev, agent, [f"c{i}" for i in range(40)], vectors=vectors)
    query = vectors[7] + 0.05 * random_unit(1, seed=2)[0]
    hits = await vector(db, scope(dev, agent), query, limit=5)
    expected = np.argsort(-(vectors @ unit(query)))[:5]
    assert [h[0] for h in hits] == [ids[i] for i in expected]
    assert hits[0][0] == ids[7]
    assert hits[0][2] == pytest.approx(float(vectors[7] @ unit(query)), abs=1e-5)


async def test_scope_by_tenant_owner_and_metadata(db: Database) -> None:
    dev, other_dev = await tenant(db), await tenant(db)
    agent, other_agent = new_id(), new_id()
    v = random_unit(1, seed=3)
    mine, _ = await add_doc(db, dev, agent, ["shared words"], vectors=v, metadata={"k": "a"})
    tagged, _ = await add_doc(
        db, dev, agent, ["shared words too"], vectors=v, metadata={"k": "b", "tags": ["x", "y"]}
    )
    await add_doc(db, dev, other_agent, ["shared words"], vectors=v)
    await add_doc(
        db, other_dev, agent, ["shared words"], vectors=v, title="theirs"
    )  # same owner id
    for found in (
        await text(db, scope(dev, agent), "shared words"),
        await vector(db, scope(dev, agent), v[0]),
    ):
        assert {h[1] for h in found} == {mine, tagged}
    for filtered in (
        await text(db, scope(dev, agent, k="b"), "shared"),
        await vector(db, scope(dev, agent, tags=["y"]), v[0]),
    ):
        assert [h[1] for h in filtered] == [tagged]
    assert await vector(db, Scope(dev, ()), v[0]) == []
    assert await text(db, scope(dev, new_id()), "shared") == []


async def test_small_scope_in_a_big_tenant_still_gets_limit_hits(db: Database) -> None:
    """HNSW with a filter stops after ef_search candidates (pgvector < 0.8): the exact pass
    fills in, so the scope's true nearest come back."""
    dev, big, small = await tenant(db), new_id(), new_id()
    vectors = random_unit(3000, seed=4)
    await add_doc(db, dev, big, [f"b{i}" for i in range(3000)], vectors=vectors)
    few = random_unit(30, seed=5)
    _, small_ids = await add_doc(db, dev, small, [f"s{i}" for i in range(30)], vectors=few)
    async with db.write() as conn:
        await conn.execute(sa.text("ANALYZE doc_chunks"))
    query = unit(random_unit(1, seed=6)[0])
    async with db.read() as conn:
        await conn.execute(sa.text("SET LOCAL enable_seqscan = off"))  # the HNSW path
        await search_pg._tune_hnsw(conn, 20, 20)
        stmt = search_pg._vector_query(scope(dev, small), query.tolist(), 20, exact=False)
        first_pass = (await conn.execute(stmt)).all()
        hits = await search_pg.vector_hits(conn, scope(dev, small), query, 20, ef_search=20)
    assert len(first_pass) < 20  # what HNSW alone returns for a 1% scope
    expected = np.argsort(-(few @ query))[:20]
    assert [h[0] for h in hits] == [small_ids[i] for i in expected]


async def test_iterative_scan_only_with_pgvector_0_8(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pgserver bundles pgvector 0.6.2 (no iterative scans): the setting is left alone there
    and set per transaction (with ef_search at least twice the limit) from 0.8 on."""
    sent: list[dict[str, str]] = []

    async def capture(conn: Any, settings: dict[str, str]) -> None:
        sent.append(settings)

    monkeypatch.setattr(search_pg, "_set_local", capture)
    async with db.read() as conn:
        assert await search_pg.pgvector_version(conn) < (0, 8)
        await search_pg._tune_hnsw(conn, 10, 40)
        monkeypatch.setitem(search_pg._versions, search_pg._database_key(conn), (0, 8, 0))
        await search_pg._tune_hnsw(conn, 300, 40)
    assert "hnsw.iterative_scan" not in sent[0]
    assert sent[0]["hnsw.ef_search"] == "40"
    assert sent[1]["hnsw.iterative_scan"] == "relaxed_order"
    assert sent[1]["hnsw.ef_search"] == "600"  # twice the limit


async def test_hnsw_serves_a_big_scope(db: Database) -> None:
    dev, agent = await tenant(db), new_id()
    vectors = random_unit(2000, seed=7)
    _, ids = await add_doc(db, dev, agent, [f"c{i}" for i in range(2000)], vectors=vectors)
    async with db.write() as conn:
        await conn.execute(sa.text("ANALYZE doc_chunks"))
    query = unit(vectors[11] + 0.01)
    async with db.read() as conn:
        stmt = search_pg._vector_query(scope(dev, agent), query.tolist(), 10, exact=False)
        compiled = stmt.compile(conn.sync_connection, compile_kwargs={"literal_binds": True})
        plan = await conn.execute(sa.text("EXPLAIN " + str(compiled).replace(":", r"\:")))
        hits = await search_pg.vector_hits(conn, scope(dev, agent), query, 10)
    assert search_pg.vector_index_name(DIMS) in "\n".join(r[0] for r in plan)
    exact = np.argsort(-(vectors @ query))[:10]
    assert len({h[0] for h in hits} & {ids[i] for i in exact}) >= 9


async def test_chunk_vectors(db: Database) -> None:
    dev, agent = await tenant(db), new_id()
    vectors = random_unit(3, seed=8)
    _, ids = await add_doc(db, dev, agent, ["a", "b", "c"], vectors=vectors)
    _, pending = await add_doc(db, dev, agent, ["no vector yet"], title="p")
    async with db.read() as conn:
        got = await search_pg.chunk_vectors(conn, [ids[2], ids[0], *pending, 10**9])
    assert set(got) == {ids[0], ids[2]}
    np.testing.assert_array_equal(got[ids[2]], vectors[2])
    assert await search_pg.chunk_vectors(conn, []) == {}


async def test_pending_doc_is_vector_searchable_after_its_job(db: Database, tmp_path: Path) -> None:
    dev, agent = await tenant(db), new_id()
    indexer = DocIndexer(make_settings(tmp_path), embedder=HashingEmbedder(DIMS))
    doc_id, ids = await add_doc(db, dev, agent, ["alpha beta", "gamma delta"], title="t")
    assert await vector(db, scope(dev, agent), random_unit(1)[0]) == []
    assert [h[1] for h in await text(db, scope(dev, agent), "gamma")] == [doc_id]  # at once
    await embed_pending_doc(db, indexer, dev, doc_id)
    query = (await indexer.embed(["t\ngamma delta"]))[0]
    hits = await vector(db, scope(dev, agent), query)
    assert hits[0][0] == ids[1]
    assert hits[0][2] == pytest.approx(1.0, abs=1e-5)


async def test_postgres_pool_follows_the_settings(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://sprig@db.invalid/sprig"  # never connected to
    default = Database.from_settings(make_settings(tmp_path, database_url=url))
    tuned = Database.from_settings(
        make_settings(
            tmp_path,
            database_url=url,
            db_pool_size=3,
            db_max_overflow=0,
            db_pool_timeout_seconds=5,
            db_pool_recycle_seconds=-1,
        )
    )
    pools = [db.engines[0].pool for db in (default, tuned)]
    assert [(p.size(), p._max_overflow, p._timeout, p._recycle) for p in pools] == [  # type: ignore[attr-defined]
        (5, 10, 30.0, 1800),
        (3, 0, 5.0, -1),
    ]
    assert all(p._pre_ping for p in pools)  # type: ignore[attr-defined]
    for db in (default, tuned):
        await db.dispose()


# -- migration from an older store ------------------------------------------------------------
async def test_migration_from_0003_backfills(pg_server: Any) -> None:
    db = Database(postgres_url(pg_server))
    await db.migrate("0003")
    dev = await tenant(db)
    vectors = random_unit(3, seed=9)
    doc_id = new_id()
    now = utcnow()
    async with db.write() as conn:
        await conn.execute(
            sa.insert(tables.docs).values(
                id=doc_id, developer_id=dev, owner_kind="agent", owner_id=dev, title="Glaciers",
                content="x", content_hash="h", metadata={}, language="en", modality="text",
                status="ready", created_at=now, updated_at=now,
            )
        )  # fmt: skip
        rows = [
            {"developer_id": dev, "doc_id": doc_id, "chunk_index": i, "content": t,
             "token_count": 2, "embedding": vectors[i].tobytes() if i < 2 else None}
            for i, t in enumerate(["ice melts", "sea rises", "no vector"])
        ]  # fmt: skip
        await conn.execute(sa.insert(tables.doc_chunks), rows)
    await db.migrate()
    sc = Scope(dev, (("agent", dev),))
    async with db.read() as conn:
        filled = await conn.execute(
            sa.text(
                "SELECT chunk_index, tsv::text, embedding_vector::text FROM doc_chunks "
                "ORDER BY chunk_index"
            )
        )
        backfilled = filled.all()
        hits = await search_pg.vector_hits(conn, sc, vectors[1], 5)
        texts = await search_pg.text_hits(conn, sc, "glacier melting", "en", 5)
        index = await conn.execute(
            sa.text("SELECT to_regclass(:n) IS NOT NULL"),
            {"n": search_pg.vector_index_name(DIMS)},
        )
        assert index.scalar()
    await db.dispose()
    assert all("'glacier'" in tsv for _, tsv, _ in backfilled)  # the title, english stems
    assert backfilled[2][2] is None
    assert np.allclose(np.array(json.loads(backfilled[0][2])), vectors[0], atol=1e-6)
    assert [h[0] for h in hits][:1] and hits[0][2] == pytest.approx(1.0, abs=1e-5)
    assert len(hits) == 2
    assert [h[1] for h in texts][:1] == [doc_id]


async def test_migration_is_a_no_op_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/s.db")
    await db.migrate()
    async with db.read() as conn:
        columns = await conn.execute(sa.text("PRAGMA table_info(doc_chunks)"))
        names = {row[1] for row in columns}
    await db.dispose()
    assert "embedding_vector" not in names
    assert "tsv" not in names


# -- text search in memory ------------------------------------------------------------------
def service(tmp_path: Path, db: Database, **kw: Any) -> SearchService:
    indexer = DocIndexer(make_settings(tmp_path), embedder=HashingEmbedder(DIMS))
    return SearchService(db, indexer, **kw)


async def text_docs(svc: SearchService, dev: UUID, agent: UUID, query: str) -> list[str]:
    q = SearchQuery(text=query, options=RankOptions(mode="text", limit=5))
    docs, _ = await svc.search(dev, [("agent", agent)], q)
    return [d["title"] for d in docs]


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the text searches ranked in SQL."""
    calls = [0]
    ranked = search_pg.text_hits

    async def spy(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return await ranked(*args, **kwargs)

    monkeypatch.setattr(search_pg, "text_hits", spy)
    return calls


async def test_text_search_moves_into_memory_and_keeps_up_with_writes(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev, agent, other = await tenant(db), new_id(), new_id()
    await add_doc(db, dev, agent, ["The heron waits in the reeds."], title="heron")
    await add_doc(db, dev, agent, ["Herons and egrets nest together."], title="egret")
    await add_doc(db, dev, other, ["A heron of another agent."], title="elsewhere")
    svc = service(tmp_path, db)
    in_sql = _counting(monkeypatch)
    # the first search is answered in SQL while the tenant's index loads in the background
    assert await text_docs(svc, dev, agent, "heron") == ["heron", "egret"]
    assert in_sql == [1]
    await svc.corpora.wait_loads()
    assert svc.corpora.holds(dev)
    corpus = await _held(svc, db, dev)
    assert corpus.dimensions is None  # text only: the embeddings stay in PostgreSQL
    assert await text_docs(svc, dev, agent, "heron") == ["heron", "egret"]
    assert in_sql == [1]  # in memory now
    gone, _ = await add_doc(db, dev, agent, ["Grey heron, heron, heron."], title="grey")
    assert (await text_docs(svc, dev, agent, "heron"))[0] == "grey"
    async with db.write() as conn:
        await conn.execute(sa.delete(tables.docs).where(tables.docs.c.id == gone))
        await bump_version(conn, dev)
    assert await text_docs(svc, dev, agent, "heron") == ["heron", "egret"]
    await svc.corpora.close()


async def _held(svc: SearchService, db: Database, dev: UUID) -> Any:
    async with db.read() as conn:
        return await svc.corpora.get(conn, dev)


async def test_a_tenant_too_big_to_hold_is_searched_in_sql(db: Database, tmp_path: Path) -> None:
    dev, agent = await tenant(db), new_id()
    await add_doc(db, dev, agent, ["kestrel one", "kestrel two", "kestrel three"], title="k")
    svc = service(tmp_path, db, max_chunks=2)
    assert await text_docs(svc, dev, agent, "kestrel") == ["k"]
    await svc.corpora.wait_loads()
    assert not svc.corpora.holds(dev)
    assert await text_docs(svc, dev, agent, "kestrel") == ["k"]
    assert not svc.corpora.loading  # not tried again at once
    await svc.corpora.close()


async def test_sql_text_search_when_configured(db: Database, tmp_path: Path) -> None:
    dev, agent = await tenant(db), new_id()
    await add_doc(db, dev, agent, ["osprey over the lake"], title="osprey")
    svc = service(tmp_path, db, pg_text_in_memory=False)
    assert await text_docs(svc, dev, agent, "osprey") == ["osprey"]
    assert not svc.corpora.loading and not svc.corpora.holds(dev)
    assert not svc.in_memory
