"""Sprig as an MCP server: the ``mcp`` SDK's client on a live Sprig's ``/mcp`` (streamable
HTTP, in the 2026 per-request era and the initialize handshake) and ``/mcp/sse``, with a
tenant's API key: tools, resources, prompts, tenant isolation, refused keys, bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from mcp import MCPError

from sprig.server.models.scripted import ScriptedModel
from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, auth
from tests.helpers.mcp_client import add_tenant, mcp_client


@pytest.fixture
async def rest(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_url, headers=auth(API_KEY), timeout=30) as c:
        yield c


@pytest.fixture
async def world(rest: httpx.AsyncClient) -> dict[str, str]:
    """An agent with instructions, a user, and a doc of the agent's."""
    agent = {"name": "Ada", "about": "A ship's navigator.", "instructions": ["Speak in knots."]}
    agent_id = (await rest.post("/agents", json=agent)).json()["id"]
    user_id = (await rest.post("/users", json={"name": "Ana"})).json()["id"]
    doc = {"title": "Tides", "content": "High tide at the harbour is at 06:12 today."}
    r = await rest.post(f"/agents/{agent_id}/docs", json=doc)
    assert r.status_code == 201, r.text
    return {"agent": agent_id, "user": user_id, "doc": r.json()["id"]}


async def call(client: Any, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, arguments)
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    assert json.loads(result.content[0].text) == data
    return data


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_every_tool_works(
    live_url: str, world: dict[str, str], model: ScriptedModel, mode: str
) -> None:
    agent, user = world["agent"], world["user"]
    async with mcp_client(live_url, API_KEY, mode=mode) as client:
        assert client.server_info is not None and client.server_info.name == "sprig"
        assert client.protocol_version == ("2026-07-28" if mode == "auto" else "2025-11-25")
        listed = (await client.list_tools()).tools
        assert {t.name for t in listed} == {
            "list_agents", "chat", "search_documents", "add_document", "search_memories",
            "remember", "get_history",
        }  # fmt: skip
        chat_tool = next(t for t in listed if t.name == "chat")
        assert set(chat_tool.input_schema["required"]) == {"agent_id", "message"}
        assert "session" in (chat_tool.description or "")

        agents = (await call(client, "list_agents", {}))["agents"]
        assert [(a["id"], a["name"]) for a in agents] == [(agent, "Ada")]

        model.push("Aye, 12 knots.", "Still 12 knots.")
        first = await call(
            client, "chat", {"agent_id": agent, "message": "Speed?", "user_id": user}
        )
        assert first["reply"] == "Aye, 12 knots."
        session = first["session_id"]
        again = {"agent_id": agent, "message": "And now?", "session_id": session}
        assert (await call(client, "chat", again))["session_id"] == session
        assert [m.role for m in model.requests[-1].messages[1:]] == ["user", "assistant", "user"]

        history = await call(client, "get_history", {"session_id": session, "limit": 3})
        assert [m["content"] for m in history["messages"]] == [
            "Aye, 12 knots.", "And now?", "Still 12 knots.",
        ]  # fmt: skip

        found = await call(
            client,
            "search_documents",
            {"scope": "agent", "owner_id": agent, "text": "when is high tide", "alpha": 0.5},
        )
        assert found["documents"][0]["title"] == "Tides"
        assert "06:12" in found["documents"][0]["snippet"]

        added = await call(
            client,
            "add_document",
            {"scope": "user", "owner_id": user, "title": "Boat", "content": "Ana's boat is blue."},
        )
        assert added["searchable"] is True
        found = await call(
            client, "search_documents", {"scope": "user", "owner_id": user, "text": "boat colour"}
        )
        assert [d["id"] for d in found["documents"]] == [added["id"]]

        kept = await call(
            client, "remember", {"agent_id": agent, "user_id": user, "fact": "Ana sails at dawn."}
        )
        assert kept["memory"]["content"] == "Ana sails at dawn."
        memories = await call(
            client, "search_memories", {"agent_id": agent, "user_id": user, "text": "sailing"}
        )
        assert [m["content"] for m in memories["memories"]] == ["Ana sails at dawn."]


async def test_resources_and_prompts(
    live_url: str, world: dict[str, str], model: ScriptedModel
) -> None:
    agent, doc = world["agent"], world["doc"]
    async with mcp_client(live_url, API_KEY) as client:
        model.push("Hello.")
        session = (await call(client, "chat", {"agent_id": agent, "message": "Hi"}))["session_id"]

        uris = {r.uri for r in (await client.list_resources()).resources}
        assert {
            f"sprig://agents/{agent}",
            f"sprig://sessions/{session}",
            f"sprig://docs/{doc}",
        } <= uris
        templates = {
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        }
        assert "sprig://sessions/{session_id}/history" in templates

        async def read(uri: str) -> Any:
            contents = (await client.read_resource(uri)).contents
            assert contents[0].mime_type == "application/json"
            return json.loads(contents[0].text)  # type: ignore[union-attr]

        assert (await read(f"sprig://agents/{agent}"))["instructions"] == ["Speak in knots."]
        assert (await read(f"sprig://docs/{doc}"))["title"] == "Tides"
        assert (await read(f"sprig://sessions/{session}"))["agents"] == [agent]
        messages = (await read(f"sprig://sessions/{session}/history"))["messages"]
        assert [m["content"] for m in messages] == ["Hi", "Hello."]
        for bad in ("sprig://agents/not-an-id", "file:///etc/passwd", f"sprig://docs/{agent}"):
            with pytest.raises(MCPError):
                await client.read_resource(bad)

        prompts = (await client.list_prompts()).prompts
        assert [p.name for p in prompts] == [f"agent-{agent}"]
        assert prompts[0].title == "Ada: system prompt"
        got = await client.get_prompt(f"agent-{agent}", {"user_id": world["user"]})
        text = got.messages[0].content.text  # type: ignore[union-attr]
        assert "Speak in knots." in text and "navigator" in text
        with pytest.raises(MCPError):
            await client.get_prompt("agent-00000000-0000-0000-0000-000000000000")


async def test_another_tenant_sees_only_its_own(
    live_url: str, live_settings: Settings, world: dict[str, str], model: ScriptedModel
) -> None:
    other = await add_tenant(live_settings, "tenant-b")
    agent = world["agent"]
    async with mcp_client(live_url, API_KEY) as mine:
        model.push("ok")
        session = (await call(mine, "chat", {"agent_id": agent, "message": "Hi"}))["session_id"]
    async with mcp_client(live_url, other) as theirs:
        assert (await call(theirs, "list_agents", {}))["agents"] == []
        assert (await theirs.list_resources()).resources == []
        assert (await theirs.list_prompts()).prompts == []
        for name, args in [
            ("chat", {"agent_id": agent, "message": "hi"}),
            ("get_history", {"session_id": session}),
            ("search_documents", {"scope": "agent", "owner_id": agent, "text": "tide"}),
            ("search_memories", {"agent_id": agent}),
            ("remember", {"agent_id": agent, "user_id": world["user"], "fact": "x"}),
        ]:
            result = await theirs.call_tool(name, args)
            assert result.is_error and "not found" in result.content[0].text.lower(), name  # type: ignore[union-attr]
        with pytest.raises(MCPError):
            await theirs.read_resource(f"sprig://agents/{agent}")
        with pytest.raises(MCPError):
            await theirs.get_prompt(f"agent-{agent}")


async def test_each_request_is_its_own_tenants(
    live_url: str, live_settings: Settings, world: dict[str, str]
) -> None:
    """No MCP session carries a tenant from one request to the next (the server is
    stateless): a call answers for the key it presents."""
    other = await add_tenant(live_settings, "tenant-c")
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"},
        },
    }
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "list_agents", "arguments": {}},
    }
    headers = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as raw:
        r = await raw.post("/mcp", json=init, headers={**headers, **auth(API_KEY)})
        assert r.status_code == 200 and "mcp-session-id" not in r.headers
        versioned = {**headers, "mcp-protocol-version": "2025-11-25"}
        answers = []
        for key in (API_KEY, other):
            r = await raw.post("/mcp", json=call, headers={**versioned, **auth(key)})
            data = next(line[6:] for line in r.text.splitlines() if line.startswith("data: "))
            answers.append(json.loads(data)["result"]["structuredContent"]["agents"])
    assert [len(a) for a in answers] == [1, 0]


@pytest.mark.parametrize("key", [None, "sk-sprig-wrong"])
async def test_a_missing_or_wrong_key_is_refused(live_url: str, key: str | None) -> None:
    headers = {"Accept": "application/json, text/event-stream", **(auth(key) if key else {})}
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as raw:
        for path in ("/mcp", "/api/mcp", "/mcp/sse", "/mcp/messages/?session_id=00"):
            method = "GET" if path.endswith("sse") else "POST"
            r = await raw.request(method, path, json={}, headers=headers)
            assert r.status_code == 401, path
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert r.json()["error"]["type"] == "authentication_error"
    with pytest.raises(Exception):  # noqa: B017 - the SDK's own error for a 401
        async with mcp_client(live_url, key) as client:
            await client.list_tools()


async def test_bad_input_is_an_mcp_error_never_a_500(live_url: str, world: dict[str, str]) -> None:
    async with mcp_client(live_url, API_KEY) as client:
        for args in [
            {},
            {"agent_id": "not-a-uuid", "message": "hi"},
            {"agent_id": world["agent"], "message": ""},
            {"agent_id": world["agent"], "message": "hi", "surprise": 1},
            {"agent_id": world["agent"], "message": "a\x00b"},
        ]:
            result = await client.call_tool("chat", args)
            assert result.is_error, args
            assert result.content[0].text.startswith("Invalid arguments")  # type: ignore[union-attr]
        limit = await client.call_tool("list_agents", {"limit": 10_000})
        assert limit.is_error and "limit" in limit.content[0].text  # type: ignore[union-attr]
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("drop_database", {})
        assert "Unknown tool" in str(unknown.value)


async def test_the_sse_transport_and_the_api_prefix(
    live_url: str, world: dict[str, str], model: ScriptedModel
) -> None:
    async with mcp_client(live_url, API_KEY, sse=True) as client:
        assert len((await client.list_tools()).tools) == 7
        model.push("Over SSE.")
        reply = await call(client, "chat", {"agent_id": world["agent"], "message": "hi"})
        assert reply["reply"] == "Over SSE."
    async with mcp_client(f"{live_url}/api", API_KEY) as client:
        assert (await call(client, "list_agents", {}))["agents"][0]["name"] == "Ada"


async def test_the_endpoint_refuses_before_loading_the_sdk(client: httpx.AsyncClient) -> None:
    r = await client.post("/mcp", json={}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert "/mcp" not in (await client.get("/openapi.json")).json()["paths"]


class TestSwitchedOff:
    @pytest.fixture
    def settings(self, tmp_path: Any) -> Settings:
        from tests.helpers.app import make_settings

        return make_settings(tmp_path / "data", mcp_server=False)

    async def test_no_mcp_endpoint(self, client: httpx.AsyncClient) -> None:
        assert (await client.post("/mcp", json={})).status_code == 404
