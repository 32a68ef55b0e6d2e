"""A tool round trip through a legacy julep 0.x SDK: the model calls a function, the client
sees the call (a ``function_call`` message), runs it, answers with a ``function`` message
and gets the final reply. The server's model is an OpenAI-compatible stub named ``stub``."""

from __future__ import annotations

import json
from typing import Any

from common import run
from julep import Client

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def role(message: Any) -> str:
    return str(getattr(message.role, "value", message.role))


def tools_section(client: Client, _given: dict[str, Any]) -> dict[str, Any]:
    agent = client.agents.create(name="Legacy tools", about="Calls tools.", tools=[WEATHER])
    client.agents.update(agent_id=str(agent.id), model="stub")
    session = client.sessions.create(agent_id=str(agent.id))
    sid = str(session.id)
    first = client.sessions.chat(
        session_id=sid, messages=[{"role": "user", "content": "tool:get_weather"}]
    )
    call_message = first.response[0][0]
    call = json.loads(call_message.content)
    args = json.loads(call["arguments"])
    result = {"role": "function", "name": call["name"], "content": f"sunny in {args['city']}"}
    second = client.sessions.chat(session_id=sid, messages=[result])
    history = client.sessions.history(session_id=sid)
    asked_to_stream = client.sessions.chat(
        session_id=sid, messages=[{"role": "user", "content": "hello"}], stream=True
    )  # a 0.x client cannot read SSE: it gets JSON
    return {
        "first_finish": str(getattr(first.finish_reason, "value", first.finish_reason)),
        "call_role": role(call_message),
        "call": call,
        "reply_role": role(second.response[0][0]),
        "reply": second.response[0][0].content,
        "history_roles": [role(m) for m in history],
        "streamed_reply": asked_to_stream.response[0][0].content,
    }


if __name__ == "__main__":
    run({"tools": tools_section})
