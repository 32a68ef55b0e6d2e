"""End to end with the real bundled local model (SmolLM2-135M via llama.cpp) behind `sprig serve`.

The official julep 2.21.0 SDK chats (JSON, SSE, JSON mode) and the legacy 0.x SDK chats
(JSON); history stays ordered and complete. Replies are short (max_tokens) to stay fast,
but for one at the default settings: a question that used to loop now gets a reply that ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from julep import Julep

from sprig.server.models.local import LocalLlamaModel
from tests.helpers.processes import ServerProcess

pytestmark = pytest.mark.e2e
CAP = LocalLlamaModel.default_sampling.max_tokens


@pytest.fixture(scope="module")
def julep(live_server: ServerProcess) -> Iterator[Julep]:
    with Julep(
        api_key=live_server.api_key,
        base_url=live_server.base_url,
        max_retries=0,
        timeout=300,
        _strict_response_validation=True,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def session_id(julep: Julep) -> str:
    agent = julep.agents.create(name="Pip", about="A friendly assistant.")
    assert agent.model == "smollm2-135m-instruct"
    return julep.sessions.create(agent=agent.id, situation="Small talk.").id


def test_multi_turn_chat_and_history(julep: Julep, session_id: str) -> None:
    replies = []
    for text in ("Hello! What is your name?", "What is two plus two?"):
        r = julep.sessions.chat(
            session_id, messages=[{"role": "user", "content": text}], max_tokens=24, temperature=0
        )
        message = r.choices[0].message  # type: ignore[union-attr]
        assert isinstance(message.content, str)
        assert message.content.strip()
        assert r.choices[0].finish_reason in ("stop", "length")
        replies.append((r.id, message.content))
    history = julep.sessions.history(session_id)
    entries = [(e.role, e.content) for e in history.entries]
    assert entries == [
        ("user", "Hello! What is your name?"),
        ("assistant", replies[0][1]),
        ("user", "What is two plus two?"),
        ("assistant", replies[1][1]),
    ]
    assert [e.id for e in history.entries if e.role == "assistant"] == [r[0] for r in replies]


def test_streaming_deltas_equal_the_saved_reply(julep: Julep, session_id: str) -> None:
    stream = julep.sessions.chat(
        session_id,
        messages=[{"role": "user", "content": "Name three colours."}],
        max_tokens=24,
        temperature=0,
        stream=True,
    )
    chunks = list(stream)
    assert len(chunks) >= 3
    text = "".join(c.choices[0].delta.content or "" for c in chunks)  # type: ignore[union-attr]
    assert text.strip()
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    last = julep.sessions.history(session_id).entries[-1]
    assert (last.role, last.content, last.id) == ("assistant", text, chunks[0].id)


def test_json_object_reply_parses(julep: Julep, session_id: str) -> None:
    r = julep.sessions.chat(
        session_id,
        messages=[{"role": "user", "content": "Give a JSON object with a key 'colour'."}],
        response_format={"type": "json_object"},
        max_tokens=48,
        temperature=0,
        save=False,
    )
    content = r.choices[0].message.content  # type: ignore[union-attr]
    assert isinstance(json.loads(content), dict)


@pytest.mark.legacy
@pytest.mark.parametrize("sdk_name", ["julep-0.2.14", "julep-0.3.9"])
def test_legacy_sdk_chat(
    live_server: ServerProcess,
    legacy_sdk: Callable[[str], Any],
    sdk_name: str,
    tmp_path: Path,
) -> None:
    result = legacy_sdk(sdk_name).run(
        "chat.py", live_server.base_url + "/api", live_server.api_key, tmp_path
    )
    chat = result["chat"]
    assert "error" not in chat, chat
    assert chat["reply"].strip()
    assert chat["finish_reason"] in ("stop", "length")
    assert chat["history_roles"] == ["user", "assistant"]
    assert chat["history_contents"][1] == chat["reply"]


def test_a_fact_only_in_an_agent_doc_is_recalled(julep: Julep) -> None:
    """Real embeddings (bundled MiniLM) and the real local model behind `sprig serve`."""
    agent = julep.agents.create(name="Concierge", about="Answers office questions.")
    wifi = julep.agents.docs.create(
        agent.id, title="Office wifi", content="The office wifi password is heron-42-blue."
    )
    julep.agents.docs.create(agent.id, title="Canteen", content="Lunch is served from noon.")
    session = julep.sessions.create(agent=agent.id)
    question = [{"role": "user", "content": "What is the office wifi password?"}]
    r = julep.sessions.chat(session.id, messages=question, max_tokens=24, temperature=0)
    assert r.docs is not None
    assert r.docs[0].id == wifi.id
    assert r.docs[0].snippet.content == "The office wifi password is heron-42-blue."
    rendered = julep.sessions.render(session.id, messages=question)  # type: ignore[arg-type]
    assert "heron-42-blue" in str(rendered.messages[0].content)
    found = julep.agents.docs.search(agent.id, text="wifi password")
    assert found.docs[0].id == wifi.id


def test_a_question_that_used_to_loop_gets_a_reply_that_ends(live_server: ServerProcess) -> None:
    """With the old decoding (no penalty, no loop guard) the bundled model answered this
    with the same sentences until the 512-token cap, and the next turn's prompt carried
    them. With the defaults (only the seed is sent) the reply ends well before the cap,
    and what is saved is what the client got."""
    headers = {"Authorization": f"Bearer {live_server.api_key}"}
    with httpx.Client(base_url=live_server.base_url, headers=headers, timeout=300) as client:
        agent = client.post("/agents", json={"name": "Pip", "about": "A friendly assistant."})
        session = client.post("/sessions", json={"agent": agent.json()["id"]}).json()["id"]
        ask = {"messages": [{"role": "user", "content": "Tell me about France."}], "seed": 1}
        first = client.post(f"/sessions/{session}/chat", json=ask).json()
        assert first["choices"][0]["finish_reason"] == "stop"
        assert first["stop_reason"] in (None, "repetition")
        assert 0 < first["usage"]["completion_tokens"] < CAP
        reply = first["choices"][0]["message"]["content"]
        entries = client.get(f"/sessions/{session}/history").json()["entries"]
        assert entries[-1]["content"] == reply
        follow = {"messages": [{"role": "user", "content": "And its capital?"}], "seed": 1}
        second = client.post(f"/sessions/{session}/chat", json=follow).json()
        grown = second["usage"]["prompt_tokens"] - first["usage"]["prompt_tokens"]
        assert grown <= first["usage"]["completion_tokens"] + 30  # the reply, not a loop
