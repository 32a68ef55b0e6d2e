"""`sprig chat` against a real server: default agent on first use, streamed replies, resume."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from sprig.server.models.scripted import ScriptedModel
from tests.helpers.app import API_KEY, auth


def run_chat(url: str, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPRIG_API_KEY": API_KEY}
    return subprocess.run(
        [sys.executable, "-m", "sprig.cli.main", "chat", "--url", url, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_chat_streams_and_keeps_the_session(live_url: str, model: ScriptedModel) -> None:
    model.push("Hello from Sprig.", "Still here.")
    first = run_chat(live_url, "hi there\n/exit\n")
    assert first.returncode == 0, first.stderr
    assert "Hello from Sprig." in first.stdout
    assert "Created the default agent" in first.stderr
    session_id = first.stderr.split("--session ")[1].split(")")[0]

    second = run_chat(live_url, "again\n", "--session", session_id)
    assert second.returncode == 0, second.stderr
    assert "Still here." in second.stdout
    assert "Created the default agent" not in second.stderr
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        entries = c.get(f"/sessions/{session_id}/history").json()["entries"]
        assert [e["content"] for e in entries] == [
            "hi there",
            "Hello from Sprig.",
            "again",
            "Still here.",
        ]
        assert len(c.get("/agents").json()["items"]) == 1  # the default agent is reused
    assert [m.text() for m in model.requests[1].messages[1:]] == [
        "hi there",
        "Hello from Sprig.",
        "again",
    ]


def test_chat_with_a_named_agent(live_url: str, model: ScriptedModel) -> None:
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        c.post("/agents", json={"name": "Marvin", "about": "Depressed robot."})
    model.push("Life. Don't talk to me about life.")
    result = run_chat(live_url, "how are you?\n", "--agent", "Marvin")
    assert result.returncode == 0, result.stderr
    assert "Don't talk to me about life." in result.stdout
    assert "You are Marvin." in model.requests[0].messages[0].text()
    missing = run_chat(live_url, "x\n", "--agent", "Nobody")
    assert missing.returncode == 1
    assert "No agent named" in missing.stderr
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        twin = c.post("/agents", json={"name": "Marvin"}).json()
    ambiguous = run_chat(live_url, "x\n", "--agent", "Marvin")
    assert ambiguous.returncode == 1
    assert "2 agents are named 'Marvin'" in ambiguous.stderr and twin["id"] in ambiguous.stderr
