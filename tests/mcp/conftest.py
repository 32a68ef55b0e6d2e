"""MCP tests: a real MCP server (tests/helpers/mcp_server.py) for agents' tools, served once
per module over streamable HTTP on 127.0.0.1; every JSON 2xx body of Sprig's REST API is
checked against ``/openapi.json`` as in tests/api."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sprig.server.settings import Settings
from tests.helpers.app import make_settings
from tests.helpers.mcp_server import serve_tools


@pytest.fixture(autouse=True)
def conforming(check_responses: list[httpx.Response]) -> list[httpx.Response]:
    return check_responses


@pytest.fixture(scope="module")
def tools_url() -> Iterator[str]:
    """The test MCP server's streamable-HTTP URL (``http://127.0.0.1:<port>/mcp``)."""
    with serve_tools() as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Loopback is allowed for tool HTTP here: the test MCP server listens on 127.0.0.1."""
    return make_settings(tmp_path / "data", tool_http_allow=["127.0.0.1"], mcp_timeout=5)
