"""Agent tools (v1 and legacy shapes) and documents (create, list, get, delete, bulk)."""

from __future__ import annotations

import uuid

import httpx

from tests.helpers.resources import make_agent

FERN = {"X-Fern-Language": "Python"}


async def test_tool_types_round_trip(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    base = f"/agents/{agent['id']}/tools"
    api_call = {"method": "GET", "url": "https://example.com/{city}", "params_schema": {}}
    bodies = [
        {"name": "f", "type": "function", "function": {"parameters": {"type": "object"}}},
        {"name": "web", "type": "api_call", "api_call": api_call, "description": "GET"},
        {"name": "docs", "type": "system", "system": {"resource": "agent", "operation": "list"}},
    ]
    created = []
    for body in bodies:
        r = await client.post(base, json=body)
        assert r.status_code == 201, r.text
        created.append(r.json())
    assert created[0]["function"]["name"] == "f"
    assert created[1]["api_call"] == api_call and "function" not in created[1]
    items = (await client.get(base, params={"direction": "asc"})).json()["items"]
    assert [(t["name"], t["type"]) for t in items] == [
        ("f", "function"),
        ("web", "api_call"),
        ("docs", "system"),
    ]
    legacy = (await client.get(base, headers=FERN)).json()["items"]
    assert [t["name"] for t in legacy] == ["f"]  # 0.x clients cannot parse other types
    assert (await client.post(base, json=bodies[0])).status_code == 409  # same name


async def test_legacy_tool_shapes(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    base = f"/agents/{agent['id']}/tools"
    fn = {"name": "hook", "description": "d", "parameters": {"type": "object"}}
    tool = (await client.post(base, json={"type": "webhook", "function": fn})).json()
    assert (tool["name"], tool["type"]) == ("hook", "function")
    legacy_view = (await client.get(base, headers=FERN)).json()["items"][0]
    assert legacy_view["type"] == "webhook"
    new_fn = {"name": "hook", "parameters": {"type": "object", "properties": {"q": {}}}}
    r = await client.put(f"{base}/{tool['id']}", json={"function": new_fn})
    assert r.status_code == 200
    assert r.json()["function"]["parameters"]["properties"] == {"q": {}}
    r = await client.patch(f"{base}/{tool['id']}", json={"description": "new"})
    assert r.json()["description"] == "new"
    assert r.json()["function"]["parameters"]["properties"] == {"q": {}}
    assert (await client.delete(f"{base}/{tool['id']}")).status_code == 200
    assert (await client.get(base)).json()["items"] == []


async def test_bad_tools(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    base = f"/agents/{agent['id']}/tools"
    assert (await client.post(base, json={"name": "x", "type": "teleport"})).status_code == 400
    assert (await client.post(base, json={"type": "function"})).status_code == 400
    assert (await client.post(base, json={"name": "bad name", "type": "system"})).status_code == 422


async def test_docs(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    base = f"/agents/{agent['id']}/docs"
    one = await client.post(base, json={"title": "a", "content": "text", "metadata": {"k": 1}})
    assert one.status_code == 201
    two = (await client.post(base, json={"title": "b", "content": ["p1", "p2"]})).json()
    assert (await client.get(f"/docs/{two['id']}")).json()["content"] == ["p1", "p2"]
    fern = (await client.get(f"/docs/{two['id']}", headers=FERN)).json()
    assert fern["content"] == "p1\n\np2"
    listed = (await client.get(base, params={"metadata_filter.k": "1"})).json()["items"]
    assert [d["title"] for d in listed] == ["a"]
    r = await client.request("DELETE", base, json={"metadata_filter": {"k": 1}})
    assert r.status_code == 202 and [d["id"] for d in r.json()["items"]] == [one.json()["id"]]
    for nothing_chosen in (None, {}, {"metadata_filter": {}}, {"delete_all": False}):
        r = await client.request("DELETE", base, json=nothing_chosen)  # upstream: 202, kept
        assert r.status_code == 202 and r.json()["items"] == []
    assert len((await client.get(base)).json()["items"]) == 1
    r = await client.request("DELETE", f"/agents/{uuid.uuid4()}/docs", json={})
    assert r.status_code == 404
    r = await client.request("DELETE", base, json={"delete_all": True})
    assert [d["id"] for d in r.json()["items"]] == [two["id"]]
    assert (await client.get(base)).json()["items"] == []


async def test_doc_delete_is_scoped_to_owner(client: httpx.AsyncClient) -> None:
    a1, a2 = await make_agent(client), await make_agent(client)
    doc = (
        await client.post(f"/agents/{a1['id']}/docs", json={"title": "t", "content": "c"})
    ).json()
    assert (await client.delete(f"/agents/{a2['id']}/docs/{doc['id']}")).status_code == 404
    assert (await client.delete(f"/agents/{a1['id']}/docs/{doc['id']}")).status_code == 202


async def test_session_and_user_docs(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    session = (await client.post("/sessions", json={"agent": agent["id"]})).json()
    r = await client.post(f"/sessions/{session['id']}/docs", json={"title": "n", "content": "c"})
    assert r.status_code == 201 and r.json()["owner"] == {"id": session["id"], "role": "session"}
    assert len((await client.get(f"/sessions/{session['id']}/docs")).json()["items"]) == 1
    assert (
        await client.post(f"/users/{agent['id']}/docs", json={"title": "x", "content": "y"})
    ).status_code == 404


async def test_duplicate_doc_is_409_and_empty_content_422(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    base = f"/agents/{agent['id']}/docs"
    body = {"title": "t", "content": "same"}
    assert (await client.post(base, json=body)).status_code == 201
    assert (await client.post(base, json=body)).status_code == 409
    assert (await client.post(base, json={"title": "t", "content": []})).status_code == 422
    assert (await client.post(base, json={"title": "", "content": "x"})).status_code == 422


async def test_a_large_doc_is_not_echoed_back_by_its_create(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    big = "word " * 40_000  # 200,000 characters
    r = await client.post(f"/agents/{agent['id']}/docs", json={"title": "big", "content": big})
    assert r.status_code == 201
    created = r.json()
    assert created["content"] == big[:4096] and created["content_truncated"] is True
    assert created["content_length"] == len(big) and len(r.content) < 10_000
    assert (await client.get(f"/docs/{created['id']}")).json()["content"] == big
    parts = ["a" * 3000, "b" * 3000, "c" * 3000]
    r = await client.post(f"/agents/{agent['id']}/docs", json={"title": "p", "content": parts})
    assert r.json()["content"] == ["a" * 3000, "b" * 1096] and r.json()["content_truncated"]
    small = await client.post(f"/agents/{agent['id']}/docs", json={"title": "s", "content": "hi"})
    assert small.json()["content"] == "hi" and small.json()["content_truncated"] is False
