"""Recall in chat: relevant docs of the agent, user and session fill the system template and
come back in `docs` and the legacy `doc_ids`; the query is built from the recent messages."""

from __future__ import annotations

import httpx

from sprig.server.models.scripted import ScriptedModel
from tests.helpers.chat import user_msg


async def _setup(client: httpx.AsyncClient) -> tuple[dict, dict, str]:
    agent = (await client.post("/agents", json={"name": "Guide"})).json()
    user = (await client.post("/users", json={"name": "Ana"})).json()
    await client.post(
        f"/agents/{agent['id']}/docs",
        json={"title": "Wifi", "content": "The office wifi password is heron-42-blue."},
    )
    await client.post(
        f"/agents/{agent['id']}/docs",
        json={"title": "Lunch", "content": "The canteen serves lunch from noon to two."},
    )
    await client.post(
        f"/users/{user['id']}/docs",
        json={"title": "Ana's badge", "content": "Ana's badge number is 7731."},
    )
    sid = (await client.post("/sessions", json={"agent": agent["id"], "user": user["id"]})).json()[
        "id"
    ]
    return agent, user, sid


async def test_recalled_docs_reach_the_prompt_and_the_response(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    agent, _, sid = await _setup(client)
    model.push("It is heron-42-blue.")
    r = (
        await client.post(f"/sessions/{sid}/chat", json=user_msg("What is the wifi password?"))
    ).json()
    assert r["docs"][0]["title"] == "Wifi"
    assert r["docs"][0]["owner"] == {"id": agent["id"], "role": "agent"}
    assert r["doc_ids"]["agent_doc_ids"][0] == r["docs"][0]["id"]
    system = model.requests[0].messages[0].text()
    assert "heron-42-blue" in system
    if "noon" in system:  # a weaker match may follow, never precede, the best one
        assert system.index("heron-42-blue") < system.index("noon")
    rendered = (
        await client.post(f"/sessions/{sid}/render", json=user_msg("wifi password?"))
    ).json()
    assert "heron-42-blue" in rendered["messages"][0]["content"]
    assert rendered["docs"][0]["title"] == "Wifi"


async def test_user_docs_are_recalled_too(client: httpx.AsyncClient, model: ScriptedModel) -> None:
    _, _, sid = await _setup(client)
    model.push("7731")
    r = (
        await client.post(f"/sessions/{sid}/chat", json=user_msg("What is my badge number?"))
    ).json()
    assert r["docs"][0]["title"] == "Ana's badge"
    assert r["doc_ids"]["user_doc_ids"] == [r["docs"][0]["id"]]


async def test_recall_off_per_request_and_per_session(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    agent, _, sid = await _setup(client)
    model.push("a", "b")
    r = (
        await client.post(
            f"/sessions/{sid}/chat", json={**user_msg("wifi password?"), "recall": False}
        )
    ).json()
    assert r["docs"] == []
    assert "heron" not in model.requests[0].messages[0].text()
    quiet = (await client.post("/sessions", json={"agent": agent["id"], "recall": False})).json()[
        "id"
    ]
    r = (await client.post(f"/sessions/{quiet}/chat", json=user_msg("wifi password?"))).json()
    assert r["docs"] == []


async def test_query_uses_the_recent_messages(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    agent, _, _ = await _setup(client)
    options = {"mode": "text", "num_search_messages": 3, "limit": 1}
    sid = (
        await client.post("/sessions", json={"agent": agent["id"], "recall_options": options})
    ).json()["id"]
    model.push("Noted.", "Here it is.")
    await client.post(f"/sessions/{sid}/chat", json=user_msg("I need the wifi password"))
    r = (
        await client.post(f"/sessions/{sid}/chat", json=user_msg("what was I asking about?"))
    ).json()
    assert [d["title"] for d in r["docs"]] == ["Wifi"]  # found through the previous message
