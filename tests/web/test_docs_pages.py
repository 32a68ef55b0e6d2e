"""/docs (Swagger UI) and /redoc render offline, in a real browser.

Debian's chromium (``apt-get install chromium``; ``.ci/run`` installs it), driven by
Playwright for Python, loads the pages from a live uvicorn server with every request that
leaves loopback aborted, and must show the operation list. Without chromium the tests fail,
saying how to install it; set ``SPRIG_TEST_SKIP_BROWSER=1`` to skip them on a machine without
it (never honoured in CI, where ``CI=true``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
# The flags this machine's closed network needs (no background calls home at start).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
RENDER_TIMEOUT_MS = 30_000


def _no_browser() -> None:
    message = (
        f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
        "(apt-get install -y chromium)"
    )
    if os.environ.get("SPRIG_TEST_SKIP_BROWSER") == "1" and os.environ.get("CI") != "true":
        pytest.skip(message + "; skipped because SPRIG_TEST_SKIP_BROWSER=1")
    pytest.fail(message + "; set SPRIG_TEST_SKIP_BROWSER=1 to skip (not in CI)", pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _no_browser()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


class OfflineContext:
    """A browser context where every request off loopback is aborted and remembered."""

    def __init__(self, browser: Browser) -> None:
        self.context: BrowserContext = browser.new_context()
        self.requested: list[str] = []
        self.left_loopback: list[str] = []
        self.errors: list[str] = []
        self.refused: list[str] = []  # what the pages' Content-Security-Policy kept out
        self.context.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        url = route.request.url
        self.requested.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
            self.left_loopback.append(url)
            route.abort("internetdisconnected")
            return
        route.continue_()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.refused.append(message.text)

    def open(self, url: str) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda err: self.errors.append(str(err)))
        page.on("console", self._console)
        page.goto(url, wait_until="load")
        return page


@pytest.fixture
def offline(browser: Browser) -> Iterator[OfflineContext]:
    ctx = OfflineContext(browser)
    yield ctx
    ctx.context.close()


@pytest.mark.parametrize("prefix", ["", "/api"])
def test_swagger_ui_renders_offline(offline: OfflineContext, live_url: str, prefix: str) -> None:
    page = offline.open(f"{live_url}{prefix}/docs")
    operation = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/agents"])')
    operation.first.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    assert operation.locator(".opblock-summary-description").first.inner_text() == "List Agents"
    assert page.locator(".opblock").count() > 20  # the whole list, not one operation
    assets = [u for u in offline.requested if "/docs/assets/" in u]
    assert any(u.endswith(f"{prefix}/docs/assets/swagger-ui-bundle.js") for u in assets)
    assert any(u.endswith(f"{prefix}/openapi.json") for u in offline.requested)
    assert offline.left_loopback == []
    assert offline.errors == []
    assert offline.refused == []  # the policy keeps nothing Swagger UI needs out


@pytest.mark.parametrize("prefix", ["", "/api"])
def test_redoc_renders_offline(offline: OfflineContext, live_url: str, prefix: str) -> None:
    page = offline.open(f"{live_url}{prefix}/redoc")
    heading = page.locator("h2", has_text=re.compile(r"^\s*List Agents\s*$"))
    heading.first.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    assert page.locator("h2").count() > 20  # the whole list, not one operation
    assert page.get_by_text("/agents", exact=True).count() > 0
    assert any(u.endswith(f"{prefix}/docs/assets/redoc.standalone.js") for u in offline.requested)
    assert any(u.endswith(f"{prefix}/openapi.json") for u in offline.requested)
    assert offline.left_loopback == []
    assert offline.errors == []
    # ReDoc's menu asks for its maker's logo from a CDN; the policy refuses it, nothing else
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in r for r in offline.refused)
