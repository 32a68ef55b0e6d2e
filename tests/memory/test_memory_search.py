"""Memory search: hybrid ranking, recency without a query, filters, recall for chat."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from sprig.server.memory.ranking import rank_memories, text_hits
from sprig.server.memory.store import MemoryQuery
from sprig.server.runtime import Runtime
from sprig.server.search.ranking import RankOptions
from tests.helpers.memory import World

FACTS = [
    "The user works as a night nurse in Lyon",
    "The user's dog is a beagle named Max",
    "The user is allergic to peanuts",
    "The user went hiking in the Alps in May",
    "The user plays the cello in an amateur orchestra",
]


async def _import(client: httpx.AsyncClient, world: World, items: list[dict[str, Any]]) -> Any:
    r = await client.post(f"/agents/{world.agent}/memories", json=items)
    assert r.status_code == 201, r.text
    return r.json()["items"]


async def _facts(client: httpx.AsyncClient, world: World) -> Any:
    return await _import(client, world, [{"content": f, "user_id": str(world.user)} for f in FACTS])


async def test_the_relevant_memory_ranks_first(client: httpx.AsyncClient, world: World) -> None:
    await _facts(client, world)
    for query, expected in (
        ("what kind of dog does the user have?", FACTS[1]),
        ("is the user allergic to any food", FACTS[2]),
        ("does the user play music", FACTS[4]),
        ("Lyon nursing job", FACTS[0]),
    ):
        r = await client.get(f"/agents/{world.agent}/memories", params={"query": query})
        items = r.json()["items"]
        assert items[0]["content"] == expected, (query, [i["content"] for i in items])
        scores = [i["score"] for i in items]
        assert scores == sorted(scores, reverse=True)


async def test_without_a_query_newest_first_with_filters_and_pages(
    client: httpx.AsyncClient, world: World
) -> None:
    other = (await client.post("/users", json={"name": "Bo"})).json()["id"]
    await _facts(client, world)
    await _import(
        client,
        world,
        [
            {"content": "Bo met the user at a concert", "type": "episode", "user_id": other},
            {"content": "Lyon is where the user lives", "type": "entity"},
        ],
    )
    base = f"/agents/{world.agent}/memories"
    everything = (await client.get(base)).json()["items"]
    assert [i["content"] for i in everything][:2] == [
        "Lyon is where the user lives",
        "Bo met the user at a concert",
    ]
    mine = (await client.get(base, params={"user_id": str(world.user)})).json()["items"]
    assert [i["content"] for i in mine] == list(reversed(FACTS))
    page = (await client.get(base, params={"limit": 2, "offset": 1})).json()["items"]
    assert [i["id"] for i in page] == [i["id"] for i in everything[1:3]]
    for params in ({"types": "episode,entity"}, {"types": ["episode", "entity"]}):
        got = (await client.get(base, params=params)).json()["items"]
        assert {i["type"] for i in got} == {"episode", "entity"} and len(got) == 2
    facts = (await client.get(base, params={"types": "fact"})).json()["items"]
    assert len(facts) == len(FACTS)  # "fact" is read as belief
    r = await client.get(base, params={"types": "episode,dream"})
    assert r.status_code == 422 and "dream" in r.json()["error"]["message"]


async def test_v1_search_pages_by_relevance(client: httpx.AsyncClient, world: World) -> None:
    await _facts(client, world)
    url = f"/agents/{world.agent}/memories/search"
    body = {"text": "the user's dog Max", "user_id": str(world.user), "limit": 2}
    first = (await client.post(url, json=body)).json()
    assert first["items"][0]["content"] == FACTS[1] and first["time"] > 0
    second = (await client.post(url, json={**body, "offset": 1})).json()["items"]
    assert second[0]["id"] == first["items"][1]["id"]
    only = (await client.post(url, json={**body, "types": ["episode"]})).json()["items"]
    assert only == []
    assert (await client.post(url, json={"text": "x", "limit": 0})).status_code == 422


async def test_recall_sees_one_users_valid_memories_and_marks_them(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    other = (await client.post("/users", json={"name": "Bo"})).json()["id"]
    await _facts(client, world)
    await _import(client, world, [{"content": "Bo's dog is a poodle", "user_id": other}])
    rows = await runtime.memory.recall(world.dev, world.agent, world.user, "my dog", 3)
    assert rows[0]["content"] == FACTS[1] and len(rows) == 3
    assert "Bo's dog is a poodle" not in [r["content"] for r in rows]
    listed = (await client.get(f"/agents/{world.agent}/memories")).json()["items"]
    touched = {i["content"] for i in listed if i["last_accessed_at"] is not None}
    assert touched == {r["content"] for r in rows}
    newest = await runtime.memory.recall(world.dev, world.agent, world.user, "  ", 2)
    assert [r["content"] for r in newest] == [FACTS[4], FACTS[3]]
    assert await runtime.memory.recall(world.dev, world.agent, None, "dog", 5) == []


async def test_imported_memories_keep_their_fields(client: httpx.AsyncClient, world: World) -> None:
    when = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    r = await client.post(
        f"/agents/{world.agent}/memories",
        json={
            "content": "The user ran a charity race",
            "type": "episode",
            "timestamp": when.isoformat(),
            "entities": ["charity race", {"name": "Lyon", "type": "place"}],
            "sentiment": 0.5,
            "session_id": str(world.session),
        },
    )
    assert r.status_code == 201
    body = r.json()
    assert body["timestamp"] == "2023-05-08T13:56:00Z" and body["type"] == "episode"
    assert body["entities"] == [{"name": "charity race"}, {"name": "Lyon", "type": "place"}]
    assert body["session_id"] == str(world.session) and body["jobs"] == []
    bad = await client.post(f"/agents/{world.agent}/memories", json={"content": " "})
    assert bad.status_code == 422


def test_memory_text_is_analysed_as_document_search_analyses_it() -> None:
    """Snowball stems of the search's language (Porter for English), accents folded, stop
    words dropped: the same ``search.lexical`` index documents are searched with."""
    rows = [
        {"content": "Ana lebt in einem alten Haus"},
        {"content": "The user's mutation was sequenced"},
        {"content": "Ana mag Katzen", "entities": [{"name": "Café Müller"}]},
    ]
    assert [i for i, _ in text_hits(rows, "Häuser", "de", 10)] == [0]
    assert text_hits(rows, "Häuser", "en-US", 10) == []  # English stems: no match
    assert [i for i, _ in text_hits(rows, "mutations", None, 10)] == [1]
    assert [i for i, _ in text_hits(rows, "cafe muller", "de", 10)] == [2]  # entity names
    assert text_hits(rows, "the was in", None, 10) == []  # stop words alone match nothing
    ranked = rank_memories(rows, "Häusern", None, RankOptions(limit=2), lang="de-AT")
    assert [row["content"] for row, _ in ranked] == ["Ana lebt in einem alten Haus"]


async def test_v1_search_takes_the_language_of_its_text(
    client: httpx.AsyncClient, world: World, runtime: Runtime, monkeypatch: Any
) -> None:
    await _facts(client, world)
    seen: list[MemoryQuery] = []
    search = runtime.memory.search

    async def spy(developer_id: Any, q: MemoryQuery) -> Any:
        seen.append(q)
        return await search(developer_id, q)

    monkeypatch.setattr(runtime.memory, "search", spy)
    body = {"text": "Hund", "user_id": str(world.user), "limit": 2, "lang": "de"}
    r = await client.post(f"/agents/{world.agent}/memories/search", json=body)
    assert r.status_code == 200, r.text
    assert (seen[0].lang, seen[0].text, seen[0].limit, seen[0].user_id) == (
        "de",
        "Hund",
        2,
        world.user,
    )
    assert (await client.get(f"/agents/{world.agent}/memories", params={"query": "x"})).is_success
    assert seen[1].lang is None and seen[1].user_id is None  # GET: English, every user
    too_long = {**body, "lang": "x" * 33}
    r = await client.post(f"/agents/{world.agent}/memories/search", json=too_long)
    assert r.status_code == 422
