"""The Sprig Console's chat, prompt inspector and sessions views in a real browser, against
the scripted model: a session made from the chat view and a reply seen streaming (and kept
in history), Stop, tool steps, recalled docs and memories with scores and the server's time
(live and from history), the prompt preview, the inspector, history listed and cleared, and
markup in replies and messages shown inert."""

from __future__ import annotations

import math
import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel
from tests.helpers.app import auth
from tests.helpers.browser import OfflineContext
from tests.helpers.console import go, json_editor, screenshot, signed_in
from tests.web.test_console_a11y import check as axe_check

MATH = {"name": "calc", "type": "integration", "integration": {"provider": "math"}}


def _client(live_url: str, api_key: str) -> httpx.Client:
    return httpx.Client(base_url=live_url, headers=auth(api_key))


def _agent(c: httpx.Client, name: str = "Guide", **extra: Any) -> dict[str, Any]:
    r = c.post("/agents", json={"name": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _session(c: httpx.Client, agent_id: str, **extra: Any) -> str:
    r = c.post("/sessions", json={"agent": agent_id, **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _send(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()


def _last_reply(page: Page) -> Any:
    return page.get_by_role("article", name="Reply").last


def test_a_session_made_in_the_chat_view_streams_a_reply_kept_in_history(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with _client(live_url, api_key) as c:
        agent = _agent(c, "Librarian")
        user = c.post("/users", json={"name": "Ana"}).json()
    page = signed_in(offline, live_url, api_key, f"/chat?agent={agent['id']}")
    expect(page.get_by_label("Agent")).to_have_value(agent["id"])
    expect(page.get_by_text("No sessions with this agent yet.")).to_be_visible()
    page.get_by_label("User").select_option(label="Ana")
    page.get_by_label("Situation").fill("A reader asks about opening hours.")
    page.get_by_label("Context overflow").select_option("summarize")
    page.get_by_label("Token budget").fill("2000")
    page.get_by_role("button", name="Start session").click()
    expect(page.get_by_role("heading", name="Chat with Librarian")).to_be_visible()
    sid = page.url.rsplit("/", 1)[1]
    with _client(live_url, api_key) as c:
        made = c.get(f"/sessions/{sid}").json()
    assert made["agent_id"] == agent["id"] and made["user_id"] == user["id"]
    assert made["situation"] == "A reader asks about opening hours."
    assert made["context_overflow"] == "summarize" and made["token_budget"] == 2000

    model.stream_delay = 0.25  # word by word, slowly enough to watch
    model.push("We open at **nine** and close at six every weekday.")
    _send(page, "When do you open?")
    reply = _last_reply(page)
    # mid-stream: the first words are there, not the last, and Stop is offered
    expect(reply).to_contain_text("We open")
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    assert "weekday" not in reply.inner_text()
    expect(reply).to_contain_text("close at six every weekday.")
    expect(reply.locator("strong", has_text="nine")).to_be_visible()  # markdown
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(reply).to_contain_text("First token")
    expect(reply).to_contain_text(re.compile(r"Tokens: \d+ in, \d+ out"))
    expect(reply).to_contain_text("Total")
    screenshot(page, "chat")
    with _client(live_url, api_key) as c:
        entries = c.get(f"/sessions/{sid}/history").json()["entries"]
    assert [e["role"] for e in entries] == ["user", "assistant"]
    assert "When do you open?" in str(entries[0]["content"])
    assert "close at six every weekday." in str(entries[1]["content"])
    href = reply.get_by_role("link", name="Inspect").get_attribute("href")
    assert href == f"#/sessions/{sid}/turns/{entries[-1]['id']}"

    # opening the session again loads its history; it is listed under the agent
    go(page, f"/chat?agent={agent['id']}")
    page.get_by_role("link", name=re.compile("A reader asks")).click()
    expect(page.get_by_role("article", name="You")).to_contain_text("When do you open?")
    expect(_last_reply(page)).to_contain_text("every weekday")


def test_stop_aborts_a_streaming_reply(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with _client(live_url, api_key) as c:
        sid = _session(c, _agent(c)["id"])
    page = signed_in(offline, live_url, api_key, f"/chat/{sid}")
    model.stream_delay = 0.3
    model.push(" ".join(f"word{i}" for i in range(60)))
    _send(page, "Talk at length")
    expect(_last_reply(page)).to_contain_text("word1")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("status")).to_have_text("Stopped.")
    expect(_last_reply(page)).to_contain_text("Stopped.")
    page.wait_for_timeout(700)
    assert "word59" not in _last_reply(page).inner_text()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()  # empty box
    page.get_by_role("textbox", name="Message").fill("again")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def test_tool_steps_are_collapsible(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with _client(live_url, api_key) as c:
        agent = _agent(c, "Tooly")
        assert c.post(f"/agents/{agent['id']}/tools", json=MATH).status_code == 201
        sid = _session(c, agent["id"], auto_run_tools=True)
    page = signed_in(offline, live_url, api_key, f"/chat/{sid}")
    model.push([ToolCall("c1", "calc", '{"expression": "6 * 7"}')], "The answer is 42.")
    _send(page, "What is six times seven?")
    reply = _last_reply(page)
    expect(reply).to_contain_text("The answer is 42.")
    call = reply.locator("details", has_text="Tool call: calc")
    result = reply.locator("details", has_text="Tool result")
    expect(call).to_have_count(1)
    expect(result).to_have_count(1)
    expect(call.locator("pre")).to_be_hidden()  # closed until opened
    call.locator("summary").click()
    expect(call.locator("pre")).to_contain_text('"expression": "6 * 7"')
    result.locator("summary").focus()
    page.keyboard.press("Enter")  # by keyboard too
    expect(result.locator("pre")).to_contain_text("42")
    # the same steps come back from history
    page.reload()
    expect(_last_reply(page).locator("details", has_text="Tool call: calc")).to_have_count(1)
    expect(_last_reply(page).locator("details", has_text="Tool result")).to_have_count(1)


def test_recalled_docs_are_shown_with_their_scores(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with _client(live_url, api_key) as c:
        agent = _agent(c)
        for title, content in (
            ("Wifi", "The office wifi password is heron-42-blue."),
            ("Lunch", "The canteen serves lunch from noon to two."),
        ):
            doc = {"title": title, "content": content}
            assert c.post(f"/agents/{agent['id']}/docs", json=doc).status_code == 201
        sid = _session(c, agent["id"])
    page = signed_in(offline, live_url, api_key, f"/chat/{sid}")
    model.push("It is heron-42-blue.")
    _send(page, "What is the wifi password?")
    reply = _last_reply(page)
    expect(reply).to_contain_text("heron-42-blue")
    recalled = reply.locator("details.recalled")
    recalled.locator("summary").click()
    with _client(live_url, api_key) as c:
        entries = c.get(f"/sessions/{sid}/history").json()["entries"]
        trace = c.get(f"/sessions/{sid}/turns/{entries[-1]['id']}/trace").json()
    wifi = next(d for d in trace["recall"]["docs"] if d["title"] == "Wifi")
    item = recalled.get_by_role("listitem").filter(has_text="Wifi")
    expect(item).to_contain_text(f"score {wifi['score']:.3f}")
    expect(item).to_contain_text("heron-42-blue")


def test_recalled_memories_usage_and_server_time_under_replies_also_from_history(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with _client(live_url, api_key) as c:
        agent = _agent(c, "Skipper")
        ana = c.post("/users", json={"name": "Ana"}).json()
        memory = {"content": "Ana sails at dawn on Saturdays.", "user_id": ana["id"]}
        assert c.post(f"/agents/{agent['id']}/memories", json=memory).status_code == 201
        doc = {"title": "Tides", "content": "High tide at Porto is at 06:12."}
        assert c.post(f"/agents/{agent['id']}/docs", json=doc).status_code == 201
        sid = _session(c, agent["id"], user=ana["id"])
    page = signed_in(offline, live_url, api_key, f"/chat/{sid}")
    model.push("Go at dawn: high tide is at 06:12.")
    _send(page, "When should Ana sail? When is high tide?")
    reply = _last_reply(page)
    expect(reply).to_contain_text("high tide is at 06:12")
    with _client(live_url, api_key) as c:
        entries = c.get(f"/sessions/{sid}/history").json()["entries"]
        trace = c.get(f"/sessions/{sid}/turns/{entries[-1]['id']}/trace").json()
    [remembered] = trace["recall"]["memories"]
    assert remembered["content"] == "Ana sails at dawn on Saturdays."

    def check(reply: Any, live: bool) -> None:
        recalled = reply.locator("details.recalled")
        expect(recalled.locator("summary")).to_have_text(
            re.compile(r"Recalled: \d+ docs?, 1 memory")
        )
        recalled.locator("summary").click()
        memories = recalled.get_by_role("list", name="Recalled memories")
        expect(memories).to_contain_text("Ana sails at dawn on Saturdays.")
        expect(memories).to_contain_text(f"score {remembered['score']:.3f}")
        docs = recalled.get_by_role("list", name="Recalled docs")
        expect(docs.get_by_role("listitem").filter(has_text="Tides")).to_contain_text("score")
        usage = trace["usage"]
        expect(reply).to_contain_text(
            f"Tokens: {usage['prompt_tokens']} in, {usage['completion_tokens']} out"
        )
        took = trace["duration_ms"]
        expect(reply).to_contain_text(
            f"Server {math.floor(took + 0.5)} ms" if took >= 10 else "Server"
        )
        expect(reply).to_contain_text("model ")
        if live:  # measured in this browser, only while watching the reply come
            expect(reply).to_contain_text("First token")
        else:
            expect(reply).not_to_contain_text("First token")

    check(reply, live=True)
    screenshot(page, "chat-recalled")
    page.reload()  # from the session's history and its stored traces
    check(_last_reply(page), live=False)


def test_the_prompt_preview_renders_without_sending(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with _client(live_url, api_key) as c:
        agent = _agent(c, "Porter", instructions="Speak like a hotel porter.")
        assert c.post(f"/agents/{agent['id']}/tools", json=MATH).status_code == 201
        doc = {"title": "Luggage", "content": "Luggage may be left in room 4 until noon."}
        assert c.post(f"/agents/{agent['id']}/docs", json=doc).status_code == 201
        sid = _session(c, agent["id"])
    page = signed_in(offline, live_url, api_key, f"/chat/{sid}")
    preview_button = page.get_by_role("button", name="Preview prompt")
    expect(preview_button).to_be_disabled()  # nothing to render yet
    page.get_by_role("textbox", name="Message").fill("Where can I leave my luggage?")
    preview_button.click()
    preview = page.get_by_role("region", name="Prompt preview")
    expect(preview.get_by_role("heading", name="Prompt preview")).to_be_focused()
    expect(preview.locator("pre.system-prompt")).to_contain_text("Speak like a hotel porter.")
    expect(preview.get_by_role("heading", name="Message window (1)")).to_be_visible()
    expect(preview).to_contain_text("Where can I leave my luggage?")
    expect(preview.get_by_role("heading", name="Docs (1)")).to_be_visible()
    expect(preview.get_by_role("listitem").filter(has_text="Luggage")).to_contain_text("score")
    expect(preview.get_by_role("heading", name="Tools (1)")).to_be_visible()
    expect(preview).to_contain_text("calc")
    with _client(live_url, api_key) as c:
        assert c.get(f"/sessions/{sid}/history").json()["entries"] == []
        rendered = c.post(
            f"/sessions/{sid}/render",
            json={"messages": [{"role": "user", "content": "Where can I leave my luggage?"}]},
        ).json()
    assert model.requests == []  # rendered, not sent
    expect(preview).to_contain_text(rendered["model"])
    screenshot(page, "chat-prompt-preview")
    axe_check(page, "the chat's prompt preview")
    page.set_viewport_size({"width": 390, "height": 800})  # a phone's width
    expect(preview.locator("pre.system-prompt")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 391
    page.set_viewport_size({"width": 1280, "height": 800})
    # a schema that is not JSON is refused before asking the server
    page.get_by_label("JSON with a schema").check()
    schema = json_editor(page, "JSON schema")
    schema.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("{not json")
    preview_button.click()
    expect(page.get_by_role("alert")).to_contain_text("The JSON schema is not valid JSON")
    page.get_by_label("Text").check()
    preview_button.click()
    page.get_by_role("button", name="Close the preview").click()
    expect(page.get_by_role("region", name="Prompt preview")).to_have_count(0)
    # sending closes a preview
    preview_button.click()
    expect(page.get_by_role("region", name="Prompt preview")).to_be_visible()
    model.push("Room 4, until noon.")
    page.get_by_role("button", name="Send").click()
    expect(_last_reply(page)).to_contain_text("Room 4, until noon.")
    expect(page.get_by_role("region", name="Prompt preview")).to_have_count(0)


def test_the_inspector_shows_the_prompt_recall_tools_and_phases(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with _client(live_url, api_key) as c:
        agent = _agent(c, "Clerk", instructions="Always answer as the night clerk.")
        assert c.post(f"/agents/{agent['id']}/tools", json=MATH).status_code == 201
        doc = {"title": "Keys", "content": "Spare keys hang behind the front desk."}
        assert c.post(f"/agents/{agent['id']}/docs", json=doc).status_code == 201
        sid = _session(c, agent["id"], auto_run_tools=True)
    page = signed_in(offline, live_url, api_key, f"/chat/{sid}")
    page.get_by_label("JSON with a schema").check()
    schema = json_editor(page, "JSON schema")
    schema.click()
    page.keyboard.press("Control+a")
    page.keyboard.type('{"type": "object", "properties": {"where": {"type": "string"}}}')
    model.push(
        [ToolCall("c1", "calc", '{"expression": "2 + 2"}')],
        '{"where": "behind the front desk"}',
    )
    _send(page, "Where are the spare keys?")
    reply = _last_reply(page)
    # the reply's own text (the recalled doc under it says "behind the front desk" too)
    expect(reply.locator(".md").first).to_contain_text('"where": "behind the front desk"')
    expect(reply.get_by_role("link", name="Inspect")).to_be_visible()  # the turn is over
    sent = model.requests[-1]
    assert sent.response_format is not None and sent.response_format["type"] == "json_schema"
    assert "where" in str(sent.response_format)
    reply.get_by_role("link", name="Inspect").click()
    expect(page.get_by_role("heading", name="Prompt inspector")).to_be_visible()
    system = page.get_by_role("region", name="System prompt")
    expect(system).to_contain_text("Always answer as the night clerk.")
    window = page.get_by_role("region", name=re.compile("Message window"))
    expect(window).to_contain_text("Where are the spare keys?")
    recalled = page.get_by_role("region", name="Recalled")
    expect(recalled).to_contain_text("Keys")
    expect(recalled).to_contain_text(re.compile(r"score \d\.\d{3}"))
    tools = page.get_by_role("region", name="Tools")
    expect(tools).to_contain_text("calc")
    expect(tools.locator("details", has_text="Tool call: calc")).to_have_count(1)
    phases = page.get_by_role("list", name="Phase timings")
    expect(phases.locator("meter").first).to_be_attached()
    entry_id = page.url.rsplit("/", 1)[1]
    with _client(live_url, api_key) as c:
        trace = c.get(f"/sessions/{sid}/turns/{entry_id}/trace").json()
    names = [p["name"] for p in trace["phases"]]
    assert "model" in names
    expect(phases.locator("meter")).to_have_count(len(names))
    for name in set(names):
        expect(phases).to_contain_text(name)
    expect(page.get_by_text(trace["model"], exact=True).first).to_be_visible()
    screenshot(page, "inspector")
    go(page, f"/sessions/{sid}/turns/{sid}")  # not a turn: the API's words
    expect(page.get_by_role("alert")).to_contain_text("No trace of a turn answered by entry")


def test_sessions_listed_by_agent_and_user_history_shown_and_cleared(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with _client(live_url, api_key) as c:
        guide, other = _agent(c, "Guide"), _agent(c, "Other")
        ana = c.post("/users", json={"name": "Ana"}).json()
        sid = _session(c, guide["id"], user=ana["id"], situation="Museum tour")
        other_sid = _session(c, other["id"], situation="Elsewhere")
        model.push("The east wing opens at ten.", "The cafe is upstairs.")
        for text in ("When does the east wing open?", "Where is the cafe?"):
            body = {"messages": [{"role": "user", "content": text}]}
            assert c.post(f"/sessions/{sid}/chat", json=body).status_code == 201
        entries = c.get(f"/sessions/{sid}/history").json()["entries"]
    page = signed_in(offline, live_url, api_key, "/sessions")
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)  # a header and two sessions
    page.get_by_label("Agent").select_option(label="Guide")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table).to_contain_text("Museum tour")
    expect(table).not_to_contain_text("Elsewhere")
    page.get_by_label("Agent").select_option(label="Any agent")
    page.get_by_label("User").select_option(label="Ana")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table).to_contain_text("Ana")
    table.get_by_role("link", name=f"Session {sid[-8:]}").click()

    expect(page.get_by_role("heading", name="History (4 entries)")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts.get_by_role("link", name="Guide")).to_have_attribute(
        "href", f"#/agents/{guide['id']}"
    )
    expect(facts).to_contain_text("Ana")
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(5)
    for i, entry in enumerate(entries, start=1):
        row = rows.nth(i)
        expect(row).to_contain_text(entry["role"])
        expect(row).to_contain_text(entry["source"])
        expect(row.get_by_role("cell").nth(3)).to_have_text(str(entry["token_count"]))
    expect(rows.nth(1)).to_contain_text("When does the east wing open?")
    expect(rows.nth(4)).to_contain_text("The cafe is upstairs.")
    inspect = rows.nth(4).get_by_role("link", name="Inspect")
    assert inspect.get_attribute("href") == f"#/sessions/{sid}/turns/{entries[3]['id']}"
    screenshot(page, "sessions")

    page.get_by_role("button", name="Clear history").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    with _client(live_url, api_key) as c:
        assert len(c.get(f"/sessions/{sid}/history").json()["entries"]) == 4
    page.get_by_role("button", name="Clear history").click()
    page.get_by_role("dialog").get_by_role("button", name="Clear").click()
    expect(page.get_by_role("status")).to_have_text("History cleared.")
    expect(page.get_by_role("heading", name="History (0 entries)")).to_be_visible()
    with _client(live_url, api_key) as c:
        assert c.get(f"/sessions/{sid}/history").json()["entries"] == []
        assert c.get(f"/sessions/{sid}").status_code == 200

    page.get_by_role("button", name="Delete session").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    expect(page.get_by_role("table")).not_to_contain_text("Museum tour")
    with _client(live_url, api_key) as c:
        assert c.get(f"/sessions/{sid}").status_code == 404
        assert c.get(f"/sessions/{other_sid}").status_code == 200


def test_a_summary_shows_what_it_replaced(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with _client(live_url, api_key) as c:
        sid = _session(c, _agent(c)["id"], context_overflow="summarize", token_budget=60)
        model.fallback = "Noted, " + "and so on " * 3
        for i in range(6):
            body = {"messages": [{"role": "user", "content": f"Fact number {i}: " + "blah " * 8}]}
            assert c.post(f"/sessions/{sid}/chat", json=body).status_code == 201
        history = c.get(f"/sessions/{sid}/history").json()
    summaries = [e for e in history["entries"] if e["source"] == "summarizer"]
    relations = [r for r in history["relations"] if r["relation"] == "summary_of"]
    assert summaries and relations  # "summarize" folds the oldest span within the turn
    page = signed_in(offline, live_url, api_key, f"/sessions/{sid}")
    summary_row = page.get_by_role("row").filter(has_text="summarizer").first
    covered = [r for r in relations if r["head"] == summaries[0]["id"]]
    expect(summary_row).to_contain_text(f"Summary replacing {len(covered)} entries")
    expect(page.get_by_role("row").filter(has_text="Replaced by the summary")).to_have_count(
        len(relations)
    )


XSS_REPLY = (
    'Look: <img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script> '
    '[click me](javascript:window.__xss=3) <a href="javascript:window.__xss=4">link</a>'
)
XSS_MESSAGE = '<img src=x onerror="window.__xss=5"><b id="injected">bold</b>'


def test_markup_in_replies_and_messages_is_inert(
    offline: OfflineContext, live_url: str, api_key: str, model: ScriptedModel
) -> None:
    with _client(live_url, api_key) as c:
        sid = _session(c, _agent(c)["id"])
    page = signed_in(offline, live_url, api_key, f"/chat/{sid}")
    page.set_viewport_size({"width": 390, "height": 800})  # a phone's width
    model.push(XSS_REPLY)
    _send(page, XSS_MESSAGE)
    reply = _last_reply(page)
    expect(reply.get_by_role("link", name="Inspect")).to_be_visible()
    expect(page.get_by_role("article", name="You")).to_contain_text(XSS_MESSAGE)  # as text
    assert page.locator("#injected").count() == 0
    assert page.locator("main img").count() == 0 or all(
        img.get_attribute("onerror") is None for img in page.locator("main img").all()
    )
    assert page.locator("main script").count() == 0
    for link in reply.locator("a").all():
        assert not (link.get_attribute("href") or "").lower().startswith("javascript:")
    for name in ("click me", "link"):
        links = reply.get_by_role("link", name=name)
        if links.count():
            links.first.click()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 391
    screenshot(page, "chat-narrow")
    # the same text from history, in the chat and in the session's page
    page.reload()
    expect(_last_reply(page)).to_contain_text("Look:")
    assert page.locator("#injected").count() == 0
    go(page, f"/sessions/{sid}")
    expect(page.get_by_role("table")).to_contain_text('<b id="injected">')
    assert page.locator("#injected").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__xss") is None
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 390 + 1, overflow
