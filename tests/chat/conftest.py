"""Chat tests: an agent, a user and a session; every JSON 2xx body is checked against
``/openapi.json`` as in tests/api."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


@pytest.fixture(autouse=True)
def conforming(check_responses: list[httpx.Response]) -> list[httpx.Response]:
    """Every test here: JSON 2xx bodies match the document."""
    return check_responses


@pytest.fixture
async def agent(client: httpx.AsyncClient) -> dict[str, Any]:
    body = {
        "name": "Ada",
        "about": "A careful research assistant.",
        "instructions": ["Answer briefly.", "Cite sources."],
        "default_settings": {"temperature": 0.2, "top_p": 0.8},
    }
    r = await client.post("/agents", json=body)
    assert r.status_code == 201
    return r.json()


@pytest.fixture
async def user(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.post("/users", json={"name": "Grace", "about": "An admiral."})).json()


@pytest.fixture
async def session(client: httpx.AsyncClient, agent: dict, user: dict) -> dict[str, Any]:
    body = {"agent": agent["id"], "user": user["id"], "situation": "A code review."}
    return (await client.post("/sessions", json=body)).json()
