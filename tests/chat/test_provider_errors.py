"""A failing model provider, through the chat API: the error names the model, the provider
and the kind of failure in Sprig's words (no library or exception class names), with the
status of its kind; streamed, it ends the stream as one error event; nothing is saved.

The provider is a local OpenAI-compatible stub (tests/models/fake_openai.py) that fails on
request (``error:<status>``, ``hang``, ``midstream``), or a port nobody listens on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, make_settings
from tests.helpers.chat import user_msg
from tests.helpers.fake_openai import FakeOpenAI
from tests.helpers.servers import free_port

KEY = "sk-stub-" + "s" * 32
SSE = {"Accept": "text/event-stream"}


@pytest.fixture(scope="module")
def stub() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(free_port())
    server.start()
    yield server
    server.stop()


def stub_settings(data_dir: Path, stub: FakeOpenAI) -> Settings:
    common = {"api_key": KEY, "max_retries": 0, "timeout": 1}
    models = [
        {"name": "stub", "model": "openai/stub", "api_base": stub.api_base, **common},
        {"name": "down", "model": "openai/x", "api_base": f"http://127.0.0.1:{free_port()}/v1"}
        | common,
    ]
    return make_settings(data_dir, models=models)


@pytest.fixture
def settings(tmp_path: Path, stub: FakeOpenAI) -> Settings:
    return stub_settings(tmp_path / "data", stub)


@pytest.fixture
def live_settings(tmp_path: Path, stub: FakeOpenAI) -> Settings:
    return stub_settings(tmp_path / "live", stub)


CASES = [
    ("stub", "error:401", 400, "rejected the request: authentication failed (check the api_key"),
    ("stub", "error:400", 400, "rejected the request as invalid: fake failure 400"),
    ("stub", "error:429", 429, "rate limited the request"),
    ("stub", "error:500", 502, "returned an error"),
    ("stub", "hang", 504, "timed out after 1 s"),
    ("down", "hello", 502, "could not be reached: connection error"),
]


def assert_described(error: dict[str, Any], model: str, says: str) -> None:
    message = error["error"]["message"]
    assert error["detail"] == message
    assert message.startswith(f"The model provider for {model!r} (openai) "), message
    assert says in message, message
    assert "litellm" not in message.lower() and "Exception" not in message, message
    assert not re.search(r"\w+Error\b", message), message
    assert KEY not in json.dumps(error)


async def history(client: httpx.AsyncClient, session: dict) -> list[dict]:
    r = await client.get(f"/sessions/{session['id']}/history")
    entries: list[dict] = r.json()["entries"]
    return entries


@pytest.mark.parametrize(("name", "text", "status", "says"), CASES)
async def test_provider_failures_in_sprigs_words(
    client: httpx.AsyncClient, session: dict, name: str, text: str, status: int, says: str
) -> None:
    r = await client.post(f"/sessions/{session['id']}/chat", json={**user_msg(text), "model": name})
    assert r.status_code == status, r.text
    assert_described(r.json(), name, says)
    assert r.headers["x-should-retry"] == ("false" if status == 400 else "true")
    assert await history(client, session) == []  # nothing saved


def sse_events(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


@pytest.mark.parametrize(("name", "text", "status", "says"), CASES)
async def test_streamed_failures_end_with_an_error_event(
    client: httpx.AsyncClient, session: dict, name: str, text: str, status: int, says: str
) -> None:
    body = {**user_msg(text), "model": name, "stream": True}
    r = await client.post(f"/sessions/{session['id']}/chat", json=body, headers=SSE)
    assert r.status_code == 201  # the stream had started: the model is called after
    raw = sse_events(r.text)
    assert raw[-1] == "[DONE]"  # the error event, then the terminator as usual
    first, *_, last = [json.loads(e) for e in raw[:-1]]
    assert first["choices"][0]["delta"]["content"] == ""
    assert set(last) == {"error", "detail"}
    assert_described(last, name, says)
    assert await history(client, session) == []


async def test_a_failure_mid_stream_keeps_the_text_sent_and_saves_nothing(
    client: httpx.AsyncClient, session: dict
) -> None:
    body = {**user_msg("midstream"), "model": "stub", "stream": True}
    r = await client.post(f"/sessions/{session['id']}/chat", json=body, headers=SSE)
    chunks = [json.loads(e) for e in sse_events(r.text)[:-1]]
    sent = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert sent == "two words"
    assert_described(chunks[-1], "stub", "returned an error")
    assert chunks[-1]["error"]["code"] == "upstream_error"
    assert await history(client, session) == []
    # the session goes on: the next turn is answered and saved
    r = await client.post(
        f"/sessions/{session['id']}/chat", json={**user_msg("hi"), "model": "stub"}
    )
    assert r.json()["choices"][0]["message"]["content"] == "echo: hi"
    assert [e["content"] for e in await history(client, session)] == ["hi", "echo: hi"]


def test_a_real_server_ends_the_stream_cleanly_with_the_error(live_url: str) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", **SSE}
    with httpx.Client(base_url=live_url, headers=headers, timeout=30) as c:
        agent = c.post("/agents", json={"name": "A"}).json()["id"]
        session = c.post("/sessions", json={"agent": agent}).json()["id"]
        body = {**user_msg("midstream"), "model": "stub", "stream": True}
        with c.stream("POST", f"/sessions/{session}/chat", json=body) as r:
            raw = sse_events(r.read().decode())  # read whole: the server closed it properly
        assert raw[-1] == "[DONE]"
        assert_described(json.loads(raw[-2]), "stub", "returned an error")
        assert c.get(f"/sessions/{session}/history").json()["entries"] == []
