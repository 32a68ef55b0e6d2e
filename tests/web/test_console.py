"""The Sprig Console in a real browser: served offline under a strict policy, sign-in and
sign-out, the API's own error for a wrong key, agents made, edited and deleted, and markup
in names and metadata shown as text."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from sprig.server.console.routes import STATIC
from sprig.server.settings import Settings
from tests.helpers.app import auth, build_app, make_settings
from tests.helpers.browser import OfflineContext
from tests.helpers.console import json_editor, open_console, screenshot, sign_in, signed_in
from tests.helpers.live_db import revoke_live
from tests.helpers.servers import serve

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
BUDGET = 300 * 1024  # the goal for the console's assets, compressed


def no_script_ran(page: Page) -> None:
    assert page.evaluate("() => window.__xss") is None


def test_served_at_console_with_a_strict_policy(live_url: str) -> None:
    with httpx.Client(base_url=live_url) as c:
        for start in ("/", "/console", "/api/console"):
            moved = c.get(start)
            assert moved.status_code == 307
            assert moved.headers["location"].endswith("/console/")
        page = c.get("/console/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        script = c.get("/console/static/vendor/vendor.js", headers={"accept-encoding": "gzip"})
        assert script.status_code == 200 and script.headers["content-encoding"] == "gzip"
        assert c.get("/api/console/").status_code == 200  # under the 2.x SDKs' /api too
        assert c.get("/console/static/../../settings.py").status_code == 404


def test_assets_fit_the_budget() -> None:
    files = [p for p in STATIC.rglob("*") if p.is_file() and p.name != "LICENSES.txt"]
    compressed = sum(len(gzip.compress(p.read_bytes(), 9)) for p in files)
    assert compressed <= BUDGET, f"{compressed} bytes compressed"


def test_switched_off(tmp_path: Path) -> None:
    settings: Settings = make_settings(tmp_path / "data", console=False)
    with serve(build_app(settings)) as url, httpx.Client(base_url=url) as c:
        assert c.get("/console/").status_code == 404
        assert c.get("/").status_code == 404


def test_sign_in_shows_the_tenant_and_keeps_the_key_in_the_tab(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    page = open_console(offline, live_url)
    screenshot(page, "sign-in")
    sign_in(page, api_key)
    expect(page.get_by_test_id("tenant")).to_contain_text("default")
    assert page.evaluate("() => sessionStorage.getItem('sprig.console.key')") == api_key
    assert page.evaluate("() => JSON.stringify(localStorage)").find(api_key) == -1
    assert page.context.cookies() == []
    assert all(api_key not in url for url in offline.requested)
    page.reload()  # the tab keeps it
    expect(page.get_by_test_id("tenant")).to_contain_text("default")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('sprig.console.key')") is None
    assert offline.left_loopback == [] and offline.errors == [] and offline.refused == []


def test_a_key_revoked_while_signed_in_returns_to_sign_in(
    offline: OfflineContext, tmp_path: Path, api_key: str
) -> None:
    settings = make_settings(tmp_path / "data", auth_cache_seconds=0)
    with serve(build_app(settings)) as url:
        with httpx.Client(base_url=url, headers=auth(api_key)) as c:
            c.post("/agents", json={"name": "Kept"})
        page = signed_in(offline, url, api_key, "/agents")
        expect(page.get_by_role("link", name="Kept")).to_be_visible()
        assert revoke_live(settings, "default") == 1
        page.get_by_role("link", name="New agent").click()  # its model list is refused
        expect(page.get_by_label("API key")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("Could not validate API key")
        assert page.evaluate("() => sessionStorage.getItem('sprig.console.key')") is None


def test_a_wrong_key_shows_the_api_error(offline: OfflineContext, live_url: str) -> None:
    page = open_console(offline, live_url)
    page.get_by_label("API key").fill("sk-not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Could not validate API key")
    expect(page.get_by_label("API key")).to_be_visible()


def test_agents_made_edited_and_deleted(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    page = signed_in(offline, live_url, api_key, "/agents")
    page.get_by_role("link", name="New agent").click()
    page.get_by_label("Name").fill("Librarian")
    page.get_by_label("About").fill("Finds books")
    page.get_by_label("Instructions").fill("Answer briefly.")
    json_editor(page, "Metadata").click()
    page.keyboard.press("Control+a")
    page.keyboard.type('{"team": ')  # not JSON yet: saving waits
    expect(page.get_by_text("Metadata is not valid JSON")).to_be_visible()
    expect(page.get_by_role("button", name="Create agent")).to_be_disabled()
    page.keyboard.type('"search"}')
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("heading", name="Librarian")).to_be_visible()
    agent_id = page.url.rsplit("/", 1)[1]
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        made = c.get(f"/agents/{agent_id}").json()
    assert made["metadata"] == {"team": "search"} and made["about"] == "Finds books"

    page.get_by_label("About").fill("Finds and lends books")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    screenshot(page, "agent")
    page.get_by_role("link", name="Agents").click()
    expect(page.get_by_role("cell", name="Finds and lends books")).to_be_visible()
    page.get_by_label("Search").fill("nothing like it")
    expect(page.get_by_role("link", name="Librarian")).to_have_count(0)
    page.get_by_label("Search").fill("libr")
    screenshot(page, "agents")
    page.get_by_role("link", name="Librarian").click()
    page.get_by_role("button", name="Delete agent").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Agents")).to_be_visible()
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        assert c.get(f"/agents/{agent_id}").status_code == 404


def test_markup_in_names_and_metadata_is_shown_as_text(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        agent = c.post("/agents", json={"name": XSS, "about": XSS, "metadata": {"x": XSS}}).json()
    page = signed_in(offline, live_url, api_key, "/agents")
    expect(page.get_by_role("link", name=XSS)).to_be_visible()
    page.get_by_role("link", name=XSS).click()
    expect(page.get_by_role("heading", name=XSS)).to_be_visible()
    expect(page.locator(".json-editor").last).to_contain_text("onerror")  # as text
    no_script_ran(page)
    assert page.locator("main img[src='x']").count() == 0
    assert agent["name"] == XSS
    assert offline.errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_sized_in_both_themes(
    browser: object, live_url: str, api_key: str, scheme: str
) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    phone = OfflineContext(
        browser, viewport={"width": 390, "height": 800}, color_scheme=scheme, is_mobile=True
    )
    try:
        page = signed_in(phone, live_url, api_key, "/agents")
        expect(page.get_by_role("heading", name="Agents")).to_be_visible()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390  # nothing runs off a phone's screen
        screenshot(page, f"agents-phone-{scheme}")
    finally:
        phone.context.close()
