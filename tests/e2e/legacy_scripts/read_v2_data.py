"""Read, with a legacy 0.x SDK, data that the 2.x SDK wrote (v1-only shapes).

--input names the ids the test created with julep 2.21.0: an agent with free-form default
settings and function + api_call + system tools, a second agent, two users, a multi-agent
multi-user session, and docs with string and list content. The 0.x pydantic v1 models are
strict (enums, non-null fields), and a single unparseable item fails a whole list call, so each
read is recorded separately.
"""

from __future__ import annotations

from typing import Any

from common import Section, dump, ids, run
from julep import Client


def agents_section(client: Client, given: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": dump(client.agents.get(given["agent"])),
        "list_ids": ids(client.agents.list(limit=100)),
    }


def tools_section(client: Client, given: dict[str, Any]) -> dict[str, Any]:
    return {"listed": [dump(t) for t in client.tools.get(agent_id=given["agent"])]}


def docs_section(client: Client, given: dict[str, Any]) -> dict[str, Any]:
    return {"listed": [dump(d) for d in client.docs.list(agent_id=given["agent"], limit=100)]}


def sessions_section(client: Client, given: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": dump(client.sessions.get(given["session"])),
        "list_ids": ids(client.sessions.list(limit=100)),
    }


def users_section(client: Client, given: dict[str, Any]) -> dict[str, Any]:
    return {"list_ids": ids(client.users.list(limit=100))}


SECTIONS: dict[str, Section] = {
    "agents": agents_section,
    "tools": tools_section,
    "docs": docs_section,
    "sessions": sessions_section,
    "users": users_section,
}

if __name__ == "__main__":
    run(SECTIONS)
