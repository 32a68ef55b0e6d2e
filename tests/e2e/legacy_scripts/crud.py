"""Drive a legacy julep 0.x SDK (0.2.14 or 0.3.9) through its managers against a Sprig server.

Runs inside the SDK's own virtualenv (see tests/e2e/conftest.py), never imports Sprig, and
writes what it observed as JSON to --out. Each section records either its observations or the
error that stopped it, so one server defect does not hide the others.
"""

from __future__ import annotations

import uuid
from typing import Any

from common import IS_039, Section, dump, error_status, ids, run
from julep import Client

RUN = uuid.uuid4().hex[:12]

WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}


def agents_section(client: Client, _given: dict[str, Any]) -> dict[str, Any]:
    tool = {
        "type": "function",
        "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER_PARAMS},
    }
    created = client.agents.create(
        name="Legacy agent", about="Made by the legacy SDK", instructions=["be brief", "be kind"],
        tools=[tool], docs=[{"title": "Agent inline doc", "content": "inline agent content"}],
        default_settings={"temperature": 0.25}, metadata={"suite": RUN, "kind": "agent"},
    )  # fmt: skip
    agent_id = str(created.id)
    obs: dict[str, Any] = {"created_id": agent_id, "created_at": str(created.created_at)}
    obs["get"] = dump(client.agents.get(agent_id))
    obs["list_ids"] = ids(client.agents.list(limit=100))
    obs["filtered_ids"] = ids(client.agents.list(metadata_filter={"suite": RUN}))
    obs["unmatched_filter_ids"] = ids(client.agents.list(metadata_filter={"suite": "nope"}))
    obs["inline_tools"] = [dump(t) for t in client.tools.get(agent_id=agent_id)]
    obs["inline_docs"] = [dump(d) for d in client.docs.list(agent_id=agent_id)]
    patched = client.agents.update(agent_id=agent_id, about="patched about")
    obs["patch_result"] = {"id": str(patched.id), "updated_at": str(patched.updated_at)}
    obs["after_patch"] = dump(client.agents.get(agent_id))
    client.agents.update(
        agent_id=agent_id, name="Renamed agent", about="overwritten about",
        instructions=["only one"], overwrite=True,
    )  # fmt: skip
    obs["after_put"] = dump(client.agents.get(agent_id))
    client.agents.delete(agent_id)
    obs["get_after_delete"] = error_status(lambda: client.agents.get(agent_id))
    return obs


def users_section(client: Client, _given: dict[str, Any]) -> dict[str, Any]:
    created = client.users.create(
        name="Legacy user", about="A user from 0.x",
        docs=[{"title": "User inline doc", "content": "inline user content"}],
        metadata={"suite": RUN, "kind": "user"},
    )  # fmt: skip
    user_id = str(created.id)
    obs: dict[str, Any] = {"created_id": user_id, "created_at": str(created.created_at)}
    obs["get"] = dump(client.users.get(user_id))
    obs["list_ids"] = ids(client.users.list(limit=100))
    obs["filtered_ids"] = ids(client.users.list(metadata_filter={"suite": RUN}))
    obs["inline_docs"] = [dump(d) for d in client.docs.list(user_id=user_id)]
    patched = client.users.update(user_id=user_id, about="patched user about")
    obs["patch_result"] = {"id": str(patched.id), "updated_at": str(patched.updated_at)}
    obs["after_patch"] = dump(client.users.get(user_id))
    client.users.update(user_id=user_id, name="Renamed user", about="put about", overwrite=True)
    obs["after_put"] = dump(client.users.get(user_id))
    client.users.delete(user_id)
    obs["get_after_delete"] = error_status(lambda: client.users.get(user_id))
    return obs


def _session_extras() -> dict[str, Any]:
    return {"render_templates": True, "token_budget": 2048, "context_overflow": "truncate"}


def sessions_section(client: Client, _given: dict[str, Any]) -> dict[str, Any]:
    agent_id = str(client.agents.create(name="Session agent", about="", instructions=[]).id)
    user_id = str(client.users.create(name="Session user", about="").id)
    extras = _session_extras() if IS_039 else {}
    created = client.sessions.create(
        agent_id=agent_id, user_id=user_id, situation="a legacy situation",
        metadata={"suite": RUN}, **extras,
    )  # fmt: skip
    session_id = str(created.id)
    obs: dict[str, Any] = {"agent_id": agent_id, "user_id": user_id, "created_id": session_id}
    obs["get"] = dump(client.sessions.get(session_id))
    lone = client.sessions.create(agent_id=agent_id, situation="no user here")
    obs["agent_only_id"] = str(lone.id)
    obs["agent_only_get"] = dump(client.sessions.get(str(lone.id)))
    obs["list_ids"] = ids(client.sessions.list(limit=100))
    obs["filtered_ids"] = ids(client.sessions.list(metadata_filter={"suite": RUN}))
    obs["history"] = [dump(m) for m in client.sessions.history(session_id=session_id)]
    client.sessions.delete_history(session_id)
    client.sessions.update(session_id=session_id, situation="patched situation")
    obs["after_patch"] = dump(client.sessions.get(session_id))
    client.sessions.update(session_id=session_id, situation="put situation", overwrite=True)
    obs["after_put"] = dump(client.sessions.get(session_id))
    client.sessions.delete(session_id)
    obs["get_after_delete"] = error_status(lambda: client.sessions.get(session_id))
    return obs


def _owner_docs(client: Client, owner: dict[str, str], content: Any) -> dict[str, Any]:
    created = client.docs.create(**owner, doc={"title": "Owned doc", "content": content})
    doc_id = str(created.id)
    obs: dict[str, Any] = {"created_id": doc_id, "sent_content": content}
    obs["listed"] = [dump(d) for d in client.docs.list(**owner, limit=100)]
    client.docs.delete(doc_id=doc_id, **owner)
    obs["ids_after_delete"] = ids(client.docs.list(**owner))
    obs["delete_again"] = error_status(lambda: client.docs.delete(doc_id=doc_id, **owner))
    return obs


def docs_section(client: Client, _given: dict[str, Any]) -> dict[str, Any]:
    agent_id = str(client.agents.create(name="Doc agent", about="", instructions=[]).id)
    user_id = str(client.users.create(name="Doc user", about="").id)
    obs: dict[str, Any] = {
        "agent": _owner_docs(client, {"agent_id": agent_id}, "agent doc body"),
        "user": _owner_docs(client, {"user_id": user_id}, "user doc body"),
    }
    if IS_039:
        obs["agent_list_content"] = _owner_docs(client, {"agent_id": agent_id}, ["part one", "two"])
    return obs


def tools_section(client: Client, _given: dict[str, Any]) -> dict[str, Any]:
    agent_id = str(client.agents.create(name="Tool agent", about="", instructions=[]).id)
    function = {"name": "lookup", "description": "Look it up", "parameters": WEATHER_PARAMS}
    created = client.tools.create(
        agent_id=agent_id, tool={"type": "function", "function": function}
    )
    tool_id = str(created.id)
    obs: dict[str, Any] = {"agent_id": agent_id, "created_id": tool_id}
    obs["listed"] = [dump(t) for t in client.tools.get(agent_id=agent_id)]
    patch = {**function, "description": "patched"}
    client.tools.update(agent_id=agent_id, tool_id=tool_id, function=patch)
    obs["after_patch"] = [dump(t) for t in client.tools.get(agent_id=agent_id)]
    replacement = {"name": "lookup_v2", "description": "replaced", "parameters": {"type": "object"}}
    client.tools.update(agent_id=agent_id, tool_id=tool_id, function=replacement, overwrite=True)
    obs["after_put"] = [dump(t) for t in client.tools.get(agent_id=agent_id)]
    client.tools.delete(agent_id=agent_id, tool_id=tool_id)
    obs["ids_after_delete"] = ids(client.tools.get(agent_id=agent_id))
    obs["delete_again"] = error_status(
        lambda: client.tools.delete(agent_id=agent_id, tool_id=tool_id)
    )
    return obs


SECTIONS: dict[str, Section] = {
    "agents": agents_section,
    "users": users_section,
    "sessions": sessions_section,
    "docs": docs_section,
    "tools": tools_section,
}

if __name__ == "__main__":
    run(SECTIONS)
