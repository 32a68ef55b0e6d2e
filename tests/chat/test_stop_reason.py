"""A model that stops a reply itself (the local model's loop guard) says so through the
API: ``finish_reason`` stays an OpenAI value, ``stop_reason`` names the cause, in the JSON
reply and on the stream's last chunk; the saved reply is the text the client got."""

from __future__ import annotations

import json

import httpx

from sprig.server.models.base import Completion, Usage
from sprig.server.models.scripted import ScriptedModel
from tests.helpers.chat import user_msg

SSE = {"Accept": "text/event-stream"}
CUT = Completion(
    content="La France est belle.",
    finish_reason="stop",
    usage=Usage(12, 40),
    stop_reason="repetition",
)


async def _history(client: httpx.AsyncClient, session_id: str) -> list[tuple[str, str]]:
    entries = (await client.get(f"/sessions/{session_id}/history")).json()["entries"]
    return [(e["role"], e["content"]) for e in entries]


async def test_json_reply_reports_the_repetition(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push(CUT)
    r = await client.post(f"/sessions/{session['id']}/chat", json=user_msg("Tell me about France"))
    body = r.json()
    assert r.status_code == 201
    assert body["choices"][0]["finish_reason"] == body["finish_reason"] == "stop"
    assert body["stop_reason"] == "repetition"
    assert body["choices"][0]["message"]["content"] == "La France est belle."
    assert (await _history(client, session["id"]))[-1] == ("assistant", "La France est belle.")


async def test_streamed_last_chunk_reports_the_repetition(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push(CUT)
    body = {**user_msg("Tell me about France"), "stream": True}
    r = await client.post(f"/sessions/{session['id']}/chat", json=body, headers=SSE)
    lines = [x[6:] for x in r.text.splitlines() if x.startswith("data: ")]
    chunks = [json.loads(x) for x in lines if x != "[DONE]"]
    last = chunks[-1]
    assert (last["choices"][0]["finish_reason"], last["stop_reason"]) == ("stop", "repetition")
    assert all("stop_reason" not in c for c in chunks[:-1])
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert (await _history(client, session["id"]))[-1] == ("assistant", text)


async def test_an_ordinary_reply_has_no_stop_reason(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push("Paris.")
    r = await client.post(f"/sessions/{session['id']}/chat", json=user_msg("Capital of France?"))
    assert (r.json()["finish_reason"], r.json()["stop_reason"]) == ("stop", None)
