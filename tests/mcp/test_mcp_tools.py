"""MCP servers as a source of agent tools: a real MCP server over streamable HTTP and stdio,
an agent with its tools, the scripted model calling them with the server-run tool loop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from sprig.server.mcp import connect
from sprig.server.models.base import Capabilities, ToolCall
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from tests.helpers.app import make_settings
from tests.helpers.chat import user_msg
from tests.helpers.mcp_server import stdio_command

REPO = Path(__file__).resolve().parents[2]


def mcp_tool(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "calc", "type": "mcp", "mcp": {"url": url, **extra}}


async def _session(client: httpx.AsyncClient, tools: list[dict[str, Any]], **extra: Any) -> str:
    agent = (await client.post("/agents", json={"name": "Toolsmith"})).json()
    for tool in tools:
        r = await client.post(f"/agents/{agent['id']}/tools", json=tool)
        assert r.status_code == 201, r.text
    body = {"agent": agent["id"], **extra}
    return str((await client.post("/sessions", json=body)).json()["id"])


def tool_results(model: ScriptedModel) -> list[dict[str, Any]]:
    return [json.loads(m.text()) for m in model.requests[-1].messages if m.role == "tool"]


async def test_an_agent_runs_an_mcp_servers_tools(
    client: httpx.AsyncClient, model: ScriptedModel, tools_url: str
) -> None:
    sid = await _session(client, [mcp_tool(tools_url)], auto_run_tools=True)
    model.push(
        [ToolCall("c1", "calc__add", '{"a": 2, "b": 3}')],
        [ToolCall("c2", "calc__echo", '{"text": "hello"}'), ToolCall("c3", "calc__note", "{}")],
        "2 + 3 = 5.",
    )
    r = await client.post(f"/sessions/{sid}/chat", json=user_msg("Add 2 and 3"))
    assert r.status_code == 201, r.text
    reply = r.json()
    assert reply["choices"][0]["message"]["content"] == "2 + 3 = 5."

    offered = {t.name: t for t in model.requests[0].tools}
    assert set(offered) == {
        "calc__add", "calc__echo", "calc__fail", "calc__sleep", "calc__pixel", "calc__note",
        "calc__header",
    }  # fmt: skip
    assert offered["calc__add"].description == "Add two numbers."
    assert offered["calc__add"].parameters["required"] == ["a", "b"]
    results = tool_results(model)
    assert results[0] == {"text": "5.0", "structured_content": {"result": 5.0}}
    assert results[1]["text"] == "hello"
    assert results[2]["text"] == "a note"
    assert results[2]["content"][0]["uri"] == "note://1"

    history = (await client.get(f"/sessions/{sid}/history")).json()["entries"]
    assert [e["role"] for e in history] == [
        "user", "assistant", "tool", "assistant", "tool", "tool", "assistant",
    ]  # fmt: skip
    assert history[1]["tool_calls"][0]["function"]["name"] == "calc__add"
    assert json.loads(history[2]["content"])["text"] == "5.0"

    trace = (await client.get(f"/sessions/{sid}/turns/{reply['id']}/trace")).json()
    tools = [p["detail"] for p in trace["phases"] if p["name"] == "tool"]
    assert tools == ["calc__add", "calc__echo", "calc__note"]


async def test_failures_and_timeouts_are_tool_errors(
    client: httpx.AsyncClient, model: ScriptedModel, tools_url: str
) -> None:
    sid = await _session(client, [mcp_tool(tools_url, timeout=1)], auto_run_tools=True)
    model.push(
        [
            ToolCall("c1", "calc__fail", '{"message": "no luck"}'),
            ToolCall("c2", "calc__sleep", '{"seconds": 5}'),
            ToolCall("c3", "calc__add", '{"a": "x"}'),
            ToolCall("c4", "calc__add", "not json"),
        ],
        "Those failed.",
    )
    r = await client.post(f"/sessions/{sid}/chat", json=user_msg("try"))
    assert r.status_code == 201, r.text
    fail, sleep, bad, garbled = (res["error"] for res in tool_results(model))
    assert fail["code"] == "mcp_tool_error" and "no luck" in fail["message"]
    assert sleep["code"] == "upstream_timeout" and "within 1s" in sleep["message"]
    assert bad["code"] == "mcp_tool_error" and "validation" in bad["message"]
    assert garbled["code"] == "invalid_arguments"


async def test_without_auto_run_the_calls_go_back_to_the_client(
    client: httpx.AsyncClient, model: ScriptedModel, tools_url: str
) -> None:
    sid = await _session(client, [mcp_tool(tools_url)])
    model.push([ToolCall("c1", "calc__add", '{"a": 1, "b": 1}')], "It is 2.")
    r = (await client.post(f"/sessions/{sid}/chat", json=user_msg("1 + 1?"))).json()
    assert r["choices"][0]["finish_reason"] == "tool_calls"
    assert r["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "calc__add"
    result = {"role": "tool", "tool_call_id": "c1", "content": '{"text": "2"}'}
    r2 = (await client.post(f"/sessions/{sid}/chat", json={"messages": [result]})).json()
    assert r2["choices"][0]["message"]["content"] == "It is 2."
    assert "calc__add" in {t.name for t in model.requests[1].tools}


async def test_tools_named_in_the_tool_are_the_only_ones_offered(
    client: httpx.AsyncClient, model: ScriptedModel, tools_url: str
) -> None:
    sid = await _session(client, [mcp_tool(tools_url, tools=["add", "echo"])])
    model.push("ok")
    await client.post(f"/sessions/{sid}/chat", json=user_msg("hi"))
    assert [t.name for t in model.requests[0].tools] == ["calc__add", "calc__echo"]


async def test_a_request_tool_of_type_mcp_works_too(
    client: httpx.AsyncClient, model: ScriptedModel, tools_url: str
) -> None:
    sid = await _session(client, [])
    model.push([ToolCall("c1", "maths__add", '{"a": 4, "b": 4}')], "8")
    tool = {**mcp_tool(tools_url), "name": "maths"}
    body = {**user_msg("4 + 4"), "tools": [tool], "auto_run_tools": True}
    assert (await client.post(f"/sessions/{sid}/chat", json=body)).status_code == 201
    assert tool_results(model)[0]["structured_content"] == {"result": 8.0}


async def test_images_are_content_parts_for_models_that_take_them(
    client: httpx.AsyncClient, runtime: Runtime, tools_url: str
) -> None:
    seeing = ScriptedModel(name="seeing", capabilities=Capabilities(tools=True, tool_images=True))
    runtime.models.register(seeing)
    agent = (await client.post("/agents", json={"name": "Eyes", "model": "seeing"})).json()
    await client.post(f"/agents/{agent['id']}/tools", json=mcp_tool(tools_url))
    sid = (await client.post("/sessions", json={"agent": agent["id"]})).json()["id"]
    seeing.push([ToolCall("c1", "calc__pixel", "{}")], "A single pixel.")
    body = {**user_msg("Show me"), "auto_run_tools": True}
    assert (await client.post(f"/sessions/{sid}/chat", json=body)).status_code == 201
    answer = next(m for m in seeing.requests[1].messages if m.role == "tool")
    assert isinstance(answer.content, list)
    text, image = answer.content
    assert json.loads(text["text"])["content"][0]["mime_type"] == "image/png"
    assert image["image_url"]["url"].startswith("data:image/png;base64,iVBOR")
    history = (await client.get(f"/sessions/{sid}/history")).json()["entries"]
    assert history[2]["content"][1]["type"] == "image_url"  # kept for the next turns

    seeing.push([ToolCall("c2", "calc__pixel", "{}")], "Again one pixel.")
    body = {**user_msg("Again"), "auto_run_tools": True, "stream": True}
    r = await client.post(f"/sessions/{sid}/chat", json=body)
    chunks = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
    tool = next(
        c["choices"][0]["delta"] for c in chunks if c["choices"][0]["delta"]["role"] == "tool"
    )
    assert json.loads(tool["content"])["content"][0]["type"] == "image"  # the text streams


async def test_models_without_images_get_the_json_only(
    client: httpx.AsyncClient, model: ScriptedModel, tools_url: str
) -> None:
    sid = await _session(client, [mcp_tool(tools_url)], auto_run_tools=True)
    model.push([ToolCall("c1", "calc__pixel", "{}")], "There is an image.")
    await client.post(f"/sessions/{sid}/chat", json=user_msg("Show me"))
    answer = next(m for m in model.requests[1].messages if m.role == "tool")
    assert isinstance(answer.content, str)
    assert json.loads(answer.content)["content"][0]["type"] == "image"


async def test_headers_are_sealed_sent_and_never_shown(
    client: httpx.AsyncClient, model: ScriptedModel, runtime: Runtime, tools_url: str
) -> None:
    headers = {"Authorization": "Bearer s3cret-token", "X-Team": "blue"}
    sid = await _session(client, [mcp_tool(tools_url, headers=headers)], auto_run_tools=True)
    agent = (await client.get(f"/sessions/{sid}")).json()["agents"][0]
    shown = (await client.get(f"/agents/{agent}/tools")).json()["items"][0]["mcp"]["headers"]
    assert shown == {"Authorization": "Bearer ***", "X-Team": "***"}
    assert runtime.startup_key is not None
    async with runtime.db.read() as conn:
        rows = await runtime.tools.all_for_agent(
            conn, runtime.startup_key.developer_id, UUID(agent)
        )
    assert "s3cret" not in json.dumps(rows[0]["spec"], default=str)
    model.push([ToolCall("c1", "calc__header", '{"name": "Authorization"}')], "ok")
    await client.post(f"/sessions/{sid}/chat", json=user_msg("who am I?"))
    assert tool_results(model)[0]["text"] == "Bearer s3cret-token"


async def test_an_update_sending_the_shown_header_back_keeps_the_secret(
    client: httpx.AsyncClient, model: ScriptedModel, tools_url: str
) -> None:
    headers = {"Authorization": "Bearer kept-token"}
    sid = await _session(client, [mcp_tool(tools_url, headers=headers)], auto_run_tools=True)
    agent = (await client.get(f"/sessions/{sid}")).json()["agents"][0]
    tool = (await client.get(f"/agents/{agent}/tools")).json()["items"][0]
    shown = {"name": "calc", "type": "mcp", "description": "Sums", "mcp": tool["mcp"]}
    r = await client.put(f"/agents/{agent}/tools/{tool['id']}", json=shown)
    assert r.status_code == 200 and r.json()["mcp"]["headers"] == {"Authorization": "Bearer ***"}
    model.push([ToolCall("c1", "calc__header", '{"name": "Authorization"}')], "ok")
    await client.post(f"/sessions/{sid}/chat", json=user_msg("token?"))
    assert tool_results(model)[0]["text"] == "Bearer kept-token"


async def test_a_header_may_come_from_an_allowed_environment_variable(
    client: httpx.AsyncClient,
    model: ScriptedModel,
    runtime: Runtime,
    tools_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEAM_TOKEN", "from-env")
    monkeypatch.setenv("OTHER_TOKEN", "hidden")
    runtime.mcp_tools.policy = type(runtime.mcp_tools.policy)(
        allow=("127.0.0.1",), env_allow=("TEAM_TOKEN",)
    )
    allowed = {"X-Token": {"env": "TEAM_TOKEN"}}
    sid = await _session(client, [mcp_tool(tools_url, headers=allowed)], auto_run_tools=True)
    model.push([ToolCall("c1", "calc__header", '{"name": "X-Token"}')], "ok")
    await client.post(f"/sessions/{sid}/chat", json=user_msg("token?"))
    assert tool_results(model)[0]["text"] == "from-env"

    other = {"X-Token": {"env": "OTHER_TOKEN"}}
    sid = await _session(client, [mcp_tool(tools_url, headers=other)])
    agent = (await client.get(f"/sessions/{sid}")).json()["agents"][0]
    tool = (await client.get(f"/agents/{agent}/tools")).json()["items"][0]
    r = await client.get(f"/agents/{agent}/tools/{tool['id']}/mcp_tools")
    assert r.status_code == 403 and "OTHER_TOKEN" in r.json()["error"]["message"]
    assert "hidden" not in r.text


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"url": "ftp://example.com/mcp"},
        {"url": "https://example.com/mcp", "transport": "carrier-pigeon"},
        {"url": "https://example.com/mcp", "headers": {"A": 1}},
        {"url": "https://example.com/mcp", "headers": {"A": {"env": "1BAD"}}},
        {"url": "https://example.com/mcp", "timeout": -1},
        {"url": "https://example.com/mcp", "tools": "add"},
        {"command": ""},
        {"url": "https://example.com/mcp", "surprise": True},
    ],
)
async def test_bad_mcp_tools_are_refused(client: httpx.AsyncClient, bad: dict[str, Any]) -> None:
    agent = (await client.post("/agents", json={"name": "Picky"})).json()
    r = await client.post(
        f"/agents/{agent['id']}/tools", json={"name": "x", "type": "mcp", "mcp": bad}
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"].startswith(("An mcp tool", "mcp.", "Unknown keys"))


class TestCache:
    async def test_lists_are_cached_and_refreshed_on_demand(
        self,
        client: httpx.AsyncClient,
        model: ScriptedModel,
        tools_url: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        calls: list[str] = []
        listed = connect.listed

        async def counting(*args: Any) -> Any:
            calls.append("list")
            return await listed(*args)

        monkeypatch.setattr(connect, "listed", counting)
        sid = await _session(client, [mcp_tool(tools_url)])
        model.push("one", "two")
        await client.post(f"/sessions/{sid}/chat", json=user_msg("a"))
        await client.post(f"/sessions/{sid}/chat", json=user_msg("b"))
        assert calls == ["list"]

        agent = (await client.get(f"/sessions/{sid}")).json()["agents"][0]
        tool = (await client.get(f"/agents/{agent}/tools")).json()["items"][0]
        url = f"/agents/{agent}/tools/{tool['id']}/mcp_tools"
        cached = (await client.get(url)).json()["items"]
        assert calls == ["list"]
        fresh = (await client.get(url, params={"refresh": "true"})).json()["items"]
        assert calls == ["list", "list"]
        assert cached == fresh
        add = next(t for t in fresh if t["name"] == "calc__add")
        assert add["server_tool"] == "add" and add["parameters"]["type"] == "object"

    async def test_agents_without_mcp_tools_never_touch_mcp(
        self, client: httpx.AsyncClient, model: ScriptedModel, runtime: Runtime
    ) -> None:
        async def never(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("no mcp tool here")

        runtime.chat.tools.expand = never  # type: ignore[method-assign]
        sid = await _session(
            client, [{"name": "calc", "type": "integration", "integration": {"provider": "math"}}]
        )
        model.push("fine")
        assert (await client.post(f"/sessions/{sid}/chat", json=user_msg("hi"))).status_code == 201


class TestAddresses:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "data")  # no allow-list: loopback is refused

    async def test_a_server_on_a_private_address_is_refused(
        self, client: httpx.AsyncClient, model: ScriptedModel, tools_url: str
    ) -> None:
        sid = await _session(client, [mcp_tool(tools_url)], auto_run_tools=True)
        model.push("No tools today.")
        r = await client.post(f"/sessions/{sid}/chat", json=user_msg("hi"))
        assert r.status_code == 201
        assert model.requests[0].tools == []  # the turn goes on without them

        agent = (await client.get(f"/sessions/{sid}")).json()["agents"][0]
        tool = (await client.get(f"/agents/{agent}/tools")).json()["items"][0]
        r = await client.get(f"/agents/{agent}/tools/{tool['id']}/mcp_tools")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "blocked_address"
        assert "loopback" in r.json()["error"]["message"]

    async def test_the_allow_list_lets_it_through(
        self, client: httpx.AsyncClient, runtime: Runtime, tools_url: str
    ) -> None:
        runtime.mcp_tools.policy = type(runtime.mcp_tools.policy)(allow=("127.0.0.0/8",))
        sid = await _session(client, [mcp_tool(tools_url)])
        agent = (await client.get(f"/sessions/{sid}")).json()["agents"][0]
        tool = (await client.get(f"/agents/{agent}/tools")).json()["items"][0]
        r = await client.get(f"/agents/{agent}/tools/{tool['id']}/mcp_tools")
        assert r.status_code == 200 and len(r.json()["items"]) == 7


class TestStdio:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        command, _ = stdio_command()
        return make_settings(
            tmp_path / "data", mcp_stdio_servers=True, mcp_stdio_commands=[command], mcp_timeout=30
        )

    async def test_an_agent_runs_a_stdio_servers_tools(
        self, client: httpx.AsyncClient, model: ScriptedModel
    ) -> None:
        command, args = stdio_command()
        tool = {
            "name": "local",
            "type": "mcp",
            "mcp": {"command": command, "args": args, "cwd": str(REPO)},
        }
        sid = await _session(client, [tool], auto_run_tools=True)
        model.push([ToolCall("c1", "local__add", '{"a": 20, "b": 22}')], "42")
        r = await client.post(f"/sessions/{sid}/chat", json=user_msg("20 + 22"))
        assert r.status_code == 201, r.text
        assert tool_results(model)[0]["structured_content"] == {"result": 42.0}

    async def test_commands_not_listed_are_refused(self, client: httpx.AsyncClient) -> None:
        tool = {"name": "sh", "type": "mcp", "mcp": {"command": "/bin/sh", "args": ["-c", "id"]}}
        sid = await _session(client, [tool])
        agent = (await client.get(f"/sessions/{sid}")).json()["agents"][0]
        made = (await client.get(f"/agents/{agent}/tools")).json()["items"][0]
        r = await client.get(f"/agents/{agent}/tools/{made['id']}/mcp_tools")
        assert r.status_code == 403 and r.json()["error"]["code"] == "mcp_stdio_refused"


async def test_stdio_servers_are_off_by_default(client: httpx.AsyncClient) -> None:
    command, args = stdio_command()
    tool = {"name": "local", "type": "mcp", "mcp": {"command": command, "args": args}}
    sid = await _session(client, [tool])
    agent = (await client.get(f"/sessions/{sid}")).json()["agents"][0]
    made = (await client.get(f"/agents/{agent}/tools")).json()["items"][0]
    r = await client.get(f"/agents/{agent}/tools/{made['id']}/mcp_tools")
    assert r.status_code == 403 and "SPRIG_MCP_STDIO_SERVERS" in r.json()["error"]["message"]


async def test_the_julep_integration_shape_calls_a_tool(
    client: httpx.AsyncClient, model: ScriptedModel, tools_url: str
) -> None:
    tool = {
        "name": "adder",
        "type": "integration",
        "integration": {
            "provider": "mcp",
            "method": "call_tool",
            "setup": {"transport": "http", "http_url": tools_url},
            "arguments": {"tool_name": "add"},
        },
    }
    sid = await _session(client, [tool], auto_run_tools=True)
    model.push(
        [ToolCall("c1", "adder", '{"arguments": {"a": 1, "b": 2}}')],
        [ToolCall("c2", "adder", '{"arguments": {"a": "x"}}')],
        "3",
    )
    assert (await client.post(f"/sessions/{sid}/chat", json=user_msg("1 + 2"))).status_code == 201
    offered = model.requests[0].tools[0].parameters
    assert "tool_name" not in offered["properties"]  # fixed by the tool
    first, second = tool_results(model)
    assert first["structured_content"] == {"result": 3.0}
    assert second["error"]["code"] == "upstream_error"
