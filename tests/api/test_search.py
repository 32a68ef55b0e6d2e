"""Document search through the API, with known relevant documents: ranking, confidence,
MMR diversity, metadata filters, tenant scope, pending embeddings, /embed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from sprig.server.runtime import Runtime
from tests.helpers.app import auth

DOCS = [
    (
        "Volcanoes",
        "Magma rises through the crust and erupts as lava from volcanoes.",
        {"topic": "geo"},
    ),
    (
        "Photosynthesis",
        "Plants turn sunlight, water and carbon dioxide into sugar.",
        {"topic": "bio"},
    ),
    ("Tides", "The moon's gravity pulls the oceans and makes the tides.", {"topic": "geo"}),
    (
        "Enzymes",
        "Enzymes are proteins that speed up chemical reactions in cells.",
        {"topic": "bio"},
    ),
]


async def _agent_with_docs(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    agent = (await client.post("/agents", json={"name": "librarian"})).json()["id"]
    ids = {}
    for title, content, meta in DOCS:
        r = await client.post(
            f"/agents/{agent}/docs", json={"title": title, "content": content, "metadata": meta}
        )
        assert r.status_code == 201
        assert r.json()["status"] == "ready"  # searchable when the create call returns
        ids[title] = r.json()["id"]
    return agent, ids


async def _search(client: httpx.AsyncClient, agent: str, **body: Any) -> list[dict[str, Any]]:
    r = await client.post(f"/agents/{agent}/search", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["time"] > 0
    return r.json()["docs"]


async def test_each_mode_finds_the_relevant_doc_first(client: httpx.AsyncClient) -> None:
    agent, ids = await _agent_with_docs(client)
    for mode in ("text", "hybrid", "vector"):
        docs = await _search(client, agent, text="how does lava erupt from volcanoes", mode=mode)
        assert docs[0]["id"] == ids["Volcanoes"], mode
        scores = [d["score"] for d in docs]
        assert scores == sorted(scores, reverse=True)
        assert docs[0]["owner"] == {"id": agent, "role": "agent"}
        assert docs[0]["snippet"]["index"] == 0
        assert "lava" in docs[0]["snippet"]["content"]
        assert "embedding" not in docs[0]["snippet"]  # include_embeddings defaults to false
    default = await _search(client, agent, text="moon gravity oceans")
    assert default[0]["id"] == ids["Tides"]


async def test_vector_search_with_a_given_vector_and_confidence(client: httpx.AsyncClient) -> None:
    agent, ids = await _agent_with_docs(client)
    vector = (
        await client.post(
            "/embed",
            json={
                "text": "Enzymes\nEnzymes are proteins that speed up chemical reactions in cells."
            },
        )
    ).json()["vectors"][0]
    docs = await _search(client, agent, vector=vector)
    assert docs[0]["id"] == ids["Enzymes"]
    assert docs[0]["distance"] < 0.01  # the same text: similarity ~1
    strict = await _search(client, agent, vector=vector, confidence=0.95)
    assert [d["id"] for d in strict] == [ids["Enzymes"]]
    with_vectors = await _search(client, agent, vector=vector, include_embeddings=True, limit=1)
    assert len(with_vectors[0]["snippet"]["embedding"]) == len(vector)


async def test_mmr_prefers_a_diverse_second_result(client: httpx.AsyncClient) -> None:
    agent = (await client.post("/agents", json={"name": "mmr"})).json()["id"]
    texts = {
        "a": "Solar panels convert sunlight into electricity for homes.",
        "a2": "Solar panels convert sunlight into electricity for houses.",
        "b": "Wind turbines convert moving air into electricity.",
    }
    for title, content in texts.items():
        await client.post(f"/agents/{agent}/docs", json={"title": title, "content": content})
    query = {"text": "solar panels electricity", "mode": "vector", "limit": 2, "k_multiplier": 2}
    plain = await _search(client, agent, **query)
    diverse = await _search(client, agent, **query, mmr_strength=0.9)
    assert {d["title"] for d in plain} == {"a", "a2"}
    assert {d["title"] for d in diverse} == {"a", "b"} or {d["title"] for d in diverse} == {
        "a2",
        "b",
    }


async def test_metadata_filter_limits_the_scope(client: httpx.AsyncClient) -> None:
    agent, ids = await _agent_with_docs(client)
    docs = await _search(
        client, agent, text="volcanoes lava proteins cells", metadata_filter={"topic": "bio"}
    )
    assert {d["id"] for d in docs} <= {ids["Photosynthesis"], ids["Enzymes"]}
    assert docs[0]["id"] == ids["Enzymes"]


async def test_search_is_scoped_to_owner_and_tenant(
    client: httpx.AsyncClient, tenant_key: Callable[[str], Awaitable[str]]
) -> None:
    agent, _ = await _agent_with_docs(client)
    other_agent = (await client.post("/agents", json={"name": "empty"})).json()["id"]
    assert await _search(client, other_agent, text="volcanoes") == []
    other = auth(await tenant_key("b"))
    r = await client.post(f"/agents/{agent}/search", json={"text": "volcanoes"}, headers=other)
    assert r.status_code == 404
    theirs = (await client.post("/agents", json={"name": "theirs"}, headers=other)).json()["id"]
    await client.post(
        f"/agents/{theirs}/docs", json={"title": "Volcanoes", "content": "lava"}, headers=other
    )
    mine = await _search(client, agent, text="volcanoes lava")
    assert all(d["owner"]["id"] == agent for d in mine)


async def test_bad_search_requests(client: httpx.AsyncClient) -> None:
    agent, _ = await _agent_with_docs(client)
    for body in (
        {},
        {"text": "  "},
        {"text": "x", "limit": 0},
        {"text": "x", "limit": 51},
        {"text": "x", "alpha": 2},
        {"vector": []},
        {"mode": "text", "vector": [0.1]},
    ):
        r = await client.post(f"/agents/{agent}/search", json=body)
        assert r.status_code == 422, body
    r = await client.post(f"/agents/{agent}/search", json={"vector": [0.1, 0.2]})
    assert r.status_code == 400  # wrong dimensions
    for nasty in ('"unbalanced', "AND OR NOT", "* ( ) :", "NEAR(a b)", "日本語 テキスト"):
        assert (
            await client.post(f"/agents/{agent}/search", json={"text": nasty, "mode": "text"})
        ).status_code == 200


async def test_big_docs_are_pending_then_searchable(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    runtime.settings.embed_inline_max_chunks = 2
    agent = (await client.post("/agents", json={"name": "big"})).json()["id"]
    content = [f"Paragraph {i} talks about subject number {i} in detail." * 20 for i in range(6)]
    r = (
        await client.post(f"/agents/{agent}/docs", json={"title": "Big", "content": content})
    ).json()
    assert r["status"] == "pending"
    job_id = r["jobs"][0]
    text = await _search(client, agent, text="subject number 3", mode="text")
    assert text and text[0]["id"] == r["id"]  # full text works at once
    for _ in range(200):
        job = (await client.get(f"/jobs/{job_id}")).json()
        if job["state"] == "succeeded":
            break
        await asyncio.sleep(0.05)
    assert job["state"] == "succeeded"
    assert (await client.get(f"/docs/{r['id']}")).json()["status"] == "ready"
    vector = await _search(client, agent, text="subject number 3", mode="vector")
    assert vector[0]["id"] == r["id"]


async def test_embed(client: httpx.AsyncClient) -> None:
    one = (await client.post("/embed", json={"text": "hello"})).json()
    many = (await client.post("/embed", json={"text": ["hello", "world"]})).json()
    assert len(one["vectors"]) == 1
    assert len(many["vectors"]) == 2
    assert one["vectors"][0] == many["vectors"][0]
    norm = sum(v * v for v in one["vectors"][0]) ** 0.5
    assert abs(norm - 1) < 1e-5
    assert (await client.post("/embed", json={"text": []})).status_code == 422


async def test_docs_record_their_embedding_model(client: httpx.AsyncClient) -> None:
    _, ids = await _agent_with_docs(client)
    doc = (await client.get(f"/docs/{ids['Tides']}")).json()
    assert doc["embedding_model"] == "hashing-384"  # the test embedder and its dimensions
    assert doc["embedding_dimensions"] == len(
        (await client.post("/embed", json={"text": "x"})).json()["vectors"][0]
    )
