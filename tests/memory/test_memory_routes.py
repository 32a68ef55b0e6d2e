"""Route shapes (0.x Memory and Suggestion), deletes, suggestions made by the job, and
tenant scoping: another tenant's ids are 404 on every memory and suggestion route."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx

from sprig.server.memory.service import enqueue_after_turn
from sprig.server.memory.store import invalidate
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from tests.helpers.app import auth
from tests.helpers.memory import World, say

NIL = "00000000-0000-0000-0000-000000000000"
LEGACY_MEMORY = {"id", "agent_id", "user_id", "content", "created_at", "entities"}
OPTIONAL_MEMORY = {"last_accessed_at", "timestamp", "sentiment", "type", "session_id"}
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


async def _suggest(runtime: Runtime, world: World, entry_id: uuid.UUID) -> dict[str, object]:
    async with runtime.db.write() as conn:
        jobs = await enqueue_after_turn(conn, world.dev, world.session, [entry_id], False, True)
    assert [j["kind"] for j in jobs] == ["suggest"]
    assert runtime.worker is not None and await runtime.worker.run_once()
    return await runtime.jobs.get(world.dev, jobs[0]["id"])


async def test_legacy_memory_fields(client: httpx.AsyncClient, world: World) -> None:
    url = f"/agents/{world.agent}/memories"
    await client.post(url, json={"content": "The user likes tea", "user_id": str(world.user)})
    await client.post(url, json={"content": "Agents should greet first"})
    r = await client.get(url, params={"query": "tea"}, headers={"X-Fern-Language": "Python"})
    assert r.status_code == 200
    items = r.json()["items"]
    assert {i["content"] for i in items} == {"The user likes tea", "Agents should greet first"}
    for item in items:
        assert LEGACY_MEMORY | OPTIONAL_MEMORY | {"invalidated_at"} <= set(item)
        assert isinstance(item["entities"], list) and isinstance(item["user_id"], str)
        uuid.UUID(item["id"])
        assert item["created_at"].endswith("Z") and item["agent_id"] == str(world.agent)
    assert {i["user_id"] for i in items} == {str(world.user), NIL}


async def test_one_memory_valid_or_superseded(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    url = f"/agents/{world.agent}/memories"
    old = (await client.post(url, json={"content": "Ana lives in Oslo"})).json()
    new = (await client.post(url, json={"content": "Ana lives in Lima"})).json()
    async with runtime.db.write() as conn:
        await invalidate(conn, world.dev, uuid.UUID(old["id"]), uuid.UUID(new["id"]), WHEN, WHEN)
    got = (await client.get(f"{url}/{old['id']}")).json()
    assert (got["content"], got["superseded_by"]) == ("Ana lives in Oslo", new["id"])
    assert got["invalidated_at"] == "2024-05-01T12:00:00Z"
    assert (await client.get(f"{url}/{new['id']}")).json()["invalidated_at"] is None
    other_agent = (await client.post("/agents", json={"name": "Other"})).json()["id"]
    missing = await client.get(f"/agents/{other_agent}/memories/{old['id']}")
    assert missing.status_code == 404 and "not found" in missing.json()["error"]["message"]
    assert (await client.get(f"{url}/{uuid.uuid4()}")).status_code == 404


async def test_delete_memory(client: httpx.AsyncClient, world: World) -> None:
    url = f"/agents/{world.agent}/memories"
    made = (await client.post(url, json={"content": "The user likes tea"})).json()
    r = await client.delete(f"{url}/{made['id']}")
    assert r.status_code == 202
    body = r.json()
    assert body["id"] == made["id"] and body["jobs"] == [] and body["deleted_at"].endswith("Z")
    assert (await client.get(url)).json()["items"] == []
    again = await client.delete(f"{url}/{made['id']}")
    assert again.status_code == 404 and again.headers["x-should-retry"] == "false"
    assert (await client.delete(f"/agents/{uuid.uuid4()}/memories/{made['id']}")).status_code == 404


async def test_suggestions_are_made_and_listed(
    client: httpx.AsyncClient, runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    ids = await say(runtime, world, "I'm going to Rome in June.", "How exciting!", WHEN)
    offers = [
        {"target": "user", "content": "What should I see in Rome?"},
        {"target": "agent", "content": "Offer a three-day itinerary"},
    ]
    model.push(json.dumps({"suggestions": offers}))
    assert (await _suggest(runtime, world, ids[-1]))["state"] == "succeeded"
    prompt = model.requests[-1].messages[-1].text()
    assert "I'm going to Rome in June." in prompt and "How exciting!" in prompt
    model.push(json.dumps({"suggestions": offers}))  # a second run replaces, not appends
    assert (await _suggest(runtime, world, ids[-1]))["state"] == "succeeded"
    r = await client.get(f"/sessions/{world.session}/suggestions")
    items = r.json()["items"]
    assert [(i["target"], i["content"]) for i in items] == [
        (o["target"], o["content"]) for o in offers
    ]
    for item in items:
        assert item["message_id"] == str(ids[-1]) and item["session_id"] == str(world.session)
        assert item["created_at"].endswith("Z")
        uuid.UUID(item["id"])
    page = await client.get(f"/sessions/{world.session}/suggestions?limit=1&offset=1")
    assert [i["content"] for i in page.json()["items"]] == [offers[1]["content"]]


async def test_bad_suggestions_are_not_stored(
    client: httpx.AsyncClient, runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    ids = await say(runtime, world, "Hello", "Hi!", WHEN)
    model.push(json.dumps({"suggestions": [{"target": "everyone", "content": "x"}]}))
    job = await _suggest(runtime, world, ids[-1])
    assert job["state"] == "retrying" and "target" in str(job["reason"])
    assert (await client.get(f"/sessions/{world.session}/suggestions")).json()["items"] == []


async def test_other_tenants_get_404_everywhere(
    client: httpx.AsyncClient,
    world: World,
    tenant_key: Callable[[str], Awaitable[str]],
) -> None:
    url = f"/agents/{world.agent}/memories"
    made = (await client.post(url, json={"content": "secret", "user_id": str(world.user)})).json()
    other = auth(await tenant_key("tenant-b"))
    mine = (await client.post("/agents", json={"name": "b"}, headers=other)).json()["id"]
    calls = [
        ("GET", url, None),
        ("GET", f"/agents/{mine}/memories?user_id={world.user}", None),
        ("POST", f"{url}/search", {"text": "secret"}),
        ("POST", f"/agents/{mine}/memories/search", {"text": "s", "user_id": str(world.user)}),
        ("POST", url, {"content": "planted"}),
        ("POST", f"/agents/{mine}/memories", {"content": "x", "user_id": str(world.user)}),
        ("GET", f"{url}/{made['id']}", None),
        ("GET", f"/agents/{mine}/memories/{made['id']}", None),
        ("DELETE", f"{url}/{made['id']}", None),
        ("DELETE", f"/agents/{mine}/memories/{made['id']}", None),
        ("GET", f"/sessions/{world.session}/suggestions", None),
    ]
    for method, path, body in calls:
        r = await client.request(method, path, json=body, headers=other)
        assert r.status_code == 404, (method, path, r.text)
    items = (await client.get(url)).json()["items"]
    assert [i["content"] for i in items] == ["secret"]
    theirs = await client.get(f"/agents/{mine}/memories", headers=other)
    assert theirs.json()["items"] == []
