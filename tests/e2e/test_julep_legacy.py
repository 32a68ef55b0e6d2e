"""The legacy julep 0.2.14 and 0.3.9 SDKs, unmodified, drive Sprig through their managers.

Each SDK runs legacy_scripts/crud.py in its own cached virtualenv (conftest.legacy_sdk); the
script reports what the SDK observed and these tests assert on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.legacy]

WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}


@pytest.fixture(scope="module", params=["julep-0.2.14", "julep-0.3.9"])
def observed(
    request: pytest.FixtureRequest,
    live_server: Any,
    legacy_sdk: Callable[[str], Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """Run the script once per SDK, against the /api mount (the 0.x default base path)."""
    sdk = legacy_sdk(request.param)
    workdir = tmp_path_factory.mktemp(request.param)
    result: dict[str, Any] = sdk.run(
        "crud.py", f"{live_server.base_url}/api", live_server.api_key, workdir
    )
    assert result["sdk_version"] == request.param.removeprefix("julep-")
    return result


def section(observed: dict[str, Any], name: str) -> dict[str, Any]:
    data: dict[str, Any] = observed[name]
    if not data["ok"]:
        pytest.fail(
            f"julep {observed['sdk_version']} {name}: {data['error']}\n{data['traceback']}",
            pytrace=False,
        )
    return data


def assert_uuid(value: str) -> None:
    assert str(uuid.UUID(value)) == value.lower()


def test_agents(observed: dict[str, Any]) -> None:
    obs = section(observed, "agents")
    agent_id = obs["created_id"]
    assert_uuid(agent_id)
    got = obs["get"]
    assert got["id"] == agent_id
    assert (got["name"], got["about"]) == ("Legacy agent", "Made by the legacy SDK")
    assert got["instructions"] == ["be brief", "be kind"]
    assert isinstance(got["model"], str) and got["model"]
    assert got["default_settings"]["temperature"] == pytest.approx(0.25)
    assert agent_id in obs["list_ids"]
    assert obs["filtered_ids"] == [agent_id]
    assert agent_id not in obs["unmatched_filter_ids"]


def test_agent_inline_tools_and_docs(observed: dict[str, Any]) -> None:
    obs = section(observed, "agents")
    [tool] = obs["inline_tools"]
    assert_uuid(tool["id"])
    assert tool["type"] == "function"
    assert tool["function"]["name"] == "get_weather"
    assert tool["function"]["parameters"] == WEATHER_PARAMS
    [doc] = obs["inline_docs"]
    assert (doc["title"], doc["content"]) == ("Agent inline doc", "inline agent content")


def test_agent_patch_put_delete(observed: dict[str, Any]) -> None:
    obs = section(observed, "agents")
    assert obs["patch_result"]["id"] == obs["created_id"]
    patched = obs["after_patch"]
    assert patched["about"] == "patched about"
    assert patched["name"] == "Legacy agent"
    assert patched["instructions"] == ["be brief", "be kind"]
    put = obs["after_put"]
    assert (put["name"], put["about"]) == ("Renamed agent", "overwritten about")
    assert put["instructions"] == ["only one"]
    assert obs["get_after_delete"] == 404


def test_users(observed: dict[str, Any]) -> None:
    obs = section(observed, "users")
    user_id = obs["created_id"]
    assert_uuid(user_id)
    assert obs["get"]["id"] == user_id
    assert (obs["get"]["name"], obs["get"]["about"]) == ("Legacy user", "A user from 0.x")
    assert user_id in obs["list_ids"]
    assert obs["filtered_ids"] == [user_id]
    [doc] = obs["inline_docs"]
    assert (doc["title"], doc["content"]) == ("User inline doc", "inline user content")
    assert obs["patch_result"]["id"] == user_id
    assert (obs["after_patch"]["name"], obs["after_patch"]["about"]) == (
        "Legacy user",
        "patched user about",
    )
    assert (obs["after_put"]["name"], obs["after_put"]["about"]) == ("Renamed user", "put about")
    assert obs["get_after_delete"] == 404


def test_sessions(observed: dict[str, Any]) -> None:
    obs = section(observed, "sessions")
    session_id = obs["created_id"]
    assert_uuid(session_id)
    got = obs["get"]
    assert got["id"] == session_id
    assert (got["agent_id"], got["user_id"]) == (obs["agent_id"], obs["user_id"])
    assert got["situation"] == "a legacy situation"
    assert session_id in obs["list_ids"]
    assert obs["agent_only_id"] in obs["list_ids"]
    assert obs["filtered_ids"] == [session_id]
    assert obs["history"] == []


def test_session_without_user_parses(observed: dict[str, Any]) -> None:
    """0.2.14 requires a non-null Session.user_id; the session must still be readable."""
    obs = section(observed, "sessions")
    lone = obs["agent_only_get"]
    assert lone["id"] == obs["agent_only_id"]
    assert lone["agent_id"] == obs["agent_id"]
    assert lone["situation"] == "no user here"
    assert lone.get("user_id") in (None, str(uuid.UUID(int=0)))


def test_session_v039_fields(observed: dict[str, Any]) -> None:
    if observed["sdk_version"] != "0.3.9":
        pytest.skip("render_templates/token_budget/context_overflow exist from 0.3 on")
    got = section(observed, "sessions")["get"]
    assert got["render_templates"] is True
    assert got["token_budget"] == 2048
    assert got["context_overflow"] == "truncate"


def test_session_patch_put_delete(observed: dict[str, Any]) -> None:
    obs = section(observed, "sessions")
    assert obs["after_patch"]["situation"] == "patched situation"
    assert obs["after_patch"]["agent_id"] == obs["agent_id"]
    assert obs["after_put"]["situation"] == "put situation"
    assert obs["get_after_delete"] == 404


@pytest.mark.parametrize("owner", ["agent", "user"])
def test_docs(observed: dict[str, Any], owner: str) -> None:
    obs = section(observed, "docs")[owner]
    doc_id = obs["created_id"]
    assert_uuid(doc_id)
    [doc] = [d for d in obs["listed"] if d["id"] == doc_id]
    assert doc["title"] == "Owned doc"
    assert doc["content"] == obs["sent_content"]
    assert doc_id not in obs["ids_after_delete"]
    assert obs["delete_again"] == 404


def test_doc_list_content_v039(observed: dict[str, Any]) -> None:
    """0.3.9 may send list content; Fern clients get it back joined or as the same list."""
    if observed["sdk_version"] != "0.3.9":
        pytest.skip("list content is a 0.3 feature")
    obs = section(observed, "docs")["agent_list_content"]
    [doc] = [d for d in obs["listed"] if d["id"] == obs["created_id"]]
    content = doc["content"]
    if isinstance(content, list):
        assert content == ["part one", "two"]
    else:
        assert "part one" in content and "two" in content
    assert obs["created_id"] not in obs["ids_after_delete"]


def test_tools(observed: dict[str, Any]) -> None:
    obs = section(observed, "tools")
    tool_id = obs["created_id"]
    assert_uuid(tool_id)
    [tool] = obs["listed"]
    assert tool["id"] == tool_id
    assert tool["type"] == "function"
    assert tool["function"] == {
        "name": "lookup",
        "description": "Look it up",
        "parameters": WEATHER_PARAMS,
    }
    [patched] = obs["after_patch"]
    assert (patched["id"], patched["function"]["name"]) == (tool_id, "lookup")
    assert patched["function"]["description"] == "patched"
    [put] = obs["after_put"]
    assert put["id"] == tool_id
    assert put["function"]["name"] == "lookup_v2"
    assert put["function"]["description"] == "replaced"
    assert obs["ids_after_delete"] == []
    assert obs["delete_again"] == 404


# ------------------------------------------------- reading data written by julep 2.21.0


@pytest.fixture(scope="module")
def v2_written(live_server: Any) -> dict[str, Any]:
    """v1-only shapes written by the 2.x SDK, in a tenant of their own."""
    from julep import Julep

    key = live_server.create_key("legacy-interop")
    modern = Julep(api_key=key, base_url=live_server.base_url, max_retries=0)
    agent = modern.agents.create(
        name="Modern agent",
        instructions="one string instruction",
        default_settings={"temperature": 0.2, "preset": "not_a_legacy_preset", "knob": 3},
    )
    tools = modern.agents.tools
    tools.create(agent.id, name="fn_tool", type="function", function={"parameters": WEATHER_PARAMS})
    tools.create(
        agent.id,
        name="web",
        type="api_call",
        api_call={"method": "GET", "url": "https://example.com"},
    )
    tools.create(
        agent.id, name="sys", type="system", system={"resource": "agent", "operation": "list"}
    )
    second = modern.agents.create(name="Second modern agent")
    users = [modern.users.create(name=f"Modern user {i}").id for i in range(2)]
    session = modern.sessions.create(agents=[agent.id, second.id], users=users)
    text = modern.agents.docs.create(agent.id, title="Text", content="plain text")
    parts = modern.agents.docs.create(agent.id, title="Parts", content=["alpha", "beta"])
    return {
        "key": key, "agent": agent.id, "second_agent": second.id, "users": users,
        "session": session.id, "text_doc": text.id, "parts_doc": parts.id,
    }  # fmt: skip


@pytest.fixture(scope="module", params=["julep-0.2.14", "julep-0.3.9"])
def interop(
    request: pytest.FixtureRequest,
    live_server: Any,
    legacy_sdk: Callable[[str], Any],
    v2_written: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp(f"interop-{request.param}")
    sdk = legacy_sdk(request.param)
    url = f"{live_server.base_url}/api"
    result: dict[str, Any] = sdk.run("read_v2_data.py", url, v2_written["key"], workdir, v2_written)
    return result


def test_legacy_reads_v2_agent(interop: dict[str, Any], v2_written: dict[str, Any]) -> None:
    obs = section(interop, "agents")
    got = obs["get"]
    assert (got["id"], got["name"]) == (v2_written["agent"], "Modern agent")
    assert got["instructions"] in ("one string instruction", ["one string instruction"])
    assert got["default_settings"]["temperature"] == pytest.approx(0.2)
    assert {v2_written["agent"], v2_written["second_agent"]} <= set(obs["list_ids"])


def test_legacy_reads_v2_tools(interop: dict[str, Any]) -> None:
    """Non-function tools cannot be represented in 0.x: hidden or mapped, never a failed list."""
    listed = section(interop, "tools")["listed"]
    assert all(t["type"] in ("function", "webhook") for t in listed)
    [fn_tool] = [t for t in listed if t["function"]["name"] == "fn_tool"]
    assert fn_tool["function"]["parameters"] == WEATHER_PARAMS


def test_legacy_reads_v2_docs(interop: dict[str, Any], v2_written: dict[str, Any]) -> None:
    listed = {d["id"]: d for d in section(interop, "docs")["listed"]}
    assert set(listed) == {v2_written["text_doc"], v2_written["parts_doc"]}
    assert listed[v2_written["text_doc"]]["content"] == "plain text"
    parts = listed[v2_written["parts_doc"]]["content"]
    if interop["sdk_version"] == "0.2.14":
        assert isinstance(parts, str)
    assert "alpha" in parts and "beta" in parts


def test_legacy_reads_v2_multi_session(interop: dict[str, Any], v2_written: dict[str, Any]) -> None:
    obs = section(interop, "sessions")
    got = obs["get"]
    assert got["id"] == v2_written["session"]
    assert got["agent_id"] == v2_written["agent"]
    assert got["user_id"] == v2_written["users"][0]
    assert v2_written["session"] in obs["list_ids"]
    assert set(v2_written["users"]) <= set(section(interop, "users")["list_ids"])


@pytest.mark.parametrize("sdk_name", ["julep-0.2.14", "julep-0.3.9"])
def test_tool_round_trip(
    sdk_name: str,
    stub_model_server: Any,
    legacy_sdk: Callable[[str], Any],
    tmp_path: Any,
) -> None:
    """The model calls a tool; the legacy client sees the call, answers with a ``function``
    message and gets the final reply; history shows the call and the result."""
    sdk = legacy_sdk(sdk_name)
    base = f"{stub_model_server.base_url}/api"
    observed = sdk.run("tools_chat.py", base, stub_model_server.api_key, tmp_path)
    obs = section(observed, "tools")
    assert obs["first_finish"] == "tool_calls"
    assert obs["call_role"] == "function_call"
    assert obs["call"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert (obs["reply_role"], obs["reply"]) == ("assistant", "result: sunny in Paris")
    assert obs["history_roles"] == ["user", "function_call", "function", "assistant"]
    assert obs["streamed_reply"] == "echo: hello"
