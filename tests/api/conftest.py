"""The API suite runs against SQLite and PostgreSQL (pgserver's bundled server) alike.

PostgreSQL is skipped only when pgserver cannot be imported; set SPRIG_TEST_BACKENDS=sqlite
to run one backend while iterating locally. Every JSON 2xx body a test here receives is
checked against ``/openapi.json`` (the plugin's `check_responses`).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sprig.server.settings import Settings
from tests.helpers.database import backend_settings, backends


@pytest.fixture(params=backends())
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return backend_settings(request, tmp_path)


@pytest.fixture(autouse=True)
def conforming(check_responses: list[httpx.Response]) -> list[httpx.Response]:
    """Every test here: JSON 2xx bodies match the document."""
    return check_responses
