"""The official `julep` 2.x SDK against a live server whose model is a hosted-style one: the
fake OpenAI-compatible server behind Sprig's direct gateway (chat, streaming, tool calls)."""

from __future__ import annotations

from pathlib import Path

import pytest
from julep import Julep

from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, make_settings
from tests.helpers.fake_openai import FakeOpenAI

WEATHER = {
    "name": "weather",
    "type": "function",
    "function": {"parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


@pytest.fixture
def live_settings(tmp_path: Path, fake_openai_server: FakeOpenAI) -> Settings:
    entry = {"name": "fake", "model": "openai/fake", "api_base": fake_openai_server.api_base}
    return make_settings(tmp_path / "live", models=[entry], default_model="fake")


@pytest.fixture
def julep(live_url: str) -> Julep:
    return Julep(api_key=API_KEY, base_url=live_url, _strict_response_validation=True)


def test_the_official_sdk_chats_through_the_direct_gateway(
    julep: Julep, fake_openai: FakeOpenAI
) -> None:
    agent = julep.agents.create(name="Hosted", model="fake", instructions=["Be brief."])
    session = julep.sessions.create(agent=agent.id)
    reply = julep.sessions.chat(session_id=session.id, messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "echo: hi"  # type: ignore[union-attr]
    sent = fake_openai.recorder.bodies[-1]
    assert sent["model"] == "fake" and sent["messages"][-1] == {"role": "user", "content": "hi"}
    assert "Be brief." in sent["messages"][0]["content"]
    entries = julep.sessions.history(session_id=session.id).entries
    assert [(e.role, e.content) for e in entries] == [("user", "hi"), ("assistant", "echo: hi")]


def test_streamed_replies_and_tool_calls_come_back_whole(
    julep: Julep, fake_openai: FakeOpenAI
) -> None:
    agent = julep.agents.create(name="Tools", model="fake")
    julep.agents.tools.create(agent_id=agent.id, **WEATHER)  # type: ignore[arg-type]
    session = julep.sessions.create(agent=agent.id)
    called = julep.sessions.chat(
        session_id=session.id, messages=[{"role": "user", "content": "tool:weather"}]
    )
    choice = called.choices[0]  # type: ignore[union-attr]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls[0].function.name == "weather"
    assert fake_openai.recorder.bodies[-1]["tools"][0]["function"]["name"] == "weather"
    streamed = julep.sessions.chat(
        session_id=session.id,
        messages=[{"role": "user", "content": "one two three"}],
        stream=True,
    )
    text = "".join(
        c.choices[0].delta.content or ""
        for c in streamed  # type: ignore[union-attr]
        if c.choices
    )
    assert text.strip() == "echo: one two three"
    assert fake_openai.recorder.bodies[-1]["stream"] is True
