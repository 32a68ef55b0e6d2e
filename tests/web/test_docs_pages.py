"""/docs (Swagger UI) and /redoc render offline, in a real browser.

Debian's chromium (``apt-get install chromium``; ``.ci/run`` installs it), driven by
Playwright for Python, loads the pages from a live uvicorn server with every request that
leaves loopback aborted, and must show the operation list. Without chromium the tests fail,
saying how to install it; set ``SPRIG_TEST_SKIP_BROWSER=1`` to skip them on a machine without
it (never honoured in CI, where ``CI=true``).
"""

from __future__ import annotations

import re

import pytest

from tests.helpers.browser import RENDER_TIMEOUT_MS, OfflineContext


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
