"""Memory through chat: `remember=true` queues memory formation; a new session of the same
user and agent recalls what was learnt into its system prompt."""

from __future__ import annotations

import asyncio
import json

import httpx

from sprig.server.models.scripted import ScriptedModel
from tests.helpers.chat import user_msg


async def _wait(client: httpx.AsyncClient, job_id: str) -> dict:
    for _ in range(200):
        job = (await client.get(f"/jobs/{job_id}")).json()
        if job["state"] in ("succeeded", "failed"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


async def test_a_fact_told_in_one_session_is_recalled_in_the_next(
    client: httpx.AsyncClient, model: ScriptedModel, agent: dict, user: dict
) -> None:
    first = (await client.post("/sessions", json={"agent": agent["id"], "user": user["id"]})).json()
    extraction = {
        "memories": [
            {
                "op": "add",
                "type": "belief",
                "content": "Grace's favourite tea is oolong",
                "entities": ["oolong"],
            }
        ]
    }
    model.push("Noted!", json.dumps(extraction))
    body = {**user_msg("My favourite tea is oolong."), "remember": True}
    r = (await client.post(f"/sessions/{first['id']}/chat", json=body)).json()
    assert len(r["jobs"]) == 1
    assert (await _wait(client, r["jobs"][0]))["state"] == "succeeded"
    memories = (
        await client.get(f"/agents/{agent['id']}/memories", params={"user_id": user["id"]})
    ).json()
    assert [m["content"] for m in memories["items"]] == ["Grace's favourite tea is oolong"]

    second = (
        await client.post("/sessions", json={"agent": agent["id"], "user": user["id"]})
    ).json()
    model.push("Oolong, of course.")
    r2 = (
        await client.post(f"/sessions/{second['id']}/chat", json=user_msg("Which tea do I like?"))
    ).json()
    assert r2["jobs"] == []  # remember is off by default
    system = model.requests[-1].messages[0].text()
    assert "What you remember about the user:" in system
    assert "Grace's favourite tea is oolong" in system


async def test_no_memory_job_without_remember(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push("ok")
    r = (await client.post(f"/sessions/{session['id']}/chat", json=user_msg("hello"))).json()
    assert r["jobs"] == []
