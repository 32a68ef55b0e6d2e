"""Token budget and context overflow: truncate, summarize, adaptive, and the 4xx default."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from sprig.server.chat import window
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from tests.helpers.chat import user_msg

LONG = " ".join(["word"] * 30)


async def _session(client: httpx.AsyncClient, agent: dict, **settings: object) -> str:
    body = {"agent": agent["id"], **settings}
    return str((await client.post("/sessions", json=body)).json()["id"])


async def _turns(client: httpx.AsyncClient, model: ScriptedModel, sid: str, n: int) -> None:
    for i in range(n):
        model.push(f"answer {i} {LONG}")
        r = await client.post(f"/sessions/{sid}/chat", json=user_msg(f"question {i} {LONG}"))
        assert r.status_code == 201, r.text


async def test_no_policy_is_a_4xx_before_any_model_call(
    client: httpx.AsyncClient, model: ScriptedModel, agent: dict
) -> None:
    sid = await _session(client, agent, token_budget=200)
    await _turns(client, model, sid, 2)
    calls = len(model.requests)
    r = await client.post(f"/sessions/{sid}/chat", json=user_msg(f"again {LONG}"))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "context_overflow"
    assert len(model.requests) == calls


async def test_truncate_keeps_the_newest_turns_within_budget(
    client: httpx.AsyncClient, model: ScriptedModel, agent: dict
) -> None:
    budget = 300
    sid = await _session(client, agent, token_budget=budget, context_overflow="truncate")
    await _turns(client, model, sid, 6)
    request = model.requests[-1]
    assert model.count_message_tokens(request.messages) <= budget
    texts = [m.text() for m in request.messages[1:]]
    assert texts[-1].startswith("question 5")
    assert texts[-2].startswith("answer 4")  # the newest history is kept, contiguously
    kept = [t.split()[1] for t in texts[:-1]]
    assert kept == sorted(kept)
    assert "question 0" not in " ".join(texts)


async def test_tool_call_and_result_leave_together(
    client: httpx.AsyncClient, model: ScriptedModel, agent: dict, runtime: Runtime
) -> None:
    """At every budget, a tool result is sent only with the call that asked for it."""
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    dev = runtime.startup_key.developer_id  # type: ignore[union-attr]
    shapes = set()
    for budget in range(60, 200, 5):
        sid = await _session(client, agent, token_budget=budget, context_overflow="truncate")
        await runtime.history.append(
            dev,
            uuid.UUID(sid),
            [
                {"role": "user", "content": LONG},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [call],
                    "source": "tool_request",
                },
                {"role": "tool", "content": LONG, "tool_call_id": "c1", "source": "tool_response"},
                {"role": "assistant", "content": "short"},
            ],
        )
        model.push("ok")
        r = await client.post(f"/sessions/{sid}/chat", json=user_msg("hi"))
        if r.status_code == 400:
            continue  # the budget cannot even hold the system prompt
        messages = model.requests[-1].messages
        has_call = any(m.tool_calls for m in messages)
        has_result = any(m.role == "tool" for m in messages)
        assert has_call == has_result, budget
        shapes.add(tuple(m.role for m in messages))
    assert ("system", "assistant", "user") in shapes  # group dropped, newer reply kept
    assert ("system", "assistant", "tool", "assistant", "user") in shapes


async def test_summarize_replaces_the_oldest_span(
    client: httpx.AsyncClient, model: ScriptedModel, agent: dict
) -> None:
    sid = await _session(client, agent, token_budget=200, context_overflow="summarize")
    await _turns(client, model, sid, 2)
    model.push("SUMMARY: Grace asked two questions.", f"answer 2 {LONG}")
    r = await client.post(f"/sessions/{sid}/chat", json=user_msg(f"question 2 {LONG}"))
    assert r.status_code == 201
    summary_call, turn = model.requests[-2], model.requests[-1]
    assert "question 0" in summary_call.messages[-1].text()
    assert "Summary of the earlier conversation: SUMMARY: Grace" in turn.messages[1].text()
    assert "question 0" not in " ".join(m.text() for m in turn.messages)
    history = (await client.get(f"/sessions/{sid}/history")).json()
    summaries = [e for e in history["entries"] if e["source"] == "summarizer"]
    assert len(summaries) == 1
    covered = {r["tail"] for r in history["relations"] if r["head"] == summaries[0]["id"]}
    assert {r["relation"] for r in history["relations"]} == {"summary_of"}
    first_turn = {e["id"] for e in history["entries"][:2]}
    assert first_turn <= covered


async def test_adaptive_truncates_now_and_queues_a_summary(
    client: httpx.AsyncClient, model: ScriptedModel, agent: dict
) -> None:
    sid = await _session(client, agent, token_budget=200, context_overflow="adaptive")
    await _turns(client, model, sid, 2)
    model.push("fine")
    r = await client.post(f"/sessions/{sid}/chat", json=user_msg(f"question 2 {LONG}"))
    jobs = r.json()["jobs"]
    assert len(jobs) == 1
    job = (await client.get(f"/jobs/{jobs[0]}")).json()
    assert job["name"] == "summarize"


async def test_a_turn_reads_only_the_window(
    client: httpx.AsyncClient,
    model: ScriptedModel,
    agent: dict,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sid = await _session(client, agent, token_budget=200, context_overflow="truncate")
    dev = runtime.startup_key.developer_id  # type: ignore[union-attr]
    entries = [{"role": "user", "content": f"m{i}", "token_count": 3} for i in range(2000)]
    await runtime.history.append(dev, uuid.UUID(sid), entries)
    pages: list[int] = []
    real = window._page

    async def counting(*args: object, **kwargs: object) -> list:
        rows = await real(*args, **kwargs)  # type: ignore[arg-type]
        pages.append(len(rows))
        return rows

    monkeypatch.setattr(window, "_page", counting)
    model.push("ok")
    assert (await client.post(f"/sessions/{sid}/chat", json=user_msg("hi"))).status_code == 201
    assert sum(pages) <= 2 * window.PAGE  # not the 2000 entries


async def test_adaptive_summary_job_runs_in_the_in_process_worker(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    agent = (await client.post("/agents", json={"name": "a"})).json()
    body = {"agent": agent["id"], "token_budget": 200, "context_overflow": "adaptive"}
    sid = (await client.post("/sessions", json=body)).json()["id"]
    long = " ".join(["word"] * 30)
    jobs: list[str] = []
    for i in range(8):
        model.push(f"answer {i} {long}")
        r = await client.post(
            f"/sessions/{sid}/chat",
            json={"messages": [{"role": "user", "content": f"q{i} {long}"}]},
        )
        jobs = r.json()["jobs"]
        if jobs:
            break
    job_id = jobs[0]
    model.push("SUMMARY of the start")
    for _ in range(100):
        state = (await client.get(f"/jobs/{job_id}")).json()["state"]
        if state == "succeeded":
            break
        await asyncio.sleep(0.05)
    assert state == "succeeded"
    history = (await client.get(f"/sessions/{sid}/history")).json()
    assert [e["content"] for e in history["entries"] if e["source"] == "summarizer"] == [
        "SUMMARY of the start"
    ]
    assert (await client.get(f"/sessions/{sid}")).json()["summary"] == "SUMMARY of the start"


async def test_the_joined_history_is_the_history_sent(
    client: httpx.AsyncClient, model: ScriptedModel, agent: dict
) -> None:
    """A window of cached entries carries its wire JSON joined once (``JoinedRun``); what
    the direct gateway would send with it is byte for byte what it sends without, as the
    session grows, is truncated, and after a tool step."""
    from sprig.server.models.openai_compat.wire import encode_body

    sid = await _session(client, agent, token_budget=300, context_overflow="truncate")
    for n in range(8):
        model.push(f"answer {n} {LONG}")
        r = await client.post(f"/sessions/{sid}/chat", json=user_msg(f"question {n} {LONG}"))
        assert r.status_code == 201, r.text
        request = model.requests[-1]
        if n == 0:
            continue  # nothing cached before the first turn
        assert request.joined is not None and request.joined.count > 0
        plain = encode_body({"model": "m"}, request.messages)
        assert encode_body({"model": "m"}, request.messages, request.joined) == plain
    assert model.requests[-1].joined.start == 1  # after the system prompt
    texts = [m.text() for m in model.requests[-1].messages]
    assert not any(t.startswith("question 0") for t in texts)  # truncated meanwhile
