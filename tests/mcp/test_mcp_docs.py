"""docs/mcp.md: every ```python block runs, in order, against a live server (with the test MCP
server as the agent's tool server); every ```json configuration snippet parses and starts
`sprig mcp` or names /mcp."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import httpx
import pytest

from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel
from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, auth, make_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "mcp.md"


def blocks(language: str) -> list[str]:
    pattern = re.compile(rf"^```{language}\n(.*?)^```", re.S | re.M)
    return pattern.findall(DOC.read_text())


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "live", tool_http_allow=["127.0.0.1"])


def test_every_example_runs(
    live_url: str, tools_url: str, model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPRIG_API_KEY", API_KEY)
    monkeypatch.setenv("SPRIG_BASE_URL", live_url)
    monkeypatch.setenv("MCP_SERVER_URL", tools_url)
    about = {"name": "Ada", "instructions": ["Answer briefly."]}
    httpx.post(f"{live_url}/agents", json=about, headers=auth(API_KEY)).raise_for_status()
    model.push("Hi there.", [ToolCall("c1", "calc__add", '{"a": 2, "b": 3}')], "2 + 3 = 5.")
    namespace: dict[str, object] = {"__name__": "mcp_docs"}
    output = io.StringIO()
    examples = blocks("python")
    assert len(examples) == 3
    for number, code in enumerate(examples, 1):
        with contextlib.redirect_stdout(output):
            exec(compile(code, f"docs/mcp.md block {number}", "exec"), namespace)
    printed = output.getvalue()
    lines = printed.splitlines()
    assert lines[0].startswith("['add_document', 'chat', 'get_history'")
    assert "'name': 'Ada'" in lines[1]
    assert lines[2] == "Hi there."
    assert lines[3].startswith('{"id": ')
    assert "You are Ada." in printed and "Answer briefly." in printed
    assert lines[-1] == "2 + 3 = 5."
    assert json.loads(model.requests[-1].messages[-1].text())["structured_content"] == {
        "result": 5.0
    }


def test_the_host_configurations_parse() -> None:
    snippets = [json.loads(b) for b in blocks("json")]
    assert len(snippets) == 3
    claude, vscode, http = snippets
    assert claude["mcpServers"]["sprig"]["args"][0] == "mcp"
    assert vscode["servers"]["sprig"]["command"] == "sprig"
    assert http["servers"]["sprig"]["url"].endswith("/mcp")
