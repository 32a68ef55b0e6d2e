"""The console's chat, prompt inspector and history in a real browser: a session started
from the chat view, a reply streamed from the scripted model with the document it recalled,
tool steps, a reply stopped, the turn inspected, history shown and cleared, and markup in
messages and replies shown inert."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel
from tests.helpers.app import auth
from tests.helpers.browser import OfflineContext
from tests.helpers.console import screenshot, signed_in

MATH = {"name": "calc", "type": "integration", "integration": {"provider": "math"}}


def _api(live_url: str, api_key: str) -> httpx.Client:
    return httpx.Client(base_url=live_url, headers=auth(api_key), timeout=30)


def _agent(live_url: str, api_key: str, **extra: Any) -> dict[str, Any]:
    with _api(live_url, api_key) as c:
        agent = c.post("/agents", json={"name": "Librarian", **extra}).json()
        assert isinstance(agent, dict)
        return agent


def _send(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()


def test_a_new_session_streams_a_reply_with_what_it_recalled_and_the_turn_inspected(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    agent = _agent(live_url, api_key)
    with _api(live_url, api_key) as c:
        doc = {"title": "Opening hours", "content": "The library opens at nine every morning."}
        assert c.post(f"/agents/{agent['id']}/docs", json=doc).status_code == 201
    model.push("It opens at **nine**.")
    page = signed_in(offline, live_url, api_key, f"/chat?agent={agent['id']}")
    page.get_by_label("Situation").fill("A visitor asks about the library.")
    page.get_by_role("button", name="Start chatting").click()
    _send(page, "When does the library open?")
    reply = page.get_by_role("article", name="Reply")
    expect(reply.locator(".md strong")).to_have_text("nine")  # Markdown rendered
    expect(reply).to_contain_text("It opens at nine.")
    recalled = reply.locator(".recalled")
    expect(recalled).to_contain_text("Opening hours")
    expect(recalled).to_contain_text("score 0.")
    expect(reply.locator(".turn-facts")).to_contain_text("tokens in")
    expect(reply.locator(".turn-facts")).to_contain_text("first token")
    session_id = page.url.split("/chat/")[1]
    with _api(live_url, api_key) as c:
        entries = c.get(f"/sessions/{session_id}/history").json()["entries"]
    assert [(e["role"], e["content"]) for e in entries][-2:] == [
        ("user", "When does the library open?"),
        ("assistant", "It opens at **nine**."),
    ]
    screenshot(page, "chat")

    reply.get_by_role("link", name="Inspect").click()
    expect(page.get_by_role("heading", name="Prompt inspector")).to_be_visible()
    expect(page.locator("pre.prompt").first).to_contain_text("A visitor asks about the library.")
    expect(page.locator("table.phases")).to_contain_text("model")
    expect(page.locator("ol").filter(has_text="Opening hours").first).to_contain_text("score")
    expect(page.locator(".window")).to_contain_text("When does the library open?")
    screenshot(page, "inspector")
    assert offline.errors == [] and offline.refused == []


def test_tool_steps_are_collapsible_and_a_reply_can_be_stopped(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    agent = _agent(live_url, api_key)
    with _api(live_url, api_key) as c:
        assert c.post(f"/agents/{agent['id']}/tools", json=MATH).status_code == 201
        sid = c.post("/sessions", json={"agent": agent["id"], "auto_run_tools": True}).json()["id"]
    model.push([ToolCall("c1", "calc", '{"expression": "6 * 7"}')], "The answer is 42.")
    page = signed_in(offline, live_url, api_key, f"/chat/{sid}")
    _send(page, "What is six times seven?")
    reply = page.get_by_role("article", name="Reply")
    expect(reply).to_contain_text("The answer is 42.")
    call = reply.locator("details.step", has_text="Tool call: calc")
    result = reply.locator("details.step", has_text="Tool result")
    expect(call).to_have_count(1)
    expect(result.locator("pre")).not_to_be_visible()  # collapsed
    result.locator("summary").click()
    expect(result.locator("pre")).to_contain_text("42")

    model.stream_delay = 0.25
    model.push(" ".join(f"word{i}" for i in range(200)))
    _send(page, "Tell me a long story")
    last = page.get_by_role("article", name="Reply").last
    expect(last).to_contain_text("word2")
    page.get_by_role("button", name="Stop").click()
    expect(last).to_contain_text("Stopped.")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    assert "word199" not in last.inner_text()


def test_history_lists_and_clears_and_markup_stays_inert(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    agent = _agent(live_url, api_key)
    with _api(live_url, api_key) as c:
        sid = c.post("/sessions", json={"agent": agent["id"]}).json()["id"]
    model.push('Hi <img src=x onerror="window.__xss=1"> [click](javascript:window.__xss=3)')
    page = signed_in(offline, live_url, api_key, f"/chat/{sid}")
    _send(page, '<script>window.__xss=2</script><img src=x onerror="window.__xss=4">')
    reply = page.get_by_role("article", name="Reply")
    expect(reply).to_contain_text("Hi")
    expect(reply).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_role("article", name="user message")).to_contain_text("<script>")
    # the reply's Markdown is sanitised: an image may stay (the page's policy keeps images on
    # this server), its handler and any script may not; the user's text is text
    assert page.locator(".chat-log [onerror], .chat-log script").count() == 0
    assert page.get_by_role("article", name="user message").locator("img").count() == 0
    hrefs = page.locator(".chat-log a").evaluate_all("links => links.map(a => a.href)")
    assert not any(h.startswith("javascript:") for h in hrefs)
    assert page.evaluate("() => window.__xss") is None

    page.get_by_role("link", name="History").click()
    entries = page.locator("ol.history > li")
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("user")
    expect(entries.last.get_by_role("link", name="Inspect")).to_be_visible()
    screenshot(page, "history")
    page.get_by_role("button", name="Clear history").click()
    page.get_by_role("dialog").get_by_role("button", name="Clear").click()
    expect(page.get_by_text("No entries.")).to_be_visible()
    with _api(live_url, api_key) as c:
        assert c.get(f"/sessions/{sid}/history").json()["entries"] == []
    page.get_by_role("link", name="Sessions").click()
    expect(page.get_by_role("link", name=f"Session {sid[-8:]}")).to_be_visible()
    assert page.evaluate("() => window.__xss") is None
