"""The console's memories view: an agent's memories listed, searched with their scores,
one superseded shown with its history (when it was invalidated, what replaced it), one
deleted, one added by hand, a session's suggestions; markup in memories stays text."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.memory.store import invalidate, replace_suggestions
from sprig.server.settings import Settings
from tests.helpers.app import auth
from tests.helpers.browser import OfflineContext
from tests.helpers.console import SHOTS, signed_in
from tests.helpers.live_db import write_live

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
MOVED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _world(c: httpx.Client) -> dict[str, Any]:
    agent = c.post("/agents", json={"name": "Sage"}).json()
    user = c.post("/users", json={"name": "Ana"}).json()
    url = f"/agents/{agent['id']}/memories"

    def remember(content: str, kind: str = "belief", **more: Any) -> dict[str, Any]:
        body = {"content": content, "type": kind, "user_id": user["id"], **more}
        made = c.post(url, json=body)
        assert made.status_code == 201, made.text
        return dict(made.json())

    return {
        "agent": agent,
        "user": user,
        "url": url,
        "dev": uuid.UUID(c.get("/me").json()["tenant_id"]),
        "old": remember("Ana lives in Oslo", entities=["Ana", "Oslo"]),
        "new": remember("Ana moved to Lima in May", "episode", entities=["Lima"]),
        "tea": remember("Ana drinks green tea every morning"),
    }


def _supersede(settings: Settings, w: dict[str, Any]) -> None:
    async def change(conn: AsyncConnection) -> bool:
        old, new = uuid.UUID(w["old"]["id"]), uuid.UUID(w["new"]["id"])
        return await invalidate(conn, w["dev"], old, new, MOVED, MOVED)

    assert write_live(settings, change)


def memory(page: Page, content: str) -> Any:
    return page.get_by_role("article", name=f"Memory: {content}")


def test_memories_listed_with_their_history_searched_deleted_and_added(
    offline: OfflineContext, live_url: str, api_key: str, live_settings: Settings
) -> None:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        w = _world(c)
    _supersede(live_settings, w)
    page = signed_in(offline, live_url, api_key, "/memories")
    expect(page.get_by_text("Choose an agent to see its memories.")).to_be_visible()
    page.get_by_label("Agent").select_option(label="Sage")
    expect(page.get_by_role("heading", name="Browse")).to_be_visible()
    assert f"agent={w['agent']['id']}" in page.url  # the choice is in the URL
    expect(page.locator("article.memory")).to_have_count(3)

    old = memory(page, "Ana lives in Oslo")
    expect(old).to_contain_text("invalidated")
    expect(old).to_contain_text("Ana, Oslo")  # its entities
    expect(old.locator(".memory-history")).to_contain_text(
        "Superseded by “Ana moved to Lima in May”"
    )
    expect(old.locator(".memory-history")).to_contain_text(re.compile(r"Invalidated \S*2024"))
    new = memory(page, "Ana moved to Lima in May")
    expect(new.locator(".memory-history")).to_contain_text("Still valid.")
    expect(new.locator(".memory-history")).to_contain_text("It replaced “Ana lives in Oslo”")
    old.get_by_role("button", name="Show it").click()  # to the memory that replaced it
    expect(new).to_be_focused()
    # the window only (the history cards in view): a full page runs past the docs' size goal
    page.screenshot(path=str(SHOTS / "memories.png"))

    # beliefs only: the successor (an episode) is not on the page, so it is fetched
    page.get_by_label("belief").check()
    expect(page.locator("article.memory")).to_have_count(2)
    expect(old.locator(".memory-history")).to_contain_text(
        "Superseded by “Ana moved to Lima in May”"
    )
    expect(old.get_by_role("button", name="Show it")).to_have_count(0)
    page.get_by_label("belief").uncheck()
    page.get_by_label("Include invalidated memories").uncheck()
    expect(page.locator("article.memory")).to_have_count(2)
    expect(old).to_have_count(0)
    page.get_by_label("Include invalidated memories").check()

    page.get_by_label("Search memories").fill("green tea")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Search results")).to_be_visible()
    first = page.locator("article.memory").first
    expect(first).to_contain_text("Ana drinks green tea every morning")
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        found = c.post(
            f"{w['url']}/search", json={"text": "green tea", "include_invalidated": True}
        ).json()["items"]
    assert found[0]["id"] == w["tea"]["id"]
    expect(first.get_by_test_id("score")).to_have_text(f"Score {found[0]['score']:.3f}")

    tea = memory(page, "Ana drinks green tea every morning")
    tea.get_by_role("button", name="Delete memory").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status").filter(has_text="Memory deleted.")).to_be_visible()
    expect(tea).to_have_count(0)
    page.get_by_role("button", name="Clear search").click()
    expect(page.locator("article.memory")).to_have_count(2)

    page.get_by_label("User").first.select_option(label="Ana")
    page.get_by_label("Content").fill("Ana is allergic to nuts")
    page.get_by_label("Entities").fill("Ana, nuts")
    page.get_by_role("button", name="Add memory").click()
    expect(memory(page, "Ana is allergic to nuts")).to_contain_text("Ana, nuts")
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        items = c.get(w["url"], params={"include_invalidated": True}).json()["items"]
    by_content = {m["content"]: m for m in items}
    assert "Ana drinks green tea every morning" not in by_content
    added = by_content["Ana is allergic to nuts"]
    assert added["user_id"] == w["user"]["id"] and added["type"] == "belief"
    assert [e["name"] for e in added["entities"]] == ["Ana", "nuts"]
    assert offline.errors == [] and offline.refused == []


def test_a_sessions_suggestions(
    offline: OfflineContext, live_url: str, api_key: str, live_settings: Settings
) -> None:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        agent = c.post("/agents", json={"name": "Sage"}).json()
        session = c.post(
            "/sessions", json={"agent": agent["id"], "situation": "Planning a trip"}
        ).json()
        dev = uuid.UUID(c.get("/me").json()["tenant_id"])
    sid, message = uuid.UUID(session["id"]), uuid.uuid4()
    rows = [
        {
            "id": uuid.uuid4(),
            "developer_id": dev,
            "session_id": sid,
            "target": target,
            "content": content,
            "message_id": message,
            "created_at": MOVED,
        }
        for target, content in (("user", "Ask about the weather"), ("agent", XSS))
    ]

    async def change(conn: AsyncConnection) -> None:
        await replace_suggestions(conn, dev, sid, message, rows)

    write_live(live_settings, change)
    page = signed_in(offline, live_url, api_key, f"/memories?agent={agent['id']}")
    expect(page.get_by_text("No memories here yet.")).to_be_visible()
    expect(page.get_by_label("Agent")).to_have_value(agent["id"])  # the URL's agent, shown
    page.get_by_label("Session").select_option(value=session["id"])
    listed = page.locator("ul.suggestions li")
    expect(listed).to_have_count(2)
    expect(listed.filter(has_text="Ask about the weather")).to_contain_text("user")
    expect(listed.filter(has_text="onerror")).to_contain_text("agent")  # as text
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("main img[src='x']").count() == 0


def test_markup_in_memories_is_shown_as_text(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        agent = c.post("/agents", json={"name": XSS}).json()
        url = f"/agents/{agent['id']}/memories"
        made = c.post(url, json={"content": XSS, "entities": [XSS], "type": "entity"})
        assert made.status_code == 201
    page = signed_in(offline, live_url, api_key, f"/memories?agent={agent['id']}")
    card = page.locator("article.memory")
    expect(card).to_have_count(1)
    expect(card.locator(".memory-content")).to_have_text(XSS)
    expect(card.locator("dl.facts")).to_contain_text("<script>window.__xss=2</script>")
    expect(page.get_by_label("Agent")).to_contain_text("onerror")  # the agent's name, as text
    page.get_by_label("Search memories").fill("onerror")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("score")).to_have_count(1)
    card.get_by_role("button", name="Delete memory").click()
    expect(page.get_by_role("dialog")).to_contain_text("<img src=x")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("main img[src='x'], main script").count() == 0
    assert offline.errors == []
