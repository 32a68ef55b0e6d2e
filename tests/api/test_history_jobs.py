"""History (ordered, paged, cleared; legacy view), job status and the tenant's job list."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import httpx

from sprig.server.jobs.service import enqueue
from sprig.server.runtime import Runtime
from tests.helpers.app import auth
from tests.helpers.resources import make_agent


async def _session(client: httpx.AsyncClient) -> dict:
    agent = await make_agent(client)
    return (await client.post("/sessions", json={"agent": agent["id"]})).json()


async def test_history_order_and_views(client: httpx.AsyncClient, runtime: Runtime) -> None:
    s = await _session(client)
    sid, dev = uuid.UUID(s["id"]), await _dev(runtime)
    await runtime.history.append(
        dev,
        sid,
        [
            {"role": "user", "content": "hi", "token_count": 1},
            {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
            {
                "role": "tool",
                "content": {"result": 1},
                "tool_call_id": "c1",
                "source": "tool_response",
            },
        ],
    )
    h = (await client.get(f"/sessions/{s['id']}/history")).json()
    assert h["session_id"] == s["id"]
    assert [e["role"] for e in h["entries"]] == ["user", "assistant", "tool"]
    assert [i["role"] for i in h["items"]] == ["user", "assistant", "function"]
    assert [i["content"] for i in h["items"]] == ["hi", "hello", '{"result": 1}']
    page = await client.get(f"/sessions/{s['id']}/history", params={"limit": 1, "offset": 1})
    assert [e["role"] for e in page.json()["entries"]] == ["assistant"]
    r = await client.delete(f"/sessions/{s['id']}/history")
    assert r.status_code == 202
    assert (await client.get(f"/sessions/{s['id']}/history")).json()["entries"] == []


async def test_concurrent_appends_keep_a_total_order(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    s = await _session(client)
    sid, dev = uuid.UUID(s["id"]), await _dev(runtime)

    async def turn(i: int) -> None:
        await runtime.history.append(
            dev,
            sid,
            [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}],
        )

    await asyncio.gather(*(turn(i) for i in range(20)))
    entries = (await client.get(f"/sessions/{s['id']}/history")).json()["entries"]
    assert len(entries) == 40
    contents = [e["content"] for e in entries]
    for k in range(0, 40, 2):  # each turn's two entries stay adjacent
        assert contents[k][1:] == contents[k + 1][1:]


async def test_job_status(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with runtime.db.write() as conn:
        job = await enqueue(
            conn, await _dev(runtime), "embed_docs", {"n": 1}, name="embed", delay_seconds=3600
        )
    r = await client.get(f"/jobs/{job['id']}")
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["state"], r.json()["has_progress"]) == (
        "embed",
        "pending",
        False,
    )
    assert (await client.get(f"/jobs/{uuid.uuid4()}")).status_code == 404


async def test_jobs_listed_newest_first_by_state_and_kind_per_tenant(
    client: httpx.AsyncClient, runtime: Runtime, tenant_key: Callable[[str], Awaitable[str]]
) -> None:
    dev = await _dev(runtime)
    async with runtime.db.write() as conn:
        made = [
            await enqueue(conn, dev, kind, {}, delay_seconds=3600)
            for kind in ("embed_docs", "summarize_session", "embed_docs")
        ]
    listed = (await client.get("/jobs")).json()["items"]
    assert [j["id"] for j in listed] == [str(j["id"]) for j in reversed(made)]
    assert listed[0] | {"kind": "embed_docs", "attempts": 0, "max_attempts": 3} == listed[0]
    oldest = (await client.get("/jobs", params={"direction": "asc", "limit": 1})).json()
    assert [j["id"] for j in oldest["items"]] == [str(made[0]["id"])]
    kinds = (await client.get("/jobs", params={"kind": "summarize_session"})).json()["items"]
    assert [j["id"] for j in kinds] == [str(made[1]["id"])]
    assert (await client.get("/jobs", params={"state": "succeeded"})).json()["items"] == []
    bad = await client.get("/jobs", params={"state": "sleeping"})
    assert bad.status_code == 422 and "state" in bad.json()["error"]["message"]
    other = auth(await tenant_key("tenant-b"))
    assert (await client.get("/jobs", headers=other)).json()["items"] == []
    assert (await client.get(f"/jobs/{made[0]['id']}", headers=other)).status_code == 404


async def test_me_names_the_keys_tenant(
    client: httpx.AsyncClient, tenant_key: Callable[[str], Awaitable[str]]
) -> None:
    mine = (await client.get("/me")).json()
    assert mine["tenant"] == "default" and uuid.UUID(mine["tenant_id"])
    other = (await client.get("/me", headers=auth(await tenant_key("tenant-b")))).json()
    assert other["tenant"] == "tenant-b" and other["tenant_id"] != mine["tenant_id"]
    refused = await client.get("/me", headers=auth("sk-wrong"))
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Could not validate API key"


async def _dev(runtime: Runtime) -> uuid.UUID:
    assert runtime.startup_key is not None
    return runtime.startup_key.developer_id
