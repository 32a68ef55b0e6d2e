"""Long-term memory end to end: a real `sprig serve`, the bundled SmolLM2-135M and MiniLM.

A fact the user states in one session (chat with ``remember: true``) is formed into a
memory by the server's own job worker, and a new session of the same user and agent
recalls it into its system prompt. The 135M model cannot extract facts (it copies the
prompt's example), so this is the memory fallback at work (``SPRIG_MEMORY_FALLBACK=auto``).
The model's replies are not checked: the point is that the fact reaches its prompt.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers.processes import ServerProcess

pytestmark = pytest.mark.e2e

JOB_DEADLINE_S = 120.0
FACT = "My dog is called Biscuit and she is a corgi."
QUESTION = "What is my dog's name?"


@pytest.fixture(scope="module")
def api(live_server: ServerProcess) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {live_server.api_key}"}
    with httpx.Client(base_url=live_server.base_url, headers=headers, timeout=300) as client:
        yield client


def _created(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _chat(api: httpx.Client, session_id: str, text: str, **extra: Any) -> Any:
    body = {"messages": [{"role": "user", "content": text}], "max_tokens": 8, **extra}
    return _created(api.post(f"/sessions/{session_id}/chat", json={**body, "temperature": 0}))


def _finished(api: httpx.Client, job_id: str) -> Any:
    deadline = time.monotonic() + JOB_DEADLINE_S
    while time.monotonic() < deadline:
        job = _created(api.get(f"/jobs/{job_id}"))
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {JOB_DEADLINE_S} s")


def _memories(api: httpx.Client, agent_id: str, **params: str) -> list[Any]:
    items: list[Any] = _created(api.get(f"/agents/{agent_id}/memories", params=params))["items"]
    return items


def test_a_fact_told_in_one_session_is_recalled_in_a_new_one(api: httpx.Client) -> None:
    agent = _created(api.post("/agents", json={"name": "Pip", "about": "A friendly assistant."}))
    user = _created(api.post("/users", json={"name": "Ana"}))
    people = {"agent": agent["id"], "user": user["id"]}
    first = _created(api.post("/sessions", json=people))
    told = _chat(api, first["id"], f"Hi! {FACT} Any tips for walks?", remember=True)
    assert len(told["jobs"]) == 1
    job = _finished(api, told["jobs"][0])
    assert job["state"] == "succeeded", job

    second = _created(api.post("/sessions", json=people))
    found = _memories(api, agent["id"], user_id=user["id"], query=QUESTION)
    assert found, "no memory was formed"
    assert FACT in found[0]["content"], [m["content"] for m in found]
    assert (found[0]["type"], found[0]["session_id"]) == ("episode", first["id"])
    question = {"messages": [{"role": "user", "content": QUESTION}]}
    rendered = _created(api.post(f"/sessions/{second['id']}/render", json=question))
    system = rendered["messages"][0]["content"]
    assert "What you remember about the user:" in system
    assert FACT in system.split("What you remember about the user:", 1)[1]

    # Told again (and asked) in the new session: the repeat and the question add nothing.
    again = _chat(api, second["id"], f"{FACT.lower()} {QUESTION}", remember=True)
    assert _finished(api, again["jobs"][0])["state"] == "succeeded"
    assert [m["id"] for m in _memories(api, agent["id"], user_id=user["id"])] == [found[0]["id"]]
