"""The web tests' browser: a headless chromium for each module (tests/helpers/browser.py;
not for the session: sync Playwright's loop, left running, breaks the asyncio tests after
it), and a fresh offline context (its own storage, nothing off loopback) for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.helpers.browser import OfflineContext, launched_browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_browser() as launched:
        yield launched


@pytest.fixture
def offline(browser: Browser) -> Iterator[OfflineContext]:
    ctx = OfflineContext(browser)
    yield ctx
    ctx.context.close()
