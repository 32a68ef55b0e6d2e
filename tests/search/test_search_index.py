"""The in-memory corpus stays in step with the store: new docs, deletes, SQLite's reuse of
the highest rowid, writes it did not see happen (another process), and only what changed
is read when it catches up."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa

from sprig.server.runtime import Runtime
from sprig.server.search import cache as search_index
from sprig.server.search.corpus import ChunkRow, Corpus
from sprig.server.store import tables


async def _doc(client: httpx.AsyncClient, agent: str, title: str, content: str) -> str:
    r = await client.post(f"/agents/{agent}/docs", json={"title": title, "content": content})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _titles(client: httpx.AsyncClient, agent: str, text: str, mode: str) -> list[str]:
    r = await client.post(f"/agents/{agent}/search", json={"text": text, "mode": mode})
    assert r.status_code == 200, r.text
    return [d["title"] for d in r.json()["docs"]]


async def _stored_chunks(runtime: Runtime) -> int:
    async with runtime.db.read() as conn:
        stmt = sa.select(sa.func.count()).select_from(tables.doc_chunks)
        return int((await conn.execute(stmt)).scalar_one())


@pytest.fixture
def reconciles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts full (id, doc id) comparisons: the slow path of catching up."""
    calls: list[int] = []
    real = search_index._reconcile

    async def counted(*args: Any) -> None:
        calls.append(1)
        await real(*args)

    monkeypatch.setattr(search_index, "_reconcile", counted)
    return calls


async def test_new_docs_are_read_incrementally(
    client: httpx.AsyncClient, runtime: Runtime, reconciles: list[int]
) -> None:
    agent = (await client.post("/agents", json={"name": "a"})).json()["id"]
    await _doc(client, agent, "Volcanoes", "Magma erupts as lava from volcanoes.")
    assert await _titles(client, agent, "lava", "text") == ["Volcanoes"]
    await _doc(client, agent, "Tides", "The moon pulls the oceans into tides.")
    for mode in ("text", "vector", "hybrid"):
        assert (await _titles(client, agent, "moon tides oceans", mode))[0] == "Tides"
    assert reconciles == []  # only rows above the highest known id were read
    corpus = await _corpus(runtime)
    assert len(corpus) == await _stored_chunks(runtime)


async def test_deleted_docs_leave_and_a_reused_rowid_is_noticed(
    client: httpx.AsyncClient, runtime: Runtime, reconciles: list[int]
) -> None:
    agent = (await client.post("/agents", json={"name": "a"})).json()["id"]
    await _doc(client, agent, "Volcanoes", "Magma erupts as lava from volcanoes.")
    newest = await _doc(client, agent, "Glaciers", "Ice sheets carve valleys slowly.")
    assert await _titles(client, agent, "ice valleys", "text") == ["Glaciers"]
    # Delete the newest doc (its chunk holds the highest rowid), then add another: SQLite
    # gives the new chunk the same rowid, with the same chunk count as before.
    assert (await client.delete(f"/agents/{agent}/docs/{newest}")).status_code == 202
    await _doc(client, agent, "Deserts", "Dunes of sand shift in the wind.")
    assert await _titles(client, agent, "ice valleys", "text") == []
    assert await _titles(client, agent, "sand dunes wind", "text") == ["Deserts"]
    assert (await _titles(client, agent, "sand dunes wind", "vector"))[0] == "Deserts"
    assert reconciles  # the reuse was caught by the check, and the full comparison ran
    assert len(await _corpus(runtime)) == await _stored_chunks(runtime)


async def test_writes_made_elsewhere_are_seen(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """Rows changed behind the service's back (as another process would) are picked up
    once the tenant's docs_version moves, which every doc write does."""
    agent = (await client.post("/agents", json={"name": "a"})).json()["id"]
    doc_id = await _doc(client, agent, "Volcanoes", "Magma erupts as lava from volcanoes.")
    await _doc(client, agent, "Tides", "The moon pulls the oceans into tides.")
    assert await _titles(client, agent, "lava", "text") == ["Volcanoes"]
    dev = runtime.startup_key.developer_id  # type: ignore[union-attr]
    async with runtime.db.write() as conn:
        await conn.execute(sa.delete(tables.docs).where(tables.docs.c.id == UUID(doc_id)))
        await conn.execute(
            sa.update(tables.developers)
            .where(tables.developers.c.id == dev)
            .values(docs_version=tables.developers.c.docs_version + 1)
        )
    assert await _titles(client, agent, "lava", "text") == []
    assert await _titles(client, agent, "moon", "text") == ["Tides"]


async def _corpus(runtime: Runtime) -> Any:
    dev = runtime.startup_key.developer_id  # type: ignore[union-attr]
    async with runtime.db.read() as conn:
        return await runtime.search.corpora.get(conn, dev)  # type: ignore[union-attr]


async def test_a_scope_without_chunks_is_not_embedded_for(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedding the query costs far more than the search: skipped when nothing is in scope."""
    agent = (await client.post("/agents", json={"name": "a"})).json()["id"]
    other = (await client.post("/agents", json={"name": "b"})).json()["id"]
    await _doc(client, other, "Volcanoes", "Magma erupts as lava from volcanoes.")
    embedded: list[list[str]] = []
    real = runtime.indexer.embed

    async def counted(texts: list[str]) -> Any:
        embedded.append(texts)
        return await real(texts)

    monkeypatch.setattr(runtime.indexer, "embed", counted)
    assert await _titles(client, agent, "lava", "hybrid") == []
    assert embedded == []
    assert await _titles(client, other, "lava", "hybrid") == ["Volcanoes"]
    assert embedded == [["lava"]]
    r = await client.post(f"/agents/{agent}/search", json={"mode": "vector"})
    assert r.status_code in (400, 422)  # neither text nor vector: still refused


def test_least_recently_searched_tenants_leave_memory_first() -> None:
    cache = search_index.CorpusCache(max_chunks=3)
    tenants = [UUID(int=i) for i in range(3)]
    for n, tenant in enumerate(tenants, start=1):
        corpus = Corpus()
        corpus.add(
            [
                ChunkRow(i, UUID(int=100 + i), ("agent", tenant), "en", "", "x", None)
                for i in range(n)
            ]
        )
        cache._corpora[tenant] = (0, corpus)
    cache._corpora.move_to_end(tenants[0])  # tenant 0 searched last
    cache._evict()  # 1 + 2 + 3 chunks held, 3 allowed
    # Oldest first: tenant 1 (2 chunks), then tenant 2 (3), until what is held fits.
    assert list(cache._corpora) == [tenants[0]]
