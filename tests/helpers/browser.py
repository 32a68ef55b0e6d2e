"""A real headless browser for the web tests: Debian's chromium driven by Playwright.

Debian's chromium (``apt-get install chromium``; ``.ci/run`` installs it), never a browser
Playwright downloads. Without it the tests fail, saying how to install it; set
``SPRIG_TEST_SKIP_BROWSER=1`` to skip them on a machine without it (never honoured in CI,
where ``CI=true``). ``OfflineContext`` aborts and records every request that leaves loopback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def launched_browser() -> Iterator[Browser]:
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

    def __init__(self, browser: Browser, **options: object) -> None:
        self.context: BrowserContext = browser.new_context(**options)  # type: ignore[arg-type]
        self.requested: list[str] = []
        self.left_loopback: list[str] = []
        self.errors: list[str] = []
        self.refused: list[str] = []  # what the pages' Content-Security-Policy kept out
        self.console_errors: list[str] = []  # every error the pages logged
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
        if message.type == "error":
            self.console_errors.append(message.text)
        if message.type == "error" and "Content Security Policy" in message.text:
            self.refused.append(message.text)

    def open(self, url: str) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda err: self.errors.append(str(err)))
        page.on("console", self._console)
        page.goto(url, wait_until="load")
        return page
