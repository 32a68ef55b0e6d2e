"""The tools Sprig offers as an MCP server: one tenant's agents, chat, documents, memories.

Each tool is an input model (its JSON schema is what ``tools/list`` shows; unknown keys are
refused) and a handler over the runtime's services, called with the caller's tenant. The
descriptions are written for a model choosing and filling them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, StringConstraints

from sprig.server.api import views
from sprig.server.api.body import Body, Metadata, MetadataFilter
from sprig.server.chat.turn import ChatOptions
from sprig.server.ids import rfc3339
from sprig.server.memory.store import MemoryQuery
from sprig.server.search.options import SearchOptions
from sprig.server.store.crud import ListQuery, Row

if TYPE_CHECKING:
    from sprig.server.runtime import Runtime

Text = Annotated[str, StringConstraints(min_length=1, max_length=100_000, pattern=r"\S")]
Query = Annotated[str, StringConstraints(min_length=1, max_length=10_000, pattern=r"\S")]
Scope = Literal["agent", "user", "session"]
MemoryType = Literal["belief", "episode", "entity"]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a call runs for: every service call takes this tenant."""

    runtime: Runtime
    developer_id: UUID


class Args(Body):
    model_config = ConfigDict(extra="forbid")


Handler = Callable[[Caller, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ServerTool:
    name: str
    title: str
    description: str
    args: type[Args]
    handler: Handler
    read_only: bool = True

    @property
    def input_schema(self) -> dict[str, Any]:
        return _schema(self.args)


@cache
def _schema(model: type[Args]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    schema["additionalProperties"] = False
    return schema


# -- list_agents -------------------------------------------------------------------------------
class ListAgentsArgs(Args):
    limit: int = Field(default=20, ge=1, le=100, description="How many agents (newest first)")
    offset: int = Field(default=0, ge=0, le=1_000_000, description="How many to skip")


async def list_agents(caller: Caller, args: ListAgentsArgs) -> dict[str, Any]:
    query = ListQuery(limit=args.limit, offset=args.offset)
    rows = await caller.runtime.agents.list(caller.developer_id, query)
    return {"agents": [_agent(r) for r in rows]}


def _agent(row: Row) -> dict[str, Any]:
    keys = ("id", "name", "about", "model", "canonical_name")
    return {k: str(row[k]) if k == "id" else row[k] for k in keys if row.get(k) is not None}


# -- chat --------------------------------------------------------------------------------------
class ChatArgs(Args):
    agent_id: UUID = Field(description="The agent to talk to (an id from list_agents)")
    message: Text = Field(description="What to say to the agent")
    session_id: UUID | None = Field(
        default=None,
        description="Continue this session (its history is the context); omit to start a "
        "new one, whose id the reply gives",
    )
    user_id: UUID | None = Field(
        default=None, description="The user the new session is with (its memories and docs)"
    )


async def chat(caller: Caller, args: ChatArgs) -> dict[str, Any]:
    runtime, developer = caller.runtime, caller.developer_id
    session_id = args.session_id
    if session_id is None:
        users = [args.user_id] if args.user_id else None
        extra = {"agents": [args.agent_id], "users": users}
        row = await runtime.sessions.create(developer, {"auto_run_tools": True}, extra)
        session_id = row["id"]
    message = {"role": "user", "content": args.message}
    options = ChatOptions(messages=[message], agent_id=args.agent_id)
    result = await runtime.chat.complete(developer, session_id, options)
    out: dict[str, Any] = {
        "session_id": str(session_id),
        "reply": result.content,
        "finish_reason": result.finish_reason,
        "entry_id": str(result.id),
    }
    if result.tool_calls:
        out["tool_calls"] = result.tool_calls
    return out


# -- documents ---------------------------------------------------------------------------------
class SearchDocsArgs(Args):
    scope: Scope = Field(description="Whose documents: an agent's, a user's or a session's")
    owner_id: UUID = Field(description="The id of that agent, user or session")
    text: Query = Field(description="What to look for, in plain words")
    limit: int = Field(default=5, ge=1, le=50, description="How many documents at most")
    mode: Literal["hybrid", "text", "vector"] = Field(
        default="hybrid",
        description="hybrid (meaning and words, best in general), text (words only) or "
        "vector (meaning only)",
    )
    alpha: float | None = Field(
        default=None, ge=0, le=1, description="hybrid: the weight of meaning against words"
    )
    confidence: float | None = Field(
        default=None, ge=-1, le=1, description="Leave out results less similar than this"
    )
    mmr_strength: float | None = Field(
        default=None, ge=0, lt=1, description="Prefer diverse results (0: no, 0.5: strongly)"
    )
    metadata_filter: MetadataFilter | None = Field(
        default=None, description="Only documents whose metadata has these values"
    )


async def search_documents(caller: Caller, args: SearchDocsArgs) -> dict[str, Any]:
    tuning = args.values(include={"limit", "alpha", "confidence", "mmr_strength"})
    options = SearchOptions(**tuning, metadata_filter=args.metadata_filter or {})
    query = options.search_query(args.mode, args.text, whole_docs=False)
    found, _ = await caller.runtime.search.search_owner(
        caller.developer_id, args.scope, args.owner_id, query
    )
    return {"documents": [_reference(d) for d in found]}


def _reference(row: Row) -> dict[str, Any]:
    ref = views.doc_reference(row)
    return {
        "id": ref["id"],
        "title": ref["title"],
        "snippet": ref["snippet"].get("content"),
        "score": ref["score"],
        "metadata": ref["metadata"],
    }


class AddDocArgs(Args):
    scope: Scope = Field(description="Whose document it is: an agent's, a user's or a session's")
    owner_id: UUID = Field(description="The id of that agent, user or session")
    title: Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"\S")] = Field(
        description="A short title"
    )
    content: Text = Field(description="The document's text")
    metadata: Metadata | None = Field(default=None, description="Free-form key/value pairs")


async def add_document(caller: Caller, args: AddDocArgs) -> dict[str, Any]:
    doc = {"title": args.title, "content": args.content, "metadata": args.metadata or {}}
    row = await caller.runtime.docs.create(caller.developer_id, args.scope, args.owner_id, doc)
    return {
        "id": str(row["id"]),
        "title": row["title"],
        "status": row["status"],
        "searchable": row["status"] == "ready",
    }


# -- memories ----------------------------------------------------------------------------------
class SearchMemoriesArgs(Args):
    agent_id: UUID = Field(description="The agent whose memories to search")
    text: Query | None = Field(
        default=None, description="What to look for (omit: the newest memories)"
    )
    user_id: UUID | None = Field(default=None, description="Only memories about this user")
    types: list[MemoryType] | None = Field(default=None, description="Only these kinds")
    limit: int = Field(default=10, ge=1, le=100, description="How many at most")


async def search_memories(caller: Caller, args: SearchMemoriesArgs) -> dict[str, Any]:
    query = MemoryQuery(
        agent_id=args.agent_id,
        user_id=args.user_id,
        text=args.text,
        types=tuple(args.types or ()),
        limit=args.limit,
    )
    rows = await caller.runtime.memory.search(caller.developer_id, query)
    return {"memories": [_memory(r) for r in rows]}


def _memory(row: Row) -> dict[str, Any]:
    out = {
        "id": str(row["id"]),
        "type": row["type"],
        "content": row["content"],
        "user_id": str(row["user_id"]) if row["user_id"] else None,
        "created_at": rfc3339(row["created_at"]),
    }
    if "score" in row:
        out["score"] = row["score"]
    return out


class RememberArgs(Args):
    agent_id: UUID = Field(description="The agent that should remember")
    user_id: UUID = Field(description="The user the fact is about")
    fact: Query = Field(description="The fact, as one short sentence")
    type: MemoryType = Field(
        default="belief",
        description="belief (a fact or preference), episode (something that happened) or "
        "entity (a person, place or thing)",
    )


async def remember(caller: Caller, args: RememberArgs) -> dict[str, Any]:
    item = {"content": args.fact, "type": args.type, "user_id": args.user_id}
    rows = await caller.runtime.memory.create(caller.developer_id, args.agent_id, [item])
    return {"memory": _memory(rows[0])}


# -- history -----------------------------------------------------------------------------------
class HistoryArgs(Args):
    session_id: UUID = Field(description="The session (an id a chat reply gave)")
    limit: int = Field(default=20, ge=1, le=200, description="The last this many messages")


async def get_history(caller: Caller, args: HistoryArgs) -> dict[str, Any]:
    _, entries, _ = await caller.runtime.history.get(caller.developer_id, args.session_id)
    messages = [message_view(e) for e in entries[-args.limit :]]
    return {"session_id": str(args.session_id), "messages": messages}


def message_view(row: Row) -> dict[str, Any]:
    out = {
        "id": str(row["id"]),
        "role": row["role"],
        "content": views.text_of(row["content"]),
        "created_at": rfc3339(row["created_at"]),
    }
    if row["name"]:
        out["name"] = row["name"]
    if row["tool_calls"]:
        out["tool_calls"] = row["tool_calls"]
    return out


TOOLS: tuple[ServerTool, ...] = (
    ServerTool(
        "list_agents",
        "List agents",
        "List the agents of this Sprig server (id, name, what each is about, model). Use it "
        "to find the agent_id the other tools need.",
        ListAgentsArgs,
        list_agents,
    ),
    ServerTool(
        "chat",
        "Chat with an agent",
        "Send a message to an agent and get its reply. Without session_id a new session "
        "starts (its id is in the reply: pass it next time to continue the conversation, "
        "which the agent then remembers). The agent answers with its own instructions, "
        "documents, memories and tools.",
        ChatArgs,
        chat,
        read_only=False,
    ),
    ServerTool(
        "search_documents",
        "Search documents",
        "Search the documents of an agent, a user or a session for passages about a text "
        "(hybrid search: meaning and words). Returns the best documents first, each with "
        "its best-matching snippet and a score.",
        SearchDocsArgs,
        search_documents,
    ),
    ServerTool(
        "add_document",
        "Add a document",
        "Store a document (title and text) for an agent, a user or a session. The agent "
        "recalls it in chats, and search_documents finds it as soon as this returns "
        "(large documents: shortly after, when 'searchable' is false).",
        AddDocArgs,
        add_document,
        read_only=False,
    ),
    ServerTool(
        "search_memories",
        "Search memories",
        "Search what an agent remembers (facts, episodes, entities), optionally only about "
        "one user; without text, the newest memories.",
        SearchMemoriesArgs,
        search_memories,
    ),
    ServerTool(
        "remember",
        "Remember a fact",
        "Store a fact about a user in an agent's long-term memory; the agent recalls it in "
        "later chats with that user.",
        RememberArgs,
        remember,
        read_only=False,
    ),
    ServerTool(
        "get_history",
        "Get a session's history",
        "The last messages of a session (role, text, time), oldest first.",
        HistoryArgs,
        get_history,
    ),
)
BY_NAME = {tool.name: tool for tool in TOOLS}
