"""`sprig mcp`: the same MCP server over stdio, a real subprocess driven by the ``mcp`` SDK's
client, on the data directory the in-process app serves too (the ``echo`` model answers)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client, StdioServerParameters

from sprig.server.settings import Settings
from tests.helpers.app import API_KEY
from tests.helpers.processes import REPO_ROOT

pytestmark = pytest.mark.e2e


def sprig_mcp(settings: Settings, key: str | None) -> StdioServerParameters:
    env = {
        "PYTHONPATH": os.environ.get("PYTHONPATH", str(REPO_ROOT)),
        "SPRIG_DATA_DIR": str(settings.data_dir),
        "SPRIG_DEFAULT_MODEL": "echo",
        "SPRIG_EMBEDDING_MODEL": settings.embedding_model,
        "SPRIG_LOG_LEVEL": "warning",
    }
    args = ["-m", "sprig.cli.main", "mcp", *(["--api-key", key] if key else [])]
    return StdioServerParameters(command=sys.executable, args=args, env=env, cwd=str(REPO_ROOT))


async def test_sprig_mcp_over_stdio(client: httpx.AsyncClient, settings: Settings) -> None:
    agent = (await client.post("/agents", json={"name": "Parrot", "model": "echo"})).json()
    async with Client(sprig_mcp(settings, API_KEY), read_timeout_seconds=60) as mcp:
        assert len((await mcp.list_tools()).tools) == 7
        listed = await mcp.call_tool("list_agents", {})
        assert [a["name"] for a in listed.structured_content["agents"]] == ["Parrot"]
        said = await mcp.call_tool("chat", {"agent_id": agent["id"], "message": "Polly"})
        reply: dict[str, Any] = said.structured_content
        assert reply["reply"] == "Polly"
        read = await mcp.read_resource(f"sprig://sessions/{reply['session_id']}/history")
        messages = json.loads(read.contents[0].text)["messages"]  # type: ignore[union-attr]
        assert [m["content"] for m in messages] == ["Polly", "Polly"]
        bad = await mcp.call_tool("get_history", {"session_id": "nope"})
        assert bad.is_error
    # the REST API sees what the MCP session did: one database
    sessions = (await client.get("/sessions")).json()["items"]
    assert [s["id"] for s in sessions] == [reply["session_id"]]


async def test_sprig_mcp_takes_the_key_file_and_refuses_a_wrong_key(
    app: Any, settings: Settings, tmp_path: Path
) -> None:
    (settings.data_dir / "api_key").write_text(API_KEY)
    async with Client(sprig_mcp(settings, None), read_timeout_seconds=60) as mcp:
        assert (await mcp.call_tool("list_agents", {})).structured_content == {"agents": []}
    with pytest.raises(Exception):  # noqa: B017 - the process exits before answering
        async with Client(sprig_mcp(settings, "sk-sprig-wrong"), read_timeout_seconds=60) as mcp:
            await mcp.list_tools()
