"""The console's Tools tab of an agent: function tools with a JSON schema typed in the editor
(checked as an object before saving, a schema the API refuses shown in its words), api_call
and system tools, deleting with confirmation, and markup in a description shown as text."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.helpers.app import auth
from tests.helpers.browser import OfflineContext
from tests.helpers.console import json_editor, screenshot, signed_in

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def _agent(live_url: str, api_key: str, name: str = "Toolsmith") -> str:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        made = c.post("/agents", json={"name": name})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])


def _tools(live_url: str, api_key: str, agent_id: str) -> dict[str, dict[str, Any]]:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        listed = c.get(f"/agents/{agent_id}/tools")
        assert listed.status_code == 200, listed.text
        return {t["name"]: t for t in listed.json()["items"]}


def _tools_tab(offline: OfflineContext, live_url: str, api_key: str, agent_id: str) -> Page:
    page = signed_in(offline, live_url, api_key, f"/agents/{agent_id}?tab=tools")
    expect(page.get_by_role("heading", name="Tools", exact=True)).to_be_visible()
    return page


def _type_json(page: Page, label: str, text: str) -> None:
    json_editor(page, label).click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


def test_a_function_tool_with_a_typed_schema_is_stored(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    agent_id = _agent(live_url, api_key)
    page = _tools_tab(offline, live_url, api_key, agent_id)
    expect(page.get_by_text("This agent has no tools yet")).to_be_visible()
    page.get_by_label("Tool name").fill("lookup_book")
    page.get_by_label("Tool description").fill("Find a book by its title")
    _type_json(page, "Parameters schema", '{"type": "object", "properties": {"title": ')
    expect(page.get_by_text("The parameters schema is not valid JSON")).to_be_visible()
    expect(page.get_by_role("button", name="Add tool")).to_be_disabled()
    page.keyboard.type('{"type": "string"}}, "required": ["title"]}')
    page.get_by_role("button", name="Add tool").click()
    expect(page.get_by_role("status").filter(has_text="Added the tool lookup_book")).to_be_visible()
    row = page.locator("tr[data-tool='lookup_book']")
    expect(row).to_contain_text("function")
    expect(row).to_contain_text("Find a book by its title")
    expect(row).to_contain_text("parameters: title")
    stored = _tools(live_url, api_key, agent_id)["lookup_book"]
    assert stored["type"] == "function"
    assert stored["description"] == "Find a book by its title"
    assert stored["function"]["parameters"] == {
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
    }
    page.set_viewport_size({"width": 1200, "height": 900})
    screenshot(page, "tools")


def test_a_schema_that_is_not_an_object_waits_and_a_bad_schema_shows_the_api_error(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    agent_id = _agent(live_url, api_key)
    page = _tools_tab(offline, live_url, api_key, agent_id)
    page.get_by_label("Tool name").fill("broken")
    _type_json(page, "Parameters schema", '["title"]')
    expect(page.get_by_text("The parameters schema must be a JSON object")).to_be_visible()
    expect(page.get_by_role("button", name="Add tool")).to_be_disabled()
    _type_json(
        page, "Parameters schema", '{"type": "object", "properties": {"q": {"type": "strin"}}}'
    )
    page.get_by_role("button", name="Add tool").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Not added")
    expect(alert).to_contain_text("The tool's parameters schema is invalid at properties/q/type")
    assert _tools(live_url, api_key, agent_id) == {}
    page.get_by_label("Tool name").fill("has space")  # the API's validation words, too
    _type_json(page, "Parameters schema", "{}")
    page.get_by_role("button", name="Add tool").click()
    expect(page.get_by_role("alert")).to_contain_text("String should match pattern")
    assert _tools(live_url, api_key, agent_id) == {}


def test_api_call_and_system_tools_added_and_one_deleted(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    agent_id = _agent(live_url, api_key)
    page = _tools_tab(offline, live_url, api_key, agent_id)
    page.get_by_label("Tool type").select_option("api_call")
    page.get_by_label("Tool name").fill("weather")
    page.get_by_label("Tool description").fill("The weather in a city")
    page.get_by_label("HTTP method").select_option("POST")
    page.get_by_label("URL").fill("https://weather.example.com/cities/{city}")
    _type_json(page, "Headers", '{"X-Units": "metric"}')
    page.get_by_role("button", name="Add tool").click()
    expect(page.locator("tr[data-tool='weather']")).to_contain_text(
        "POST https://weather.example.com/cities/{city}"
    )

    page.get_by_label("Tool type").select_option("system")
    page.get_by_label("Tool name").fill("recent_history")
    page.get_by_label("Resource").select_option("session")
    page.get_by_label("Operation").select_option("history")
    page.get_by_role("button", name="Add tool").click()
    expect(page.locator("tr[data-tool='recent_history']")).to_contain_text("session.history")

    page.get_by_label("Tool type").select_option("system")
    page.get_by_label("Tool name").fill("search_docs")
    page.get_by_label("Resource").select_option("user")
    page.get_by_label("Operation").select_option("doc.search")
    page.get_by_role("button", name="Add tool").click()
    expect(page.locator("tr[data-tool='search_docs']")).to_contain_text("user.doc.search")

    tools = _tools(live_url, api_key, agent_id)
    assert tools["weather"]["type"] == "api_call"
    assert tools["weather"]["api_call"]["method"] == "POST"
    assert tools["weather"]["api_call"]["url"] == "https://weather.example.com/cities/{city}"
    assert tools["weather"]["api_call"]["headers"] == {"X-Units": "metric"}
    assert tools["recent_history"]["system"] == {"resource": "session", "operation": "history"}
    assert tools["search_docs"]["system"] == {
        "resource": "user",
        "subresource": "doc",
        "operation": "search",
    }

    page.get_by_role("button", name="Delete weather").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete the tool “weather”?")
    dialog.get_by_role("button", name="Cancel").click()
    assert "weather" in _tools(live_url, api_key, agent_id)
    page.get_by_role("button", name="Delete weather").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("tr[data-tool='weather']")).to_have_count(0)
    assert set(_tools(live_url, api_key, agent_id)) == {"recent_history", "search_docs"}


def test_markup_in_a_tool_description_is_text(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    agent_id = _agent(live_url, api_key)
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        made = c.post(
            f"/agents/{agent_id}/tools",
            json={"name": "probe", "type": "function", "description": XSS, "function": {}},
        )
        assert made.status_code == 201, made.text
    page = _tools_tab(offline, live_url, api_key, agent_id)
    expect(page.locator("tr[data-tool='probe']")).to_contain_text("onerror=")
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("main img[src='x']").count() == 0
    assert page.locator("main script").count() == 0
    assert offline.errors == []


def test_the_api_refuses_a_parameters_schema_that_is_not_a_schema_of_an_object(
    live_url: str, api_key: str
) -> None:
    agent_id = _agent(live_url, api_key)
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        for parameters, words in (
            ({"type": "string"}, "must describe an object"),
            ({"properties": {"q": {"type": 5}}}, "invalid at properties/q/type"),
            ({"type": "object", "required": "q"}, "invalid at required"),
        ):
            tool = {"name": "f", "type": "function", "function": {"parameters": parameters}}
            refused = c.post(f"/agents/{agent_id}/tools", json=tool)
            assert refused.status_code == 400, refused.text
            assert words in refused.json()["error"]["message"]
        fine = {"name": "f", "type": "function", "function": {"parameters": {}}}
        assert c.post(f"/agents/{agent_id}/tools", json=fine).status_code == 201


def test_a_tool_edited_in_the_form(offline: OfflineContext, live_url: str, api_key: str) -> None:
    agent_id = _agent(live_url, api_key)
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        tool = {
            "name": "lookup_book",
            "type": "function",
            "description": "Find a book",
            "function": {"parameters": {"type": "object", "properties": {"title": {}}}},
        }
        assert c.post(f"/agents/{agent_id}/tools", json=tool).status_code == 201
        hook = {
            "name": "ping",
            "type": "api_call",
            "api_call": {"method": "GET", "url": "https://example.com/ping"},
        }
        assert c.post(f"/agents/{agent_id}/tools", json=hook).status_code == 201
    page = _tools_tab(offline, live_url, api_key, agent_id)
    page.get_by_role("button", name="Edit lookup_book").click()
    expect(page.get_by_role("heading", name="Edit the tool lookup_book")).to_be_visible()
    expect(page.get_by_label("Tool description")).to_have_value("Find a book")
    page.get_by_label("Tool description").fill("Find a book by its title or author")
    _type_json(
        page,
        "Parameters schema",
        '{"type": "object", "properties": {"author": {"type": "string"}}}',
    )
    page.get_by_role("button", name="Save tool").click()
    row = page.locator("tr[data-tool='lookup_book']")
    expect(row).to_contain_text("Find a book by its title or author")
    expect(row).to_contain_text("parameters: author")
    expect(page.get_by_role("heading", name="Add a tool")).to_be_visible()  # the form is free again
    stored = _tools(live_url, api_key, agent_id)
    assert stored["lookup_book"]["description"] == "Find a book by its title or author"
    assert stored["lookup_book"]["function"]["parameters"]["properties"] == {
        "author": {"type": "string"}
    }
    assert len(stored) == 2  # edited in place, not added

    page.get_by_role("button", name="Edit ping").click()
    expect(page.get_by_label("URL")).to_have_value("https://example.com/ping")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="Add a tool")).to_be_visible()
    assert (
        _tools(live_url, api_key, agent_id)["ping"]["api_call"]["url"] == "https://example.com/ping"
    )
