"""The route table, read from the app's OpenAPI schema, with ids and minimal bodies.

Tests that must cover every route (tenant isolation, malformed input) iterate this table,
so a new route is covered, or the tests say what it needs, without editing each test.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

# Minimal valid bodies of routes that take one: (method, path template) -> body.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/agents"): {"name": "n"},
    ("POST", "/agents/{id}"): {"name": "n"},
    ("PUT", "/agents/{id}"): {"name": "n"},
    ("PATCH", "/agents/{id}"): {"about": "x"},
    ("POST", "/users"): {"name": "n"},
    ("POST", "/users/{id}"): {"name": "n"},
    ("PUT", "/users/{id}"): {"name": "n"},
    ("PATCH", "/users/{id}"): {"about": "x"},
    ("POST", "/sessions"): {"agent": "{agent}"},
    ("POST", "/sessions/{id}"): {"agent": "{agent}"},
    ("PUT", "/sessions/{id}"): {"situation": "x"},
    ("PATCH", "/sessions/{id}"): {"situation": "x"},
    ("POST", "/agents/{agent_id}/tools"): {"name": "t2", "type": "function"},
    ("PUT", "/agents/{agent_id}/tools/{tool_id}"): {"name": "t2", "type": "function"},
    ("PATCH", "/agents/{agent_id}/tools/{tool_id}"): {"description": "x"},
    ("POST", "/agents/{owner_id}/docs"): {"title": "t", "content": "new"},
    ("POST", "/users/{owner_id}/docs"): {"title": "t", "content": "new"},
    ("POST", "/sessions/{owner_id}/docs"): {"title": "t", "content": "new"},
    ("POST", "/sessions/{session_id}/chat"): {"messages": [{"role": "user", "content": "hi"}]},
    ("POST", "/sessions/{session_id}/render"): {"messages": [{"role": "user", "content": "hi"}]},
    ("POST", "/v1/chat/completions"): {
        "model": "n",
        "messages": [{"role": "user", "content": "hi"}],
    },
    ("POST", "/v1/responses"): {"model": "n", "input": "hi"},
    ("POST", "/v1/embeddings"): {"model": "n", "input": "hi"},
    ("POST", "/v1/conversations"): {"metadata": {"k": "v"}},
    ("POST", "/v1/vector_stores"): {"name": "n"},
    ("POST", "/v1/vector_stores/{store_id}"): {"name": "n"},
    ("POST", "/v1/vector_stores/{store_id}/files"): {"file_id": "{file}"},
    ("POST", "/v1/vector_stores/{store_id}/search"): {"query": "notes"},
    ("POST", "/v1/conversations/{conversation_id}"): {"metadata": {"k": "v"}},
    ("POST", "/v1/conversations/{conversation_id}/items"): {
        "items": [{"role": "user", "content": "hi"}]
    },
    ("POST", "/agents/{owner_id}/search"): {"text": "hello"},
    ("POST", "/users/{owner_id}/search"): {"text": "hello"},
    ("POST", "/sessions/{owner_id}/search"): {"text": "hello"},
    ("POST", "/agents/{agent_id}/memories"): {"content": "m"},
    ("POST", "/agents/{agent_id}/memories/search"): {"text": "m"},
    ("DELETE", "/agents/{owner_id}/docs"): {"delete_all": True},
    ("DELETE", "/users/{owner_id}/docs"): {"delete_all": True},
    ("DELETE", "/sessions/{owner_id}/docs"): {"delete_all": True},
}


def routes(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path template, operation schema) for every documented route."""
    table = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            table.append((method.upper(), path, op))
    return table


def has_body(op: dict[str, Any]) -> bool:
    return "requestBody" in op


def kind_of(path: str) -> str:
    return path.strip("/").split("/")[0].rstrip("s")  # agents -> agent, docs -> doc


def fill(path: str, ids: dict[str, str]) -> str:
    """Substitute path parameters from ``ids`` (keys: agent, user, session, tool, doc, job)."""
    kind = kind_of(path)
    owner_doc = {"agent": "agent_doc", "user": "user_doc", "session": "session_doc"}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("id", "owner_id"):
            return ids[kind]
        if name == "model_id":  # /v1/models/{model_id}: the agent as a model
            return "agent:" + ids["agent"]
        if name == "conversation_id":  # an OpenAI conversation is a session
            return ids["session"]
        if name == "item_id":
            return "msg_" + ids["session"].replace("-", "")
        if name in ("file_id", "store_id"):  # OpenAI files and vector stores
            return ids[name.removesuffix("_id")]
        if name == "doc_id":
            return ids[owner_doc.get(kind, "agent_doc")]
        return ids[name.removesuffix("_id")]

    return re.sub(r"\{(\w+)\}", value, path)


def body_for(method: str, path: str, ids: dict[str, str]) -> dict[str, Any] | None:
    body = BODIES.get((method, path))
    if body is None:
        return None
    named = {"{agent}": ids["agent"], "{file}": ids.get("file")}
    return {k: (named[v] if isinstance(v, str) and v in named else v) for k, v in body.items()}
