"""Chat orchestration with a scripted model that records the prompts it receives."""

from __future__ import annotations

import uuid

import httpx

from sprig.server.errors import UpstreamError
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from tests.helpers.chat import user_msg


async def test_reply_is_saved_with_matching_ids(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push("Hello Grace.")
    r = await client.post(f"/sessions/{session['id']}/chat", json=user_msg("Hi!"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["choices"][0]["message"]["content"] == "Hello Grace."
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["response"][0][0]["content"] == "Hello Grace."  # legacy view
    assert body["finish_reason"] == "stop"
    assert body["doc_ids"] == {"agent_doc_ids": [], "user_doc_ids": []}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    entries = (await client.get(f"/sessions/{session['id']}/history")).json()["entries"]
    assert [(e["role"], e["content"], e["source"]) for e in entries] == [
        ("user", "Hi!", "api_request"),
        ("assistant", "Hello Grace.", "api_response"),
    ]
    assert entries[1]["id"] == body["id"]
    assert all(e["token_count"] > 0 for e in entries)


async def test_default_system_prompt(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push("ok")
    await client.post(f"/sessions/{session['id']}/chat", json=user_msg("Hi"))
    system = model.requests[0].messages[0]
    assert system.role == "system"
    text = system.text()
    for fact in (
        "You are Ada.",
        "careful research assistant",
        "Grace",
        "An admiral.",
        "Situation: A code review.",
        "- Answer briefly.",
        "- Cite sources.",
    ):
        assert fact in text, fact
    assert [m.role for m in model.requests[0].messages] == ["system", "user"]


async def test_history_is_sent_on_the_next_turn(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push("first answer", "second answer")
    await client.post(f"/sessions/{session['id']}/chat", json=user_msg("q1"))
    await client.post(f"/sessions/{session['id']}/chat", json=user_msg("q2"))
    sent = [(m.role, m.text()) for m in model.requests[1].messages[1:]]
    assert sent == [("user", "q1"), ("assistant", "first answer"), ("user", "q2")]


async def test_templates_metadata_and_rendering_rules(
    client: httpx.AsyncClient, model: ScriptedModel, agent: dict
) -> None:
    body = {
        "agent": agent["id"],
        "system_template": "Agent {{agent.name}}; tier {{metadata.tier}}; lang {{metadata.lang}}",
        "metadata": {"tier": "gold", "lang": "en"},
    }
    s = (await client.post("/sessions", json=body)).json()
    model.push("ok")
    msgs = [
        {"role": "assistant", "content": "I am {{agent.name}}"},
        {"role": "user", "content": "{{agent.name}} {{ 7*7 }}"},
    ]
    r = await client.post(
        f"/sessions/{s['id']}/chat", json={"messages": msgs, "metadata": {"lang": "fr"}}
    )
    assert r.status_code == 201
    texts = [m.text() for m in model.requests[0].messages]
    assert texts[0] == "Agent Ada; tier gold; lang fr"
    assert texts[1] == "I am Ada"  # render_templates (default true) renders assistant text
    assert texts[2] == "{{agent.name}} {{ 7*7 }}"  # user text is never a template


async def test_sandbox_refuses_internals(client: httpx.AsyncClient, agent: dict) -> None:
    body = {"agent": agent["id"], "system_template": "{{ agent.__class__.__mro__ }}"}
    s = (await client.post("/sessions", json=body)).json()
    r = await client.post(f"/sessions/{s['id']}/chat", json=user_msg("x"))
    assert r.status_code == 400
    assert "unsafe" in r.json()["error"]["message"]


async def test_settings_precedence(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push("a", "b")
    await client.post(f"/sessions/{session['id']}/chat", json=user_msg("x"))
    first = model.requests[0].sampling
    assert (first.temperature, first.top_p) == (0.2, 0.8)  # agent default_settings
    body = {**user_msg("y"), "top_p": 0.5, "preset": "code", "settings": {"max_tokens": 7}}
    await client.post(f"/sessions/{session['id']}/chat", json=body)
    second = model.requests[1].sampling
    assert second.top_p == 0.5  # request beats agent
    assert second.temperature == 0.2  # agent beats preset (code: 0.2 too, min_p from preset)
    assert second.min_p == 0.05  # preset fills what nobody set
    assert second.max_tokens == 7  # nested settings


async def test_multi_agent_routing(
    client: httpx.AsyncClient, model: ScriptedModel, agent: dict
) -> None:
    other = (await client.post("/agents", json={"name": "Bob"})).json()
    stranger = (await client.post("/agents", json={"name": "Eve"})).json()
    s = (await client.post("/sessions", json={"agents": [agent["id"], other["id"]]})).json()
    model.push("from bob")
    r = await client.post(
        f"/sessions/{s['id']}/chat", json={**user_msg("hi"), "agent": other["id"]}
    )
    assert r.status_code == 201
    assert model.requests[0].messages[0].text().startswith("You are Bob.")
    history = (await client.get(f"/sessions/{s['id']}/history")).json()["entries"]
    assert history[-1]["name"] == "Bob"
    r = await client.post(
        f"/sessions/{s['id']}/chat", json={**user_msg("hi"), "agent": stranger["id"]}
    )
    assert r.status_code == 400


async def test_provider_failure_saves_nothing(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push(UpstreamError("provider exploded: 503 overloaded"))
    r = await client.post(f"/sessions/{session['id']}/chat", json=user_msg("hi"))
    assert r.status_code == 502
    assert "overloaded" in r.json()["error"]["message"]
    assert (await client.get(f"/sessions/{session['id']}/history")).json()["entries"] == []


async def test_save_false_and_legacy_record(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    model.push("a", "b", "c")
    for flags in ({"save": False}, {"record": False}, {"remember": False}):
        r = await client.post(f"/sessions/{session['id']}/chat", json={**user_msg("x"), **flags})
        assert r.status_code == 201
    entries = (await client.get(f"/sessions/{session['id']}/history")).json()["entries"]
    assert len(entries) == 2  # only `remember=false` saved: remember is not save


async def test_legacy_request_shape(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    """The 0.x managers send every key, with nulls, and legacy roles."""
    model.push("done")
    body = {
        "messages": [
            {"role": "user", "content": "call it", "name": None, "continue": None},
            {"role": "function_call", "content": '{"name": "f"}'},
            {"role": "function", "content": "42", "name": "f"},
        ],
        "tools": None,
        "tool_choice": None,
        "frequency_penalty": None,
        "length_penalty": None,
        "logit_bias": None,
        "max_tokens": None,
        "presence_penalty": None,
        "repetition_penalty": None,
        "response_format": None,
        "seed": None,
        "stop": "END",
        "stream": None,
        "temperature": None,
        "top_p": None,
        "recall": None,
        "remember": None,
    }
    r = await client.post(f"/sessions/{session['id']}/chat", json=body)
    assert r.status_code == 201, r.text
    assert [m.role for m in model.requests[0].messages] == ["system", "user", "assistant", "tool"]
    assert model.requests[0].sampling.stop == ["END"]


async def test_range_checks(client: httpx.AsyncClient, session: dict) -> None:
    for bad in (
        {"temperature": 6},
        {"top_p": 1.5},
        {"stop": ["a", "b", "c", "d", "e"]},
        {"frequency_penalty": -3},
        {"max_tokens": 0},
        {"preset": "wild"},
        {"messages": []},
        {"response_format": {"type": "yaml"}},
    ):
        r = await client.post(f"/sessions/{session['id']}/chat", json={**user_msg("x"), **bad})
        assert r.status_code == 422, bad
        assert r.json()["error"]["details"]


async def test_render_shows_messages_without_calling_the_model(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict
) -> None:
    r = await client.post(f"/sessions/{session['id']}/render", json=user_msg("What now?"))
    assert r.status_code == 200
    messages = r.json()["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "You are Ada." in messages[0]["content"]
    assert model.requests == []


async def test_window_cache_follows_clears_and_outside_writes(
    client: httpx.AsyncClient, model: ScriptedModel, session: dict, runtime: Runtime
) -> None:
    """Turns read history through a per-session cache: it must never serve stale entries."""
    model.push("a1", "a2", "a3")
    await client.post(f"/sessions/{session['id']}/chat", json=user_msg("q1"))
    await client.delete(f"/sessions/{session['id']}/history")
    await client.post(f"/sessions/{session['id']}/chat", json=user_msg("q2"))
    assert [m.text() for m in model.requests[1].messages[1:]] == ["q2"]
    dev = runtime.startup_key.developer_id  # type: ignore[union-attr]
    await runtime.history.append(  # as another process would
        dev, uuid.UUID(session["id"]), [{"role": "user", "content": "from elsewhere"}]
    )
    await client.post(f"/sessions/{session['id']}/chat", json=user_msg("q3"))
    assert [m.text() for m in model.requests[2].messages[1:]] == [
        "q2",
        "a2",
        "from elsewhere",
        "q3",
    ]
