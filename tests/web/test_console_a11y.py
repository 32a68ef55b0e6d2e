"""The console's accessibility check: axe-core (axe-playwright-python bundles it) run in the
page on each main view, in the light and the dark colour scheme; no violation of impact
"serious" or "critical" may remain. Views are listed in ``VIEWS``: add a new view there."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.jobs.service import enqueue
from sprig.server.memory.store import invalidate
from sprig.server.models.scripted import ScriptedModel
from sprig.server.settings import Settings
from tests.helpers.app import auth
from tests.helpers.browser import OfflineContext
from tests.helpers.console import go, open_console, screenshot, sign_in

BLOCKING = {"serious", "critical"}
SCHEMES = ("light", "dark")
AXE = Axe()


class View(NamedTuple):
    """A route to check (``{agent}``, ``{session}`` are filled in from the test's data), the
    heading that says it is there and a selector of what shows its data has loaded."""

    name: str
    path: str
    heading: str
    ready: str = "main"


# The main views.
VIEWS = [
    View("agents", "/agents", "Agents", "main table"),
    View("chat", "/chat/{session}", "Chat with Sage", ".msg.reply"),
    View("sessions", "/sessions", "Sessions", "main table"),
    View("session", "/sessions/{session}", "Session {session_short}", "main ol, main table"),
    View("prompt inspector", "/sessions/{session}/turns/{reply}", "Prompt inspector", "meter"),
    View("agent", "/agents/{agent}", "Sage", '.json-editor[data-ready="true"]'),
    View("new agent", "/agents/new", "New agent", '.json-editor[data-ready="true"]'),
    View("documents", "/documents", "Documents", "main select"),
    View("search playground", "/search", "Search playground", "main select"),
    View("memories", "/memories?agent={agent}", "Browse", "#suggestion-session"),
    View("jobs", "/jobs", "Jobs", "[data-testid=job]"),
]


def readable(violations: list[dict[str, Any]]) -> str:
    """axe's violations as lines a person can act on: rule, impact, help, where, why."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v.get('helpUrl', '')}>")
        for node in v["nodes"][:8]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n       ")
            lines.append(f"       {summary}")
    return "\n".join(lines)


def check(page: Page, where: str) -> None:
    results = AXE.run(page)
    found = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not found, f"accessibility violations on {where}:\n{readable(found)}"


def wait_ready(page: Page, view: View) -> None:
    expect(page.locator(view.ready).first).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
    page.wait_for_timeout(200)  # lists that load without a status line (a select's options)


def show(page: Page, view: View, data: dict[str, str]) -> None:
    """Go to the view and wait until its heading is there and its data has loaded."""
    go(page, view.path.format(**data))
    heading = view.heading.format(**data)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    wait_ready(page, view)


@pytest.fixture
def data(
    live_url: str, api_key: str, live_settings: Settings, model: ScriptedModel
) -> dict[str, str]:
    """An agent with a user's memories (one superseded), a session with a turn, some jobs."""
    from tests.helpers.live_db import write_live

    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        agent = c.post("/agents", json={"name": "Sage", "about": "Helps"}).json()
        user = c.post("/users", json={"name": "Ana"}).json()
        session = c.post("/sessions", json={"agent": agent["id"], "user": user["id"]}).json()
        url = f"/agents/{agent['id']}/memories"
        old, new = (
            c.post(url, json={"content": text, "user_id": user["id"], "entities": ["Ana"]}).json()
            for text in ("Ana lives in Oslo", "Ana lives in Lima")
        )
        dev = uuid.UUID(c.get("/me").json()["tenant_id"])
        model.push("Hello, **Ana**.")
        turn = {"messages": [{"role": "user", "content": "Hello"}]}
        reply = c.post(f"/sessions/{session['id']}/chat", json=turn).json()
    at = datetime(2024, 5, 1, tzinfo=UTC)

    async def change(conn: AsyncConnection) -> None:
        await invalidate(conn, dev, uuid.UUID(old["id"]), uuid.UUID(new["id"]), at, at)
        job = await enqueue(conn, dev, "embed_docs", {}, name="Embed", delay_seconds=3600)
        await enqueue(conn, dev, "form_memories", {}, name="Form", delay_seconds=3600)
        assert job["state"] == "pending"

    write_live(live_settings, change)
    ids = {"agent": agent["id"], "session": session["id"], "reply": reply["id"]}
    return ids | {"session_short": session["id"][-8:]}


@pytest.fixture(params=SCHEMES)
def scheme_context(request: pytest.FixtureRequest, browser: Browser) -> Iterator[OfflineContext]:
    ctx = OfflineContext(browser, color_scheme=request.param)
    yield ctx
    ctx.context.close()


def test_sign_in_page(scheme_context: OfflineContext, live_url: str) -> None:
    page = open_console(scheme_context, live_url)
    expect(page.get_by_label("API key")).to_be_visible()
    check(page, "the sign-in page")
    page.get_by_label("API key").fill("sk-wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check(page, "the sign-in page with its error")


def test_main_views(
    scheme_context: OfflineContext, live_url: str, api_key: str, data: dict[str, str]
) -> None:
    page = open_console(scheme_context, live_url)
    sign_in(page, api_key)
    for view in VIEWS:
        show(page, view, data)
        check(page, f"{view.name} ({view.path})")


def test_the_check_finds_violations(offline: OfflineContext, live_url: str) -> None:
    """The check can fail: a nameless button and grey-on-grey text are caught and named."""
    page = open_console(offline, live_url)
    expect(page.get_by_label("API key")).to_be_visible()
    page.evaluate(
        """() => {
          const main = document.querySelector("main");
          main.append(document.createElement("button"));
          const faint = document.createElement("p");
          faint.textContent = "hard to read";
          faint.className = "muted";
          main.append(faint);
          document.styleSheets[0].insertRule(".muted { color: #bbb !important; background: #fff; }");
        }"""
    )
    with pytest.raises(AssertionError) as failed:
        check(page, "a page with faults")
    assert "button-name (critical)" in str(failed.value)
    assert "color-contrast (serious)" in str(failed.value)


def test_main_views_fit_a_phone(
    browser: Browser, live_url: str, api_key: str, data: dict[str, str]
) -> None:
    """At 390 px wide nothing runs off the screen (wide tables scroll in their own box)."""
    phone = OfflineContext(browser, viewport={"width": 390, "height": 800}, is_mobile=True)
    try:
        page = open_console(phone, live_url)
        sign_in(page, api_key)
        for view in VIEWS:
            show(page, view, data)
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{view.name} is {width} px wide"
            check(page, f"{view.name} on a phone")
            if view.name in ("memories", "jobs"):
                screenshot(page, f"{view.name}-phone")
    finally:
        phone.context.close()
