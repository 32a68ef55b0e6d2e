"""Resources made through the API for tests that need some."""

from __future__ import annotations

import uuid

import httpx

from sprig.server.jobs.service import enqueue
from sprig.server.runtime import Runtime


async def make_agent(client: httpx.AsyncClient, **body: object) -> dict:
    r = await client.post("/agents", json={"name": "ada", **body})
    assert r.status_code == 201, r.text
    return r.json()


async def seed_every_kind(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    """Tenant A's resources of every kind."""
    agent = (await client.post("/agents", json={"name": "a"})).json()["id"]
    user = (await client.post("/users", json={"name": "u"})).json()["id"]
    session = (await client.post("/sessions", json={"agent": agent, "user": user})).json()["id"]
    tool = (
        await client.post(f"/agents/{agent}/tools", json={"name": "t", "type": "function"})
    ).json()["id"]
    ids = {"agent": agent, "user": user, "session": session, "tool": tool}
    for kind in ("agent", "user", "session"):
        r = await client.post(f"/{kind}s/{ids[kind]}/docs", json={"title": "d", "content": "c"})
        ids[f"{kind}_doc"] = r.json()["id"]
    assert runtime.startup_key is not None
    async with runtime.db.write() as conn:
        job = await enqueue(conn, runtime.startup_key.developer_id, "noop", {}, delay_seconds=3600)
    ids["job"] = str(job["id"])
    ids["response"] = await _stored_response(runtime, session)
    ids["file"], ids["store"] = await _file_in_a_store(runtime)
    ids["doc"] = ids["agent_doc"]
    ids["entry"] = await _traced_turn(client, session)
    ids["memory"] = str(uuid.uuid4())  # no memory exists yet: the owner check comes first
    return ids


async def _traced_turn(client: httpx.AsyncClient, session: str) -> str:
    """A saved chat turn (its reply entry's id: the turn's stored trace)."""
    said = {"messages": [{"role": "user", "content": "hello"}], "recall": False, "model": "echo"}
    r = await client.post(f"/sessions/{session}/chat", json=said)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _stored_response(runtime: Runtime, session: str) -> str:
    """A stored OpenAI response of tenant A, in the session (its wire id)."""
    from sprig.server.openai import response_store
    from sprig.server.openai.responses_api import response_object
    from sprig.server.openai.schemas import ResponseIn

    assert runtime.startup_key is not None
    response_id = uuid.uuid4()
    request = ResponseIn(model="a", input="hi", conversation=session)
    body = response_object(request, response_id, 0, [], None, status="completed")
    async with runtime.db.write() as conn:
        await response_store.save(
            conn,
            runtime.startup_key.developer_id,
            response_id,
            previous_id=None,
            session_id=uuid.UUID(session),
            input_items=[],
            body=body,
        )
    return str(body["id"])


async def _file_in_a_store(runtime: Runtime) -> tuple[str, str]:
    """An uploaded file of tenant A in a vector store (their wire ids)."""
    from sprig.server.openai.vector_stores import FilesService, VectorStoresService

    assert runtime.startup_key is not None
    dev = runtime.startup_key.developer_id
    file = await FilesService(runtime).create(dev, "notes.txt", "assistants", b"some notes")
    store = await VectorStoresService(runtime).create(dev, "store", {}, [file["id"]])
    return str(file["id"]), str(store["id"])
