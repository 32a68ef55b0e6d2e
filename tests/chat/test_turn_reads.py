"""What a chat turn reads and writes, on SQLite and PostgreSQL.

A warm turn is one query for the session and its parties, whose EXISTS checks say which of
them have tools, memories or docs, and one write (the sequence bump, the entries and the
day's usage row). Tools,
memories and docs are read only when those checks find some: these tests check that nothing
is read in vain and that whatever exists is still read and recalled.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiosqlite
import httpx
import pytest
import sqlalchemy as sa

from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from sprig.server.store import tables
from tests.helpers.chat import user_msg
from tests.helpers.database import backend_settings, backends


@pytest.fixture(params=backends())
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """No in-process job worker: its polling would add statements to the counts; nor a
    reload of the tenants' limits (every 5 s by default) in the middle of a count."""
    return backend_settings(request, tmp_path, in_process_worker=False, quota_cache_seconds=3600)


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """The first word of every SQL statement SQLAlchemy sends meanwhile (BEGIN aside)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(statement.split(None, 1)[0].upper())

    engines = {e.sync_engine for e in runtime.db.engines}
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)


class Calls:
    """Wraps an async method and counts its calls."""

    def __init__(self, target: Any) -> None:
        self.target, self.count = target, 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return await self.target(*args, **kwargs)


async def _chat(client: httpx.AsyncClient, session_id: str, text: str) -> dict[str, Any]:
    r = await client.post(f"/sessions/{session_id}/chat", json=user_msg(text))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_warm_turn_is_one_query_and_one_write(
    client: httpx.AsyncClient, runtime: Runtime, model: ScriptedModel, session: dict, agent: dict
) -> None:
    model.push("a", "b", "c")
    await _chat(client, session["id"], "first")  # fills the window cache
    with statements(runtime) as seen:
        await _chat(client, session["id"], "second")
    # the session and its window; the next seq, the entries, the turn's trace, its usage
    assert seen == ["SELECT", "UPDATE", "INSERT", "INSERT", "INSERT"]
    tool = {"name": "lookup", "type": "function", "function": {"parameters": {}}}
    assert (await client.post(f"/agents/{agent['id']}/tools", json=tool)).status_code == 201
    runtime.chat.policy = replace(runtime.chat.policy, traces=None)  # SPRIG_TURN_TRACES=false
    with statements(runtime) as seen:
        await _chat(client, session["id"], "third")
    assert seen == ["SELECT", "SELECT", "UPDATE", "INSERT", "INSERT"]  # the agent's tools now
    assert [t.name for t in model.requests[-1].tools] == ["lookup"]


async def test_memories_are_read_only_when_this_agent_and_user_have_some(
    client: httpx.AsyncClient, runtime: Runtime, model: ScriptedModel, monkeypatch: Any
) -> None:
    agent = (await client.post("/agents", json={"name": "Sage"})).json()
    ana = (await client.post("/users", json={"name": "Ana"})).json()
    bo = (await client.post("/users", json={"name": "Bo"})).json()
    body = {"agent": agent["id"], "user": ana["id"]}
    sid = (await client.post("/sessions", json=body)).json()["id"]
    memories = f"/agents/{agent['id']}/memories"
    await client.post(memories, json={"content": "Bo drinks green tea", "user_id": bo["id"]})
    await client.post(memories, json={"content": "The office closes at six"})  # no user
    recall = Calls(runtime.memory.recall)
    monkeypatch.setattr(runtime.memory, "recall", recall)
    model.push("a", "b", "c")

    await _chat(client, sid, "Which tea do I drink?")
    assert recall.count == 0
    assert "What you remember" not in model.requests[-1].messages[0].text()

    await client.post(memories, json={"content": "Ana drinks oolong", "user_id": ana["id"]})
    await _chat(client, sid, "Which tea do I drink?")
    assert recall.count == 1
    system = model.requests[-1].messages[0].text()
    assert "Ana drinks oolong" in system
    assert "green tea" not in system and "six" not in system

    alone = (await client.post("/sessions", json={"agent": agent["id"]})).json()["id"]
    await _chat(client, alone, "When does the office close?")
    assert recall.count == 2
    assert "The office closes at six" in model.requests[-1].messages[0].text()


async def test_invalidated_memories_do_not_count(
    client: httpx.AsyncClient,
    runtime: Runtime,
    model: ScriptedModel,
    session: dict,
    agent: dict,
    user: dict,
    monkeypatch: Any,
) -> None:
    created = await client.post(
        f"/agents/{agent['id']}/memories", json={"content": "Grace sails", "user_id": user["id"]}
    )
    assert created.status_code == 201, created.text
    m = tables.memories
    async with runtime.db.write() as conn:
        await conn.execute(sa.update(m).values(invalidated_at=sa.func.current_timestamp()))
    recall = Calls(runtime.memory.recall)
    monkeypatch.setattr(runtime.memory, "recall", recall)
    model.push("a")
    await _chat(client, session["id"], "hello")
    assert recall.count == 0


async def test_docs_are_searched_only_when_a_party_has_some(
    client: httpx.AsyncClient,
    runtime: Runtime,
    model: ScriptedModel,
    session: dict,
    monkeypatch: Any,
) -> None:
    search = Calls(runtime.search.search)
    monkeypatch.setattr(runtime.search, "search", search)
    model.push("a", "b")
    r = await _chat(client, session["id"], "What is the door code?")
    assert (search.count, r["docs"]) == (0, [])

    doc = {"title": "Door", "content": "The door code is 4711."}
    created = await client.post(f"/sessions/{session['id']}/docs", json=doc)
    assert created.status_code == 201, created.text
    r = await _chat(client, session["id"], "What is the door code?")
    assert search.count == 1
    assert [d["title"] for d in r["docs"]] == ["Door"]
    assert "4711" in model.requests[-1].messages[0].text()


@contextmanager
def full_statements(runtime: Runtime) -> Iterator[list[str]]:
    """Every SQL statement SQLAlchemy sends meanwhile, whole (BEGIN aside)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(" ".join(statement.split()))

    engines = {e.sync_engine for e in runtime.db.engines}
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)


async def test_a_turn_with_recall_reads_its_parties_and_tools_once(
    client: httpx.AsyncClient,
    runtime: Runtime,
    model: ScriptedModel,
    session: dict,
    agent: dict,
    user: dict,
) -> None:
    """Recall finds docs and memories, and the turn still reads the session, its parties
    and the agent's tools one time each (the prompt is rendered from what was read)."""
    tool = {"name": "lookup", "type": "function", "function": {"parameters": {}}}
    assert (await client.post(f"/agents/{agent['id']}/tools", json=tool)).status_code == 201
    doc = {"title": "Door", "content": "The door code is 4711."}
    assert (await client.post(f"/sessions/{session['id']}/docs", json=doc)).status_code == 201
    memory = {"content": "Grace opens the door", "user_id": user["id"]}
    memories = f"/agents/{agent['id']}/memories"
    assert (await client.post(memories, json=memory)).status_code == 201
    model.push("a", "b")
    await _chat(client, session["id"], "first")  # fills the window cache
    with full_statements(runtime) as seen:
        r = await _chat(client, session["id"], "What is the door code?")
    system = model.requests[-1].messages[0].text()
    assert [d["title"] for d in r["docs"]] == ["Door"] and "4711" in system
    assert "Grace opens the door" in system
    assert [t.name for t in model.requests[-1].tools] == ["lookup"]
    parties = [s for s in seen if "session_participants" in s and "first_user" in s]
    tools = [s for s in seen if s.startswith("SELECT tools.") and "first_user" not in s]
    assert (len(parties), len(tools)) == (1, 1), seen


async def test_another_tenant_cannot_chat_in_the_session(
    client: httpx.AsyncClient, session: dict, tenant_key: Any
) -> None:
    other = await tenant_key("other")
    r = await client.post(
        f"/sessions/{session['id']}/chat",
        json=user_msg("hi"),
        headers={"Authorization": f"Bearer {other}"},
    )
    assert r.status_code == 404


# -- the SQLite adapter those counts rely on (one thread round trip per statement) ---------


@pytest.fixture
def sqlite_only(settings: Settings) -> None:
    if not settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("the aiosqlite adapter")


@pytest.mark.usefixtures("sqlite_only")
async def test_a_warm_turn_makes_few_trips_to_the_sqlite_thread(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict, monkeypatch: Any
) -> None:
    model.push("a", "b")
    await _chat(client, session["id"], "first")
    trips: list[Any] = []
    queue = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(fn)
        return await queue(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    await _chat(client, session["id"], "second")
    # read: BEGIN with the query, COMMIT; write: BEGIN IMMEDIATE with the UPDATE, the entries'
    # INSERT, the trace's INSERT, the usage row's upsert, COMMIT
    assert len(trips) == 7


@pytest.mark.usefixtures("sqlite_only")
async def test_the_sqlite_adapter_keeps_dbapi_behaviour(runtime: Runtime) -> None:
    dev = runtime.startup_key.developer_id  # type: ignore[union-attr]
    d = tables.developers
    async with runtime.db.write() as conn:
        result = await conn.execute(sa.update(d).where(d.c.id == dev).values(docs_version=7))
        assert result.rowcount == 1
        assert (await conn.execute(sa.select(d.c.docs_version))).scalars().all() == [7]

    async def bump_then_fail() -> None:
        async with runtime.db.write() as conn:
            await conn.execute(sa.update(d).where(d.c.id == dev).values(docs_version=8))
            await conn.execute(sa.insert(d).values(id=dev, name="twin", created_at=sa.func.now()))

    with pytest.raises(sa.exc.IntegrityError):
        await bump_then_fail()
    async with runtime.db.read() as conn:  # the failed transaction left nothing behind
        assert (await conn.execute(sa.select(d.c.docs_version))).scalars().all() == [7]


@pytest.mark.usefixtures("sqlite_only")
async def test_sqlite_transactions_begin_with_their_first_statement(runtime: Runtime) -> None:
    """BEGIN is deferred to the first statement's trip: a read still sees one snapshot."""
    d = tables.developers
    version = sa.select(d.c.docs_version)

    async def bump() -> None:  # another connection commits meanwhile
        async with runtime.db.write() as writer:
            await writer.execute(sa.update(d).values(docs_version=d.c.docs_version + 1))

    async with runtime.db.read() as conn:
        before = (await conn.execute(version)).scalar_one()
        await bump()
        assert (await conn.execute(version)).scalar_one() == before
    async with runtime.db.read() as conn:  # streamed (the stock cursor): the same
        first = [row async for row in await conn.stream(version)]
        await bump()
        assert [row async for row in await conn.stream(version)] == first == [(before + 1,)]
