"""SSE streaming: chunk shape, [DONE] rules, deltas equal the saved reply, disconnects."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from fastapi import FastAPI

from sprig.server.models.scripted import ScriptedModel
from tests.helpers.app import API_KEY, auth, build_app, make_settings
from tests.helpers.chat import user_msg

SSE = {"Accept": "text/event-stream"}


def events(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


async def test_stream_chunks_and_done(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push("The quick brown fox jumps.")
    r = await client.post(
        f"/sessions/{session['id']}/chat", json={**user_msg("go"), "stream": True}, headers=SSE
    )
    assert r.status_code == 201  # as documented, streamed or not
    assert r.headers["content-type"].startswith("text/event-stream")
    raw = events(r.text)
    assert raw[-1] == "[DONE]"
    chunks = [json.loads(e) for e in raw[:-1]]
    assert len({c["id"] for c in chunks}) == 1
    assert "docs" in chunks[0]
    assert all("docs" not in c for c in chunks[1:])
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "The quick brown fox jumps."
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    entries = (await client.get(f"/sessions/{session['id']}/history")).json()["entries"]
    assert entries[-1]["content"] == text
    assert entries[-1]["id"] == chunks[0]["id"]


async def test_julep_v2_client_gets_no_done_marker(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push("hi there")
    headers = {**SSE, "User-Agent": "Julep/Python 2.21.0"}
    r = await client.post(
        f"/sessions/{session['id']}/chat", json={**user_msg("go"), "stream": True}, headers=headers
    )
    raw = events(r.text)
    assert "[DONE]" not in raw
    assert all(json.loads(e)["choices"] for e in raw)


async def test_stream_true_streams_whatever_accept_says(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    """curl sends ``Accept: */*``, the OpenAI and 2.x SDKs ``application/json``: the body's
    ``stream`` decides."""
    for accept in (None, "*/*", "application/json"):
        model.push("streamed anyway")
        headers = {"Accept": accept} if accept else {}
        body = {**user_msg("go"), "stream": True}
        r = await client.post(f"/sessions/{session['id']}/chat", json=body, headers=headers)
        assert r.status_code == 201
        assert r.headers["content-type"].startswith("text/event-stream"), accept
        chunks = [json.loads(e) for e in events(r.text) if e != "[DONE]"]
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
        assert text == "streamed anyway"


async def test_legacy_clients_get_json_when_they_ask_to_stream(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    """The 0.x SDKs (they send X-Fern-Language) cannot read SSE: stream=true gets JSON."""
    model.push("plain")
    body = {**user_msg("go"), "stream": True}
    headers = {"X-Fern-Language": "Python", "Accept": "text/event-stream"}
    r = await client.post(f"/sessions/{session['id']}/chat", json=body, headers=headers)
    assert r.status_code == 201
    assert r.json()["response"][0][0]["content"] == "plain"


async def test_errors_before_streaming_are_json(client: httpx.AsyncClient, session: dict) -> None:
    body = {**user_msg("go"), "stream": True, "agent": "00000000-0000-4000-8000-000000000000"}
    r = await client.post(f"/sessions/{session['id']}/chat", json=body, headers=SSE)
    assert r.status_code == 400
    assert r.json()["error"]["message"]


def test_disconnect_mid_stream_saves_the_partial_reply(tmp_path: Path) -> None:
    """A real server: the client goes away after a few chunks; generation stops and what was
    generated is saved once, marked partial (never a broken row)."""
    from tests.helpers.servers import ThreadedServer

    words = " ".join(f"w{i}" for i in range(200))
    model = ScriptedModel(name="scripted", stream_delay=0.01)
    app: FastAPI = build_app(make_settings(tmp_path / "d"), model)
    server = ThreadedServer(app).start()
    base = server.url
    try:
        with httpx.Client(base_url=base, headers=auth("sk-test-" + "k" * 32)) as c:
            agent = c.post("/agents", json={"name": "a"}).json()
            sid = c.post("/sessions", json={"agent": agent["id"]}).json()["id"]
            model.push(words)
            got = []
            with c.stream(
                "POST",
                f"/sessions/{sid}/chat",
                json={**user_msg("go"), "stream": True},
                headers=SSE,
            ) as r:
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        got.append(json.loads(line[6:]))
                    if len(got) >= 6:
                        break
            deadline = time.monotonic() + 10
            while model.cancelled_streams == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert model.cancelled_streams == 1  # generation stopped
            time.sleep(0.3)
            entries = c.get(f"/sessions/{sid}/history").json()["entries"]
            assert [e["role"] for e in entries] == ["user", "assistant"]
            saved = entries[1]["content"]
            assert words.startswith(saved)
            assert 0 < len(saved) < len(words)
            assert entries[1]["partial"] is True
    finally:
        server.stop()


def test_plain_http_clients_get_a_stream(live_url: str, model: ScriptedModel) -> None:
    """curl, requests and httpx with their default headers: ``stream: true`` streams."""
    import subprocess

    import requests

    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    with httpx.Client(base_url=live_url, headers=headers) as c:
        agent = c.post("/agents", json={"name": "A"}).json()["id"]
        session = c.post("/sessions", json={"agent": agent}).json()["id"]
    url = f"{live_url}/sessions/{session}/chat"
    body = json.dumps({**user_msg("go"), "stream": True})

    def via_curl() -> str:
        args = ["curl", "-sN", url, "-d", body]
        for key, value in headers.items():
            args += ["-H", f"{key}: {value}"]
        return subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout

    def via_requests() -> str:
        with requests.post(url, data=body, headers=headers, stream=True, timeout=30) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            return "".join(r.iter_content(decode_unicode=True))

    def via_httpx() -> str:
        with httpx.stream("POST", url, content=body, headers=headers) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            return "".join(r.iter_text())

    for name, call in (("curl", via_curl), ("requests", via_requests), ("httpx", via_httpx)):
        model.push(f"hello from {name}")
        raw = events(call())
        assert raw[-1] == "[DONE]", name
        chunks = [json.loads(e) for e in raw[:-1]]
        assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == f"hello from {name}"
