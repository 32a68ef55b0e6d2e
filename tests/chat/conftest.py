"""Chat tests: an agent, a user and a session; every JSON 2xx body is checked against
``/openapi.json`` as in tests/api."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import check_responses  # noqa: F401  (autouse: bodies match the document)


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


def user_msg(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}
