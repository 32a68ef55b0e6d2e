"""Chat through a legacy julep 0.x SDK's session manager (JSON only: 0.x cannot read SSE)."""

from __future__ import annotations

from typing import Any

from common import run
from julep import Client


def chat_section(client: Client, _given: dict[str, Any]) -> dict[str, Any]:
    agent = client.agents.create(name="Legacy chat", about="Answers briefly.")
    session = client.sessions.create(agent_id=str(agent.id), situation="A quick test.")
    response = client.sessions.chat(
        session_id=str(session.id),
        messages=[{"role": "user", "content": "Say hello."}],
        max_tokens=16,
        temperature=0.0,
    )
    reply = response.response[0][0]
    history = client.sessions.history(session_id=str(session.id))
    return {
        "reply": reply.content,
        "finish_reason": str(getattr(response.finish_reason, "value", response.finish_reason)),
        "history_roles": [str(getattr(m.role, "value", m.role)) for m in history],
        "history_contents": [m.content for m in history],
    }


if __name__ == "__main__":
    run({"chat": chat_section})
