"""Sessions: participants in every spelling, defaults, filters, validation."""

from __future__ import annotations

import uuid

import httpx

from tests.helpers.resources import make_agent


async def make_user(client: httpx.AsyncClient, name: str = "u") -> dict:
    r = await client.post("/users", json={"name": name})
    assert r.status_code == 201
    return r.json()


async def test_single_agent_session_defaults(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    r = await client.post("/sessions", json={"agent": agent["id"]})
    assert r.status_code == 201
    s = r.json()
    assert (s["agent_id"], s["agents"], s["user_id"], s["users"]) == (
        agent["id"],
        [agent["id"]],
        None,
        [],
    )
    assert s["kind"] == "single_agent_no_user"
    assert s["render_templates"] is True and s["auto_run_tools"] is False
    assert s["recall_options"]["mode"] == "hybrid"
    assert s["recall_options"]["num_search_messages"] == 4
    assert s["recall_options"]["k_multiplier"] == 7
    assert (s["recall_options"]["confidence"], s["recall_options"]["mmr_strength"]) == (0.5, 0.5)


async def test_legacy_spelling_with_nulls(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    body = {
        "agent_id": agent["id"],
        "user_id": None,
        "situation": None,
        "metadata": {},
        "render_templates": False,
        "token_budget": None,
        "context_overflow": None,
    }
    s = (await client.post("/sessions", json=body)).json()
    assert s["render_templates"] is False and s["situation"] is None
    legacy = (
        await client.get(f"/sessions/{s['id']}", headers={"X-Fern-Language": "Python"})
    ).json()
    assert legacy["user_id"] == "00000000-0000-0000-0000-000000000000"


async def test_multi_agent_multi_user(client: httpx.AsyncClient) -> None:
    a1, a2 = await make_agent(client), await make_agent(client)
    u1, u2 = await make_user(client), await make_user(client)
    body = {
        "agents": [a2["id"], a1["id"]],
        "users": [u1["id"], u2["id"]],
        "situation": "standup",
        "system_template": "{{agent.name}}",
        "token_budget": 2000,
        "context_overflow": "truncate",
        "recall_options": {"mode": "vector", "limit": 3},
        "metadata": {"x": 1},
    }
    s = (await client.post("/sessions", json=body)).json()
    assert s["agents"] == [a2["id"], a1["id"]]  # order kept: the first answers by default
    assert s["kind"] == "multi_agent_multi_user"
    assert s["recall_options"]["limit"] == 3 and "alpha" not in s["recall_options"]
    for params, expected in (({"agent_id": a1["id"]}, 1), ({"user_id": u2["id"]}, 1)):
        items = (await client.get("/sessions", params=params)).json()["items"]
        assert [i["id"] for i in items] == [s["id"]] * expected
    other = await make_agent(client)
    assert (await client.get("/sessions", params={"agent_id": other["id"]})).json()["items"] == []


async def test_participant_errors(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    r = await client.post("/sessions", json={"agent": agent["id"], "agents": [agent["id"]]})
    assert r.status_code == 400
    assert (await client.post("/sessions", json={"situation": "x"})).status_code == 400
    missing = "00000000-0000-4000-8000-000000000000"
    for body in ({"agent": missing}, {"agent": agent["id"], "user": missing}):
        r = await client.post("/sessions", json=body)  # upstream: 400, the body is wrong
        assert r.status_code == 400 and f"{missing} not found" in r.json()["error"]["message"]
        r = await client.post(f"/sessions/{uuid.uuid4()}", json=body)  # create-or-update
        assert r.status_code == 400
    s = (await client.post("/sessions", json={"agent": agent["id"]})).json()
    r = await client.patch(f"/sessions/{s['id']}", json={"users": [missing]})
    assert r.status_code == 400
    assert (await client.get(f"/sessions/{s['id']}")).json()["users"] == []
    await client.delete(f"/sessions/{s['id']}")
    r = await client.post("/sessions", json={"agent": agent["id"], "context_overflow": "drop"})
    assert r.status_code == 422
    assert (await client.get("/sessions")).json()["items"] == []


async def test_deleting_the_only_agent_deletes_its_sessions(client: httpx.AsyncClient) -> None:
    a1, a2 = await make_agent(client), await make_agent(client)
    solo = (await client.post("/sessions", json={"agent": a1["id"]})).json()
    shared = (await client.post("/sessions", json={"agents": [a1["id"], a2["id"]]})).json()
    await client.delete(f"/agents/{a1['id']}")
    assert (await client.get(f"/sessions/{solo['id']}")).status_code == 404
    assert (await client.get(f"/sessions/{shared['id']}")).json()["agents"] == [a2["id"]]


async def test_session_patch_and_replace(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    s = (await client.post("/sessions", json={"agent": agent["id"], "situation": "a"})).json()
    p = (await client.patch(f"/sessions/{s['id']}", json={"token_budget": 100})).json()
    assert (p["situation"], p["token_budget"], p["agents"]) == ("a", 100, [agent["id"]])
    r = (await client.put(f"/sessions/{s['id']}", json={"situation": "b"})).json()
    assert (r["situation"], r["token_budget"], r["agents"]) == ("b", None, [agent["id"]])


async def test_recall_options_keep_every_field_of_their_mode(client: httpx.AsyncClient) -> None:
    agent = await make_agent(client)
    common = {"limit": 4, "lang": "fr-FR", "num_search_messages": 2, "max_query_length": 500}
    cases = (
        ({"mode": "text", "trigram_similarity_threshold": 0.3}, {"confidence", "alpha"}),
        ({"mode": "hybrid", "trigram_similarity_threshold": 0.4, "k_multiplier": 3}, set()),
        ({"mode": "vector", "confidence": 0.2, "mmr_strength": 0.1}, {"alpha", "k_multiplier"}),
    )
    for options, absent in cases:
        sent = {**common, **options}
        body = {"agent": agent["id"], "recall_options": sent}
        created = (await client.post("/sessions", json=body)).json()
        fetched = (await client.get(f"/sessions/{created['id']}")).json()
        for got in (created["recall_options"], fetched["recall_options"]):
            assert {k: got[k] for k in sent} == sent
            assert not absent & got.keys()
