"""`sprig chat` in a real pseudo-terminal (pexpect) against a live server: labelled replies,
input held while a reply streams, Ctrl-C stops a reply and the chat goes on, the slash
commands, and resuming a session."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator

import httpx
import pexpect
import pytest

from sprig.server.models.scripted import ScriptedModel
from tests.helpers.app import API_KEY, auth

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STORY = " ".join(f"word{i}" for i in range(200)) + "."


def plain(text: str) -> str:
    """Terminal output without colour and cursor codes, line ends normalised."""
    return ANSI.sub("", text).replace("\r\n", "\n")


def spawn_chat(url: str, *args: str) -> pexpect.spawn:
    env = {**os.environ, "SPRIG_API_KEY": API_KEY, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "sprig.cli.main", "chat", "--url", url, *args],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 200),
    )


@pytest.fixture
def terminal() -> Iterator[list[pexpect.spawn]]:
    """Children spawned by a test; closed (killed if need be) at its end."""
    children: list[pexpect.spawn] = []
    yield children
    for child in children:
        child.close(force=True)


def prompt(child: pexpect.spawn) -> str:
    """Wait for the next `you>` prompt (the last `you>` before the output pauses: history
    lines carry the same label); what was printed before it."""
    child.expect("you>")
    seen = child.before
    while child.expect(["you>", pexpect.TIMEOUT], timeout=0.3) == 0:
        seen += "you>" + child.before
    return plain(seen)


def history(url: str, session_id: str) -> list[dict[str, object]]:
    with httpx.Client(base_url=url, headers=auth(API_KEY)) as c:
        entries: list[dict[str, object]] = c.get(f"/sessions/{session_id}/history").json()[
            "entries"
        ]
    return entries


def test_reply_labels_ctrl_c_and_commands(
    live_url: str, model: ScriptedModel, terminal: list[pexpect.spawn]
) -> None:
    child = spawn_chat(live_url)
    terminal.append(child)
    opening = prompt(child)
    assert "Created the default agent Sprig" in opening
    session_id = opening.split("--session ")[1].split(")")[0]

    child.sendline("/help")
    shown = prompt(child)
    for command in ("/help", "/new", "/history", "/docs", "/exit", "Ctrl-C"):
        assert command in shown

    child.sendline("/docs")
    assert "No reply yet" in prompt(child)

    model.push("Hello from Sprig.")
    child.sendline("hi there")
    assert "Sprig> Hello from Sprig." in prompt(child)  # the reply, after its label

    model.stream_delay = 0.05  # slow replies: 40 words in 2 s, then 200 words in 10 s
    model.push(" ".join(f"part{i}" for i in range(40)), STORY, "Still here.")
    child.sendline("count")
    child.expect("part3 ")
    child.send("typed while streaming\r")  # neither echoed nor sent
    finished = prompt(child)
    assert "part39" in finished and "typed while streaming" not in finished
    assert "(what you typed during the reply was ignored)" in finished

    child.sendline("tell me a story")
    child.expect("word5 ")
    child.send("typed again\r")
    time.sleep(0.3)
    child.sendintr()  # Ctrl-C: stops the reply, not the program
    stopped = prompt(child)
    assert "typed again" not in stopped
    assert "Stopped. The partial reply is kept in the session." in stopped
    assert "word199" not in stopped

    model.stream_delay = 0.0
    child.sendline("are you there?")
    assert "Sprig> Still here." in prompt(child)

    entries = history(live_url, session_id)
    contents = [e["content"] for e in entries]
    assert contents[:2] == ["hi there", "Hello from Sprig."]
    assert contents[2] == "count" and contents[4] == "tell me a story"
    partial = entries[5]
    assert partial["partial"] is True and partial["role"] == "assistant"
    assert not any(e["partial"] for e in entries[:5] + entries[6:])
    assert str(partial["content"]).startswith("word0 word1 word2 word3 word4 word5")
    assert contents[6:] == ["are you there?", "Still here."]
    last_prompt = [m.text() for m in model.requests[-1].messages]
    assert "tell me a story" in last_prompt and partial["content"] in last_prompt
    assert not any("typed" in m for m in last_prompt)

    child.sendline("/history")
    shown = prompt(child)
    assert "you> hi there" in shown and "Sprig> Hello from Sprig." in shown
    assert "(stopped)" in shown and "you> are you there?" in shown

    child.sendline("/nonsense")
    assert "Unknown command /nonsense" in prompt(child)

    child.sendline("/new")
    renewed = prompt(child)
    assert "Chatting with Sprig in session" in renewed
    new_id = renewed.split("--session ")[1].split(")")[0]
    assert new_id != session_id
    model.push("Fresh start.")
    child.sendline("//slash is text")
    assert "Sprig> Fresh start." in prompt(child)
    assert [e["content"] for e in history(live_url, new_id)] == ["/slash is text", "Fresh start."]

    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_before_the_first_word_keeps_nothing(
    live_url: str, model: ScriptedModel, terminal: list[pexpect.spawn]
) -> None:
    model.stream_delay = 3.0  # the first word comes after 3 s
    model.push("Too late.", "On time.")
    child = spawn_chat(live_url)
    terminal.append(child)
    session_id = prompt(child).split("--session ")[1].split(")")[0]
    child.sendline("hello?")
    child.expect("Sprig>")
    time.sleep(0.5)
    child.sendintr()
    assert "nothing was kept" in prompt(child)
    model.stream_delay = 0.0
    child.sendline("hello again")
    assert "Sprig> On time." in prompt(child)
    contents = [e["content"] for e in history(live_url, session_id)]
    assert contents == ["hello again", "On time."]
    child.sendintr()  # Ctrl-C at the prompt leaves
    child.expect(pexpect.EOF)


def test_resume_shows_the_agent_and_last_turns(
    live_url: str, model: ScriptedModel, terminal: list[pexpect.spawn]
) -> None:
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        agent = c.post("/agents", json={"name": "Marvin", "about": "Depressed robot."}).json()
        session = c.post("/sessions", json={"agent": agent["id"]}).json()
        for i in range(5):
            model.push(f"Answer {i}.")
            body = {"messages": [{"role": "user", "content": f"Question {i}?"}]}
            assert c.post(f"/sessions/{session['id']}/chat", json=body).status_code < 300
    child = spawn_chat(live_url, "--session", session["id"])
    terminal.append(child)
    opening = prompt(child)
    assert f"Resumed session {session['id']} with Marvin ({agent['id']})." in opening
    assert "4 earlier message(s)" in opening
    assert "you> Question 2?" in opening and "Marvin> Answer 4." in opening
    assert "Question 1?" not in opening
    model.push("Life. Don't talk to me about life.")
    child.sendline("how are you?")
    assert "Marvin> Life. Don't talk to me about life." in prompt(child)
    assert "You are Marvin." in model.requests[-1].messages[0].text()
    child.sendeof()  # Ctrl-D leaves
    child.expect(pexpect.EOF)
    assert "Created the default agent" not in opening  # resuming creates nothing
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        assert [a["name"] for a in c.get("/agents").json()["items"]] == ["Marvin"]
        c.post("/agents", json={"name": "Eddie"})
    outsider = spawn_chat(live_url, "--session", session["id"], "--agent", "Eddie")
    terminal.append(outsider)
    outsider.expect(pexpect.EOF)
    outsider.close()
    assert outsider.exitstatus == 1
    assert f"Agent Eddie is not in session {session['id']}." in plain(outsider.before)


def test_docs_shows_what_the_last_reply_recalled(
    live_url: str, model: ScriptedModel, terminal: list[pexpect.spawn]
) -> None:
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        agent = c.post("/agents", json={"name": "Librarian"}).json()
        doc = c.post(
            f"/agents/{agent['id']}/docs",
            json={
                "title": "tides",
                "content": "The moon's gravity pulls the oceans into tides.",
                "metadata": {"source": "notes/tides.md"},
            },
        ).json()
    child = spawn_chat(live_url, "--agent", "Librarian")
    terminal.append(child)
    prompt(child)
    model.push("The moon does it.")
    child.sendline("what makes the oceans have tides? the moon's gravity?")
    assert "Librarian> The moon does it." in prompt(child)
    child.sendline("/docs")
    shown = prompt(child)
    row = next(line for line in shown.splitlines() if doc["id"] in line)
    assert "tides" in row and "notes/tides.md" in row
    assert re.search(r"\b[01]\.\d{3}\b", row)  # its score
    assert "tides" in model.requests[-1].messages[0].text()  # it was recalled
    child.sendline("/exit")
    child.expect(pexpect.EOF)
