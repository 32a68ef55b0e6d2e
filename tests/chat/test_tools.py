"""Tools in chat: calls returned to the client, results accepted, the server-run loop, its
cap, tool errors fed back, merge and tool_choice rules, streaming with server-run tools."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from tests.helpers.chat import user_msg

WEATHER = {
    "name": "get_weather",
    "type": "function",
    "function": {
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
MATH = {"name": "calc", "type": "integration", "integration": {"provider": "math"}}


async def _session(client: httpx.AsyncClient, tools: list[dict[str, Any]], **extra: Any) -> str:
    agent = (await client.post("/agents", json={"name": "Tooly"})).json()
    for tool in tools:
        assert (await client.post(f"/agents/{agent['id']}/tools", json=tool)).status_code == 201
    body = {"agent": agent["id"], **extra}
    return str((await client.post("/sessions", json=body)).json()["id"])


async def test_function_calls_come_back_and_results_are_accepted(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    sid = await _session(client, [WEATHER])
    model.push([ToolCall("call_1", "get_weather", '{"city": "Paris"}')], "It is sunny in Paris.")
    r = (await client.post(f"/sessions/{sid}/chat", json=user_msg("Weather in Paris?"))).json()
    assert r["choices"][0]["finish_reason"] == "tool_calls"
    calls = r["choices"][0]["message"]["tool_calls"]
    assert calls[0]["id"] == "call_1"
    assert calls[0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert [t.name for t in model.requests[0].tools] == ["get_weather"]  # agent tools reach it
    result = {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "clear"}'}
    r2 = await client.post(f"/sessions/{sid}/chat", json={"messages": [result]})
    assert r2.json()["choices"][0]["message"]["content"] == "It is sunny in Paris."
    sent = model.requests[1].messages
    assert [m.role for m in sent[1:]] == ["user", "assistant", "tool"]
    assert sent[2].tool_calls[0].id == "call_1"
    assert sent[3].tool_call_id == "call_1"
    history = (await client.get(f"/sessions/{sid}/history")).json()["entries"]
    assert [e["source"] for e in history] == [
        "api_request",
        "tool_request",
        "tool_response",
        "api_response",
    ]


async def test_recall_tools_false_leaves_tool_entries_out(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    sid = await _session(client, [WEATHER])
    model.push([ToolCall("c1", "get_weather", "{}")], "done", "next")
    await client.post(f"/sessions/{sid}/chat", json=user_msg("w?"))
    result = {"role": "tool", "tool_call_id": "c1", "content": "{}"}
    await client.post(f"/sessions/{sid}/chat", json={"messages": [result]})
    await client.post(f"/sessions/{sid}/chat", json={**user_msg("and?"), "recall_tools": False})
    roles = [m.role for m in model.requests[-1].messages[1:]]
    assert roles == ["user", "assistant", "user"]


async def test_server_runs_integration_tools_in_a_loop(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    sid = await _session(client, [MATH], auto_run_tools=True)
    model.push(
        [ToolCall("c1", "calc", '{"expression": "6 * 7"}')],
        [ToolCall("c2", "calc", '{"expression": "42 + 1"}')],
        "The answer is 43.",
    )
    r = (await client.post(f"/sessions/{sid}/chat", json=user_msg("compute"))).json()
    assert r["choices"][0]["message"]["content"] == "The answer is 43."
    assert r["choices"][0]["finish_reason"] == "stop"
    tool_msgs = [m for m in model.requests[2].messages if m.role == "tool"]
    assert [json.loads(m.text())["result"] for m in tool_msgs] == [42, 43]
    history = (await client.get(f"/sessions/{sid}/history")).json()["entries"]
    assert [e["role"] for e in history] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    assert history[-1]["id"] == r["id"]


async def test_tool_errors_are_fed_back_to_the_model(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    sid = await _session(client, [MATH], auto_run_tools=True)
    model.push(
        [ToolCall("c1", "calc", '{"expression": "__import__(\\"os\\")"}')],
        [ToolCall("c2", "nope", "{}")],
        [ToolCall("c3", "calc", "not json")],
        "I could not compute it.",
    )
    r = await client.post(f"/sessions/{sid}/chat", json=user_msg("break it"))
    assert r.status_code == 201
    results = [json.loads(m.text()) for m in model.requests[-1].messages if m.role == "tool"]
    assert len(results) == 3
    assert all("error" in res for res in results)
    assert "Unknown tool 'nope'" in results[1]["error"]["message"]


async def test_iteration_cap(
    client: httpx.AsyncClient, model: ScriptedModel, runtime: Runtime
) -> None:
    runtime.chat.policy = replace(runtime.chat.policy, max_tool_iterations=3)
    sid = await _session(client, [MATH], auto_run_tools=True)
    model.push(*[[ToolCall(f"c{i}", "calc", '{"expression": "1"}')] for i in range(5)])
    r = (await client.post(f"/sessions/{sid}/chat", json=user_msg("loop"))).json()
    assert len(model.requests) == 3
    assert r["stop_reason"] == "max_tool_iterations"
    assert r["choices"][0]["finish_reason"] == "tool_calls"
    assert r["choices"][0]["message"]["tool_calls"][0]["id"] == "c2"  # pending, not run


async def test_client_side_tools_stop_the_loop(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    sid = await _session(client, [WEATHER, MATH], auto_run_tools=True)
    model.push([ToolCall("c1", "get_weather", "{}"), ToolCall("c2", "calc", '{"expression": "1"}')])
    r = (await client.post(f"/sessions/{sid}/chat", json=user_msg("x"))).json()
    assert [c["id"] for c in r["choices"][0]["message"]["tool_calls"]] == ["c1", "c2"]
    assert len(model.requests) == 1  # nothing ran: the client gets both calls


async def test_request_tools_merge_over_agent_tools(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    sid = await _session(client, [WEATHER])
    override = {**WEATHER, "function": {**WEATHER["function"], "description": "OVERRIDDEN"}}
    extra = {"name": "lookup", "type": "function", "function": {"parameters": {"type": "object"}}}
    model.push("ok")
    body = {
        **user_msg("x"),
        "tools": [override, extra],
        "tool_choice": {"function": {"name": "lookup"}},
    }
    assert (await client.post(f"/sessions/{sid}/chat", json=body)).status_code == 201
    request = model.requests[0]
    assert {t.name: t.description for t in request.tools} == {
        "get_weather": "OVERRIDDEN",
        "lookup": "",
    }
    assert request.tool_choice == {"type": "function", "function": {"name": "lookup"}}


@pytest.mark.parametrize(
    "choice",
    [{"type": "function", "function": {"name": "missing"}}, "sometimes"],
)
async def test_bad_tool_choice_is_400(client: httpx.AsyncClient, choice: Any) -> None:
    sid = await _session(client, [WEATHER])
    r = await client.post(f"/sessions/{sid}/chat", json={**user_msg("x"), "tool_choice": choice})
    assert r.status_code == 400


async def test_streaming_with_server_run_tools(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    sid = await _session(client, [MATH], auto_run_tools=True)
    model.push([ToolCall("c1", "calc", '{"expression": "2 ** 10"}')], "It is 1024.")
    r = await client.post(
        f"/sessions/{sid}/chat",
        json={**user_msg("2^10?"), "stream": True},
        headers={"Accept": "text/event-stream"},
    )
    chunks = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert any(d.get("tool_calls") for d in deltas)
    assert [json.loads(d["content"])["result"] for d in deltas if d["role"] == "tool"] == [1024]
    text = "".join(d.get("content") or "" for d in deltas if d["role"] == "assistant")
    assert text == "It is 1024."
    history = (await client.get(f"/sessions/{sid}/history")).json()["entries"]
    assert [e["role"] for e in history] == ["user", "assistant", "tool", "assistant"]


class _Weather:
    """A tiny HTTP service on 127.0.0.1 for api_call tools; records what it was sent."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append((self.path, self.headers.get("X-Api-Key")))
                body = json.dumps({"path": self.path, "temp": 21}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.mark.parametrize("allowed", [True, False])
async def test_api_call_tool_against_a_local_server(
    tmp_path: Any, model: ScriptedModel, api_key: str, allowed: bool
) -> None:
    from tests.helpers.app import auth, build_app, make_settings

    service = _Weather()
    allow = ["127.0.0.1"] if allowed else []
    app = build_app(make_settings(tmp_path / "d", tool_http_allow=allow), model)
    tool = {
        "name": "weather",
        "type": "api_call",
        "api_call": {
            "method": "GET",
            "url": service.url + "/weather/{city}",
            "headers": {"X-Api-Key": "secret-123"},
            "params_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t", headers=auth(api_key)
            ) as client,
        ):
            sid = await _session(client, [tool], auto_run_tools=True)
            model.push([ToolCall("c1", "weather", '{"city": "São Paulo"}')], "done")
            r = await client.post(f"/sessions/{sid}/chat", json=user_msg("weather?"))
            assert r.status_code == 201
            result = json.loads(
                next(m for m in model.requests[-1].messages if m.role == "tool").text()
            )
            history = (await client.get(f"/sessions/{sid}/history")).text
    finally:
        service.close()
    assert [t.name for t in model.requests[0].tools] == ["weather"]
    assert set(model.requests[0].tools[0].parameters["properties"]) == {"city"}  # no url/headers
    assert "secret-123" not in json.dumps(result)
    assert "secret-123" not in history
    if allowed:
        assert service.seen == [("/weather/S%C3%A3o%20Paulo", "secret-123")]
        assert result["status_code"] == 200
        assert result["json"]["temp"] == 21
    else:
        assert service.seen == []
        assert "error" in result


def test_official_sdk_tool_crud_and_tool_calls(
    live_url: str, model: ScriptedModel, api_key: str
) -> None:
    from julep import Julep

    with Julep(
        api_key=api_key, base_url=live_url, max_retries=0, _strict_response_validation=True
    ) as j:
        agent = j.agents.create(name="SDK tools")
        tool = j.agents.tools.create(agent.id, **WEATHER)  # type: ignore[arg-type]
        assert [t.name for t in j.agents.tools.list(agent.id)] == ["get_weather"]
        session = j.sessions.create(agent=agent.id)
        model.push([ToolCall("call_9", "get_weather", '{"city": "Oslo"}')])
        r = j.sessions.chat(session.id, messages=[{"role": "user", "content": "Oslo weather?"}])
        choice = r.choices[0]  # type: ignore[union-attr]
        assert choice.finish_reason == "tool_calls"
        assert choice.message.tool_calls[0].id == "call_9"  # type: ignore[union-attr,index]
        assert choice.message.tool_calls[0].function.name == "get_weather"  # type: ignore[union-attr,index]
        j.agents.tools.delete(tool.id, agent_id=agent.id)
        assert list(j.agents.tools.list(agent.id)) == []


FERN = {"X-Fern-Language": "Python"}


@pytest.mark.parametrize("echo_the_call", [False, True])
async def test_legacy_clients_see_calls_and_answer_with_function_messages(
    client: httpx.AsyncClient, model: ScriptedModel, echo_the_call: bool
) -> None:
    sid = await _session(client, [WEATHER])
    model.push([ToolCall("call_9", "get_weather", '{"city": "Paris"}')], "Sunny in Paris.")
    first = {"messages": [{"role": "user", "content": "Weather in Paris?", "name": None}]}
    r = (await client.post(f"/sessions/{sid}/chat", json=first, headers=FERN)).json()
    assert r["finish_reason"] == "tool_calls"
    [[call_message]] = r["response"]
    assert call_message["role"] == "function_call"
    call = json.loads(call_message["content"])
    assert call == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    answer = [{"role": "function", "name": "get_weather", "content": '{"sky": "clear"}'}]
    if echo_the_call:  # some clients send the call back before its result
        answer.insert(0, {"role": "function_call", "content": call_message["content"]})
    r2 = await client.post(f"/sessions/{sid}/chat", json={"messages": answer}, headers=FERN)
    assert r2.status_code == 201
    [[reply]] = r2.json()["response"]
    assert (reply["role"], reply["content"]) == ("assistant", "Sunny in Paris.")
    sent = model.requests[1].messages
    assert [m.role for m in sent[1:]] == ["user", "assistant", "tool"]  # no duplicate call
    assert sent[3].tool_call_id == "call_9" == sent[2].tool_calls[0].id
    items = (await client.get(f"/sessions/{sid}/history", headers=FERN)).json()["items"]
    assert [i["role"] for i in items] == ["user", "function_call", "function", "assistant"]
    assert json.loads(items[1]["content"])["name"] == "get_weather"
    assert len({i["id"] for i in items}) == 4
    entries = (await client.get(f"/sessions/{sid}/history")).json()["entries"]
    assert entries[2]["tool_call_id"] == "call_9"  # the result is stored linked to its call


async def test_a_new_legacy_call_gets_an_id_and_its_result_links_to_it(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    sid = await _session(client, [WEATHER])
    model.push("Noted.")
    call = json.dumps({"name": "get_weather", "arguments": {"city": "Oslo"}})
    messages = [
        {"role": "user", "content": "Weather?"},
        {"role": "function_call", "content": call},
        {"role": "function", "name": "get_weather", "content": "cold"},
    ]
    r = await client.post(f"/sessions/{sid}/chat", json={"messages": messages}, headers=FERN)
    assert r.status_code == 201
    sent = model.requests[0].messages[1:]
    assert [m.role for m in sent] == ["user", "assistant", "tool"]
    made = sent[1].tool_calls[0]
    assert made.id.startswith("call_") and made.name == "get_weather"
    assert json.loads(made.arguments) == {"city": "Oslo"}
    assert sent[2].tool_call_id == made.id
