"""Resources and prompts of Sprig's MCP server, for one tenant.

Resources (JSON, as the REST API shows them):

- ``sprig://agents/{agent_id}``, ``sprig://sessions/{session_id}``, ``sprig://docs/{doc_id}``
- ``sprig://sessions/{session_id}/history``: the session's messages

``resources/list`` names the newest `LISTED` of each kind; the templates cover the rest.
Prompts: one per agent (``agent-<id>``), its system prompt as a chat turn of that agent would
send it (instructions, about, the system template rendered; for a ``user_id`` argument, with
that user), given as one user message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sprig.server.api import views
from sprig.server.chat.parties import Transient
from sprig.server.chat.turn import ChatOptions
from sprig.server.errors import NotFoundError
from sprig.server.mcp.server_tools import Caller, message_view
from sprig.server.store.crud import ListQuery, Row

SCHEME = "sprig://"
LISTED = 50
PROMPT_PREFIX = "agent-"
JSON = "application/json"
_URI = re.compile(r"^sprig://(agents|sessions|docs)/([0-9a-fA-F-]{32,36})(/history)?$")


class UnknownResourceError(NotFoundError):
    code = "unknown_resource"


@dataclass(frozen=True, slots=True)
class Listed:
    uri: str
    name: str
    title: str
    description: str


@dataclass(frozen=True, slots=True)
class Template:
    uri_template: str
    name: str
    description: str


TEMPLATES = (
    Template(SCHEME + "agents/{agent_id}", "agent", "An agent: instructions, model, settings"),
    Template(SCHEME + "sessions/{session_id}", "session", "A session: its agents and users"),
    Template(
        SCHEME + "sessions/{session_id}/history", "history", "A session's messages, oldest first"
    ),
    Template(SCHEME + "docs/{doc_id}", "document", "A document: title, content, metadata"),
)


async def listed(caller: Caller) -> list[Listed]:
    runtime, developer = caller.runtime, caller.developer_id
    query = ListQuery(limit=LISTED)
    agents = await runtime.agents.list(developer, query)
    sessions = await runtime.sessions.list(developer, query)
    docs = await runtime.docs.list_recent(developer, LISTED)
    return [
        *(_agent(a) for a in agents),
        *(_session(s) for s in sessions),
        *(_doc(d) for d in docs),
    ]


def _agent(row: Row) -> Listed:
    about = row["about"] or "An agent"
    return Listed(f"{SCHEME}agents/{row['id']}", f"agent {row['id']}", row["name"], about)


def _session(row: Row) -> Listed:
    title = row["situation"] or f"Session of {row['created_at']:%Y-%m-%d %H:%M}"
    return Listed(f"{SCHEME}sessions/{row['id']}", f"session {row['id']}", title[:200], "A session")


def _doc(row: Row) -> Listed:
    owner = f"{row['owner_kind']} {row['owner_id']}"
    return Listed(f"{SCHEME}docs/{row['id']}", f"doc {row['id']}", row["title"], f"Of {owner}")


async def read(caller: Caller, uri: str) -> str:
    """The resource's JSON; an unknown URI or another tenant's id is not found."""
    match = _URI.match(uri)
    if match is None:
        raise UnknownResourceError(
            f"Unknown resource {uri[:200]!r}; see resources/templates/list for the URIs"
        )
    kind, raw, history = match.groups()
    ident = _uuid(raw, uri)
    runtime, developer = caller.runtime, caller.developer_id
    if kind == "agents" and not history:
        body = views.agent(await runtime.agents.get(developer, ident))
    elif kind == "docs" and not history:
        body = views.doc(await runtime.docs.get(developer, ident))
    elif kind == "sessions" and history:
        _, entries, _ = await runtime.history.get(developer, ident)
        body = {"session_id": str(ident), "messages": [message_view(e) for e in entries]}
    elif kind == "sessions":
        body = views.session(await runtime.sessions.get(developer, ident))
    else:
        raise UnknownResourceError(f"Unknown resource {uri[:200]!r}")
    return json.dumps(body, ensure_ascii=False, default=str)


def _uuid(raw: str, uri: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise UnknownResourceError(f"Unknown resource {uri[:200]!r}: not an id") from None


# -- prompts -----------------------------------------------------------------------------------
async def prompts(caller: Caller) -> list[Row]:
    """The newest agents whose system prompts are offered."""
    return await caller.runtime.agents.list(caller.developer_id, ListQuery(limit=100))


def prompt_name(agent_id: UUID | str) -> str:
    return f"{PROMPT_PREFIX}{agent_id}"


async def system_prompt(caller: Caller, name: str, arguments: dict[str, str]) -> tuple[Row, str]:
    """The agent a prompt name stands for, and its rendered system prompt."""
    if not name.startswith(PROMPT_PREFIX):
        raise NotFoundError(f"Unknown prompt {name[:200]!r}; prompts are named agent-<id>")
    agent_id = _uuid(name[len(PROMPT_PREFIX) :], name)
    user = arguments.get("user_id")
    user_id = _uuid(user, "user_id") if user else None
    runtime, developer = caller.runtime, caller.developer_id
    agent = await runtime.agents.get(developer, agent_id)
    options = ChatOptions(messages=[], recall=False)
    turn = await runtime.chat.render(developer, Transient(agent_id, user_id), options)
    system = [m.text() for m in turn.request.messages if m.role == "system"]
    return agent, "\n\n".join(system)


def describe(agent: Row) -> dict[str, Any]:
    return {
        "title": f"{agent['name']}: system prompt",
        "description": f"The system prompt agent {agent['name']!r} answers with",
    }
