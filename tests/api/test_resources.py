"""Agents, users and sessions: CRUD, create-or-update, replace vs patch, listing rules."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.helpers.resources import make_agent


async def test_agent_lifecycle(client: httpx.AsyncClient) -> None:
    created = await make_agent(
        client,
        about="researcher",
        instructions=["be brief"],
        default_settings={"temperature": 0.2},
        metadata={"team": "r&d"},
    )
    assert created["model"] == "scripted"  # the configured default model
    assert created["jobs"] == []
    got = (await client.get(f"/agents/{created['id']}")).json()
    assert got == created

    r = await client.patch(f"/agents/{created['id']}", json={"about": "x", "metadata": {"k": 1}})
    assert r.status_code == 200
    patched = r.json()
    assert patched["about"] == "x"
    assert patched["instructions"] == ["be brief"]  # untouched
    assert patched["metadata"] == {"team": "r&d", "k": 1}  # shallow merge
    assert patched["updated_at"] >= created["updated_at"]

    r = await client.put(f"/agents/{created['id']}", json={"name": "bob"})
    replaced = r.json()
    assert (replaced["name"], replaced["about"], replaced["instructions"]) == ("bob", "", [])
    assert replaced["metadata"] == {}

    r = await client.delete(f"/agents/{created['id']}")
    assert r.status_code == 202
    assert r.json()["id"] == created["id"] and r.json()["deleted_at"]
    assert (await client.get(f"/agents/{created['id']}")).status_code == 404


async def test_patch_nulls_mean_absent(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client, about="keep", metadata={"a": 1})
    r = await client.patch(f"/agents/{agent['id']}", json={"about": None, "metadata": None})
    assert r.json()["about"] == "keep" and r.json()["metadata"] == {"a": 1}


async def test_create_or_update(client: httpx.AsyncClient) -> None:
    agent_id = str(uuid.uuid4())
    r = await client.post(f"/agents/{agent_id}", json={"name": "first", "about": "a"})
    assert r.status_code == 201 and r.json()["id"] == agent_id
    r = await client.post(f"/agents/{agent_id}", json={"name": "second"})
    assert r.status_code == 201
    assert (r.json()["name"], r.json()["about"]) == ("second", "")
    assert len((await client.get("/agents")).json()["items"]) == 1


async def test_inline_tools_and_docs_on_agent_create(client: httpx.AsyncClient) -> None:
    agent = await make_agent(
        client,
        tools=[
            {
                "type": "function",
                "function": {"name": "lookup", "parameters": {"type": "object"}},
            }
        ],
        docs=[{"title": "policy", "content": ["one", "two"], "metadata": {"v": 1}}],
    )
    tools = (await client.get(f"/agents/{agent['id']}/tools")).json()["items"]
    assert [t["name"] for t in tools] == ["lookup"]
    docs = (await client.get(f"/agents/{agent['id']}/docs")).json()["items"]
    assert [(d["title"], d["content"], d["metadata"]) for d in docs] == [
        ("policy", ["one", "two"], {"v": 1})
    ]


async def test_failed_inline_create_writes_nothing(client: httpx.AsyncClient) -> None:
    dupes = [{"title": "t", "content": "same"}, {"title": "t", "content": "same"}]
    r = await client.post("/agents", json={"name": "x", "docs": dupes})
    assert r.status_code == 409
    assert (await client.get("/agents")).json()["items"] == []


async def test_user_lifecycle_with_inline_docs(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/users", json={"name": "grace", "docs": [{"title": "t", "content": "c"}]}
    )
    assert r.status_code == 201
    user = r.json()
    docs = (await client.get(f"/users/{user['id']}/docs")).json()["items"]
    assert [d["content"] for d in docs] == ["c"]
    r = await client.put(f"/users/{user['id']}", json={"about": "new"})
    assert (r.json()["name"], r.json()["about"]) == ("", "new")
    assert (await client.delete(f"/users/{user['id']}")).status_code == 202
    assert (await client.get(f"/docs/{docs[0]['id']}")).status_code == 404


async def test_pagination_is_exact(client: httpx.AsyncClient) -> None:
    ids = [(await make_agent(client, about=str(i)))["id"] for i in range(5)]
    seen: list[str] = []
    offset = 0
    while True:
        page = (await client.get("/agents", params={"limit": 2, "offset": offset})).json()["items"]
        if not page:
            break
        seen += [a["id"] for a in page]
        offset += len(page)
    assert seen == list(reversed(ids))  # default: newest first
    asc = (await client.get("/agents", params={"direction": "asc"})).json()["items"]
    assert [a["id"] for a in asc] == ids
    legacy = (await client.get("/agents", params={"order": "asc", "limit": 1})).json()["items"]
    assert [a["id"] for a in legacy] == ids[:1]
    past = await client.get("/agents", params={"offset": 99})
    assert past.json() == {"items": []}


async def test_sort_by_updated_at(client: httpx.AsyncClient) -> None:
    a = await make_agent(client)
    b = await make_agent(client)
    await client.patch(f"/agents/{a['id']}", json={"about": "touched"})
    items = (await client.get("/agents", params={"sort_by": "updated_at"})).json()["items"]
    assert [x["id"] for x in items] == [a["id"], b["id"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"metadata_filter": '{"team": "red"}'}, {"r1", "r2"}),
        ({"metadata_filter.team": "red", "metadata_filter.level": "3"}, {"r2"}),
        ({"metadata_filter": '{"tags": ["x"]}'}, {"r1"}),
        ({"metadata_filter": '{"nested": {"on": true}}'}, {"b1"}),
        ({"metadata_filter.active": "true"}, {"r1"}),
        ({"metadata_filter": '{"level": "3"}'}, set()),  # a string is not the number 3
        ({"metadata_filter": "{}"}, {"r1", "r2", "b1"}),
    ],
)
async def test_metadata_filter_is_containment(
    client: httpx.AsyncClient, params: dict, expected: set
) -> None:
    await make_agent(
        client, about="r1", metadata={"team": "red", "tags": ["x", "y"], "active": True}
    )
    await make_agent(client, about="r2", metadata={"team": "red", "level": 3})
    await make_agent(client, about="b1", metadata={"team": "blue", "nested": {"on": True, "n": 1}})
    items = (await client.get("/agents", params=params)).json()["items"]
    assert {a["about"] for a in items} == expected


async def test_bad_list_queries_are_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"limit": 0},
        {"limit": 10**6},
        {"offset": -1},
        {"sort_by": "name"},
        {"direction": "up"},
        {"metadata_filter": "{bad json"},
        {"metadata_filter": "[1]"},
    ):
        r = await client.get("/agents", params=params)
        assert r.status_code == 422, params
        assert r.headers["x-should-retry"] == "false"
        assert r.json()["error"]["code"] == "validation_error"
