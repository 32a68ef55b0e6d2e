"""Driving the Sprig Console in the test browser: sign in, wait for views, take screenshots.

Screenshots go to ``$SPRIG_TEST_ARTIFACTS/console`` (``artifacts/console`` at the repository's
root by default; CI keeps the folder), one PNG per main view, named by the test.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.helpers.browser import OfflineContext

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SPRIG_TEST_ARTIFACTS", ROOT / "artifacts")) / "console"
TIMEOUT_MS = 20_000


def open_console(offline: OfflineContext, base_url: str, path: str = "") -> Page:
    """The console's page (``#path`` if given), loaded and its app started."""
    page = offline.open(f"{base_url}/console/{'#' + path if path else ''}")
    page.set_default_timeout(TIMEOUT_MS)
    try:
        expect(page.locator("#app .boot")).to_have_count(0)
    except AssertionError as err:
        raise AssertionError(f"the console did not start: {offline.console_errors}") from err
    return page


def sign_in(page: Page, key: str) -> None:
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("tenant")).to_be_visible()


def signed_in(offline: OfflineContext, base_url: str, key: str, path: str = "") -> Page:
    page = open_console(offline, base_url)
    sign_in(page, key)
    if path:
        go(page, path)
    return page


def go(page: Page, path: str) -> None:
    page.evaluate("(path) => { location.hash = path }", path)


def json_editor(page: Page, label: str) -> Locator:
    """A JSON editor's text, once CodeMirror has replaced its stand-in textarea."""
    expect(page.locator('.json-editor[data-ready="false"]')).to_have_count(0)
    return page.get_by_role("textbox", name=label)


def screenshot(page: Page, name: str) -> Path:
    """Save the page as ``<name>.png`` among the artifacts."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target
