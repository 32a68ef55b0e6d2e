"""Stored turn traces (SQLite and PostgreSQL, bodies checked against the document): what a
turn did (scripted model), read back as it happened; the prompt as ``/render`` showed it;
tenant-scoped; off with one setting; kept as configured; and the ``Server-Timing`` /
``x-sprig-overhead-ms`` headers of every response."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa

from sprig.server.ids import utcnow
from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel
from sprig.server.observability import turn_traces
from sprig.server.runtime import Runtime
from sprig.server.store import tables
from tests.helpers.app import auth
from tests.helpers.chat import user_msg

MATH = {"name": "calc", "type": "integration", "integration": {"provider": "math"}}


async def _session(client: httpx.AsyncClient, **extra: object) -> str:
    agent = (await client.post("/agents", json={"name": "Tracy"})).json()["id"]
    user = (await client.post("/users", json={"name": "Ana"})).json()["id"]
    assert (await client.post(f"/agents/{agent}/tools", json=MATH)).status_code == 201
    doc = {"title": "tides", "content": "High tide at Porto is at 06:12."}
    assert (await client.post(f"/agents/{agent}/docs", json=doc)).status_code == 201
    memory = {"content": "Ana sails at dawn", "user_id": user}
    assert (await client.post(f"/agents/{agent}/memories", json=memory)).status_code == 201
    body = {"agent": agent, "user": user, "auto_run_tools": True, **extra}
    return str((await client.post("/sessions", json=body)).json()["id"])


def _trace_url(session: str, entry: str) -> str:
    return f"/sessions/{session}/turns/{entry}/trace"


async def test_the_trace_tells_what_the_turn_did(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    session = await _session(client)
    model.push("first")
    await client.post(f"/sessions/{session}/chat", json=user_msg("Hello there"))
    ask = {**user_msg("When is high tide? And 6 * 7?"), "settings": {"temperature": 0.3}}
    rendered = (await client.post(f"/sessions/{session}/render", json=ask)).json()
    model.push([ToolCall("c1", "calc", '{"expression": "6 * 7"}')], "06:12, and 42.")
    reply = (await client.post(f"/sessions/{session}/chat", json=ask)).json()

    r = await client.get(_trace_url(session, reply["id"]))
    assert r.status_code == 200, r.text
    trace = r.json()
    assert trace["id"] == reply["id"] and trace["session_id"] == session
    assert trace["agent"]["name"] == "Tracy" and trace["model"] == "scripted"
    assert trace["settings"]["temperature"] == 0.3
    assert trace["usage"] == reply["usage"] and trace["outcome"] == "ok"
    names = [p["name"] for p in trace["phases"]]
    assert names.count("model") == 2 and names.count("tool") == 1
    assert {"context", "recall", "embed", "search", "persist"} <= set(names)
    tool_phase = next(p for p in trace["phases"] if p["name"] == "tool")
    assert tool_phase["detail"] == "calc"
    assert trace["duration_ms"] >= trace["model_ms"] > 0
    assert abs(trace["overhead_ms"] - (trace["duration_ms"] - trace["model_ms"])) < 0.01
    assert trace["tool_calls"] == [
        {
            "id": "c1",
            "name": "calc",
            "arguments": '{"expression": "6 * 7"}',
            "result": '{"expression": "6 * 7", "result": 42}',
        }
    ]
    recall = trace["recall"]
    assert "high tide" in recall["query"]
    assert recall["docs"][0]["title"] == "tides" and recall["docs"][0]["score"] is not None
    assert [m["content"] for m in recall["memories"]] == ["Ana sails at dawn"]
    assert recall["memories"][0]["score"] is not None
    prompt = trace["prompt"]
    assert prompt["messages"] == rendered["messages"]  # exactly what /render showed
    assert prompt["tools"] == rendered["tools"]
    assert prompt["window"]["tokens"] == rendered["token_budget"]  # /render: the window's tokens
    assert prompt["window"]["count"] == 2 and prompt["window"]["missing"] == 0


async def test_listed_newest_first_and_streamed_turns_keep_their_first_token(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    session = await _session(client, recall=False)
    model.push("one", "two three")
    first = (await client.post(f"/sessions/{session}/chat", json=user_msg("a"))).json()
    streamed = await client.post(
        f"/sessions/{session}/chat", json={**user_msg("b"), "stream": True}
    )
    assert streamed.status_code == 201
    listed = (await client.get(f"/sessions/{session}/traces")).json()["items"]
    assert len(listed) == 2 and listed[1]["id"] == first["id"]
    assert all("prompt" not in t for t in listed)
    phases = [p["name"] for p in listed[0]["phases"]]
    assert "ttft" in phases and "recall" not in phases
    assert (await client.get(f"/sessions/{session}/traces?limit=1")).json()["items"][0] == listed[0]
    assert (await client.get(f"/sessions/{session}/traces?limit=0")).status_code == 422


async def test_a_cleared_history_leaves_the_window_missing(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    session = await _session(client, recall=False)
    model.push("one", "two")
    await client.post(f"/sessions/{session}/chat", json=user_msg("a"))
    second = (await client.post(f"/sessions/{session}/chat", json=user_msg("b"))).json()
    assert (await client.delete(f"/sessions/{session}/history")).status_code == 202
    trace = (await client.get(_trace_url(session, second["id"]))).json()
    assert trace["prompt"]["window"] | {"missing": 2} == trace["prompt"]["window"]
    assert [m["role"] for m in trace["prompt"]["messages"]] == ["system", "user"]


async def test_traces_are_the_tenants_own(
    client: httpx.AsyncClient, model: ScriptedModel, tenant_key: object
) -> None:
    session = await _session(client, recall=False)
    model.push("mine")
    reply = (await client.post(f"/sessions/{session}/chat", json=user_msg("a"))).json()
    other = auth(await tenant_key("other"))  # type: ignore[operator]
    for url in (_trace_url(session, reply["id"]), f"/sessions/{session}/traces"):
        r = await client.get(url, headers=other)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    unknown = await client.get(_trace_url(session, session))
    assert unknown.status_code == 404 and "No trace" in unknown.json()["error"]["message"]


async def test_off_with_one_setting(
    client: httpx.AsyncClient, model: ScriptedModel, runtime: Runtime
) -> None:
    runtime.chat.policy = replace(runtime.chat.policy, traces=None)
    session = await _session(client, recall=False)
    model.push("untraced")
    reply = (await client.post(f"/sessions/{session}/chat", json=user_msg("a"))).json()
    assert (await client.get(_trace_url(session, reply["id"]))).status_code == 404
    assert (await client.get(f"/sessions/{session}/traces")).json()["items"] == []


async def test_kept_per_session_and_for_some_days(
    client: httpx.AsyncClient, model: ScriptedModel, runtime: Runtime
) -> None:
    session = await _session(client, recall=False)
    model.push("1", "2", "3")
    ids = [
        (await client.post(f"/sessions/{session}/chat", json=user_msg(str(i)))).json()["id"]
        for i in range(3)
    ]
    t, sid = tables.turn_traces, UUID(session)

    async def kept() -> list[str]:
        items = (await client.get(f"/sessions/{session}/traces")).json()["items"]
        return [i["id"] for i in items]

    async with runtime.db.write() as conn:  # the newest 2 of the session
        await turn_traces.prune(conn, sid, turn_traces.TraceRetention(7, 2))
    assert await kept() == [ids[2], ids[1]]
    async with runtime.db.write() as conn:  # none older than 7 days
        old = utcnow() - timedelta(days=8)
        await conn.execute(sa.update(t).where(t.c.id == UUID(ids[1])).values(created_at=old))
        await turn_traces.prune_old(conn, turn_traces.TraceRetention(7, 100))
    assert await kept() == [ids[2]]


async def test_every_response_says_where_its_time_went(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    session = await _session(client, recall=False)
    model.push("timed")
    r = await client.post(f"/sessions/{session}/chat", json=user_msg("a"))
    timing = dict(re.findall(r"(\w+);dur=([\d.]+)", r.headers["server-timing"]))
    assert {"app", "context", "model", "persist"} <= set(timing)
    overhead = float(r.headers["x-sprig-overhead-ms"])
    assert abs(overhead - (float(timing["app"]) - float(timing["model"]))) < 0.01
    health = await client.get("/healthz")
    assert re.fullmatch(r"app;dur=[\d.]+", health.headers["server-timing"])
    assert health.headers["x-sprig-overhead-ms"] == health.headers["server-timing"][8:]
    json.loads(r.text)  # the body is untouched


async def test_a_session_prunes_its_own_as_it_goes(
    client: httpx.AsyncClient,
    model: ScriptedModel,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(turn_traces, "PRUNE_EVERY", 4)  # every second turn here
    keep = turn_traces.TraceRetention(days=7, per_session=2)
    runtime.chat.policy = replace(runtime.chat.policy, traces=keep)
    session = await _session(client, recall=False)
    model.push(*"12345")
    for i in range(5):
        await client.post(f"/sessions/{session}/chat", json=user_msg(str(i)))
    items = (await client.get(f"/sessions/{session}/traces")).json()["items"]
    assert len(items) == 2  # seqs 0-9: pruned to 2 as the turns cross 4 and 8 (the last)
