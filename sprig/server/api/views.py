"""Stored rows → wire bodies: the v1 superset, plus the legacy (0.x) view where types clash.

See WIRE.md §7: one body per route satisfies every official SDK; only clients that send
``X-Fern-Language`` get the legacy adjustments.
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args
from uuid import UUID, uuid5

from sprig.server.ids import rfc3339
from sprig.server.store.crud import Row
from sprig.server.tools import sealing

NIL_UUID = "00000000-0000-0000-0000-000000000000"
# The presets the 0.x SDKs know (their response models refuse others)
LegacyPreset = Literal[
    "problem_solving",
    "conversational",
    "fun",
    "prose",
    "creative",
    "business",
    "deterministic",
    "code",
    "multilingual",
]
LEGACY_PRESETS = frozenset(get_args(LegacyPreset))


def _s(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def deleted(row: Row) -> dict[str, Any]:
    return {"id": _s(row["id"]), "deleted_at": rfc3339(row["deleted_at"]), "jobs": []}


def _times(row: Row) -> dict[str, Any]:
    return {"created_at": rfc3339(row["created_at"]), "updated_at": rfc3339(row["updated_at"])}


def agent(row: Row, legacy: bool = False) -> dict[str, Any]:
    settings = dict(row["default_settings"] or {})
    if legacy and settings.get("preset") not in LEGACY_PRESETS:
        settings.pop("preset", None)
    return {
        "id": _s(row["id"]),
        "name": row["name"],
        "canonical_name": row["canonical_name"],
        "about": row["about"],
        "model": row["model"],
        "instructions": row["instructions"],
        "default_settings": settings,
        "default_system_template": row["default_system_template"],
        "metadata": row["metadata"],
        "project": row["project"],
        **_times(row),
        "jobs": [],
    }


def user(row: Row, legacy: bool = False) -> dict[str, Any]:
    return {
        "id": _s(row["id"]),
        "name": row["name"],
        "about": row["about"],
        "metadata": row["metadata"],
        "project": row["project"],
        **_times(row),
        "jobs": [],
    }


def _session_kind(agents: list[UUID], users: list[UUID]) -> str:
    a = "single_agent" if len(agents) == 1 else "multi_agent"
    u = {0: "no_user", 1: "single_user"}.get(len(users), "multi_user")
    return f"{a}_{u}"


def session(row: Row, legacy: bool = False) -> dict[str, Any]:
    agents, users = row.get("agents", []), row.get("users", [])
    user_id = _s(users[0]) if users else (NIL_UUID if legacy else None)
    return {
        "id": _s(row["id"]),
        "agent_id": _s(agents[0]) if agents else None,
        "user_id": user_id,
        "agents": [_s(a) for a in agents],
        "users": [_s(u) for u in users],
        "kind": _session_kind(agents, users),
        "situation": row["situation"],
        "summary": row["summary"],
        "system_template": row["system_template"],
        "render_templates": row["render_templates"],
        "token_budget": row["token_budget"],
        "context_overflow": row["context_overflow"],
        "auto_run_tools": row["auto_run_tools"],
        "forward_tool_calls": row["forward_tool_calls"],
        "recall": row["recall"],
        "remember": row["remember"],
        "recall_options": row["recall_options"],
        "metadata": row["metadata"],
        **_times(row),
        "jobs": [],
    }


def tool(row: Row, legacy: bool = False) -> dict[str, Any]:
    spec = row["spec"] or {}
    kind = row["type"]
    body: dict[str, Any] = {
        "id": _s(row["id"]),
        "agent_id": _s(row["agent_id"]),
        "name": row["name"],
        "type": kind,
        "description": row["description"],
        kind: sealing.redact(kind, spec.get(kind)),  # secrets never leave the server
        **_times(row),
        "jobs": [],
    }
    if kind == "function" or legacy:
        fn = dict(spec.get("function") or {})
        fn.setdefault("name", row["name"])
        fn.setdefault("description", row["description"])
        fn["parameters"] = fn.get("parameters") or {}
        body["function"] = fn
    if legacy:
        body["type"] = spec.get("legacy_type") or "function"
    return body


def legacy_tool_visible(row: Row) -> bool:
    """0.x clients can parse only function/webhook tools: hide the rest from their lists."""
    return bool(row["type"] == "function")


def _join(content: Any) -> Any:
    return "\n\n".join(content) if isinstance(content, list) else content


PREVIEW_CHARS = 4096  # a create response shows this much of a doc's content


def preview(content: str | list[str]) -> tuple[str | list[str], bool]:
    """The content as a create response shows it: whole when small, else its first
    `PREVIEW_CHARS` characters (a list keeps its shape); and whether it was cut."""
    if isinstance(content, str):
        return (
            (content, False) if len(content) <= PREVIEW_CHARS else (content[:PREVIEW_CHARS], True)
        )
    kept: list[str] = []
    budget = PREVIEW_CHARS
    for part in content:
        if len(part) > budget:
            kept.append(part[:budget])
            return kept, True
        kept.append(part)
        budget -= len(part)
    return kept, False


def created_doc(row: Row, legacy: bool = False) -> dict[str, Any]:
    """A create's answer: the doc, its content cut to a preview when large (a 5 MB doc is
    not echoed back); ``content_truncated`` and ``content_length`` say so. GET has it all."""
    content, cut = preview(row["content"])
    body = doc({**row, "content": content}, legacy)
    full = row["content"]
    body["content_length"] = len(full) if isinstance(full, str) else sum(map(len, full))
    body["content_truncated"] = cut
    return body


def doc(row: Row, legacy: bool = False, include_embeddings: bool = False) -> dict[str, Any]:
    return {
        "id": _s(row["id"]),
        "title": row["title"],
        "content": _join(row["content"]) if legacy else row["content"],
        "metadata": row["metadata"],
        "owner": {"id": _s(row["owner_id"]), "role": row["owner_kind"]},
        "embeddings": row.get("embeddings") if include_embeddings else None,
        "embedding_model": row["embedding_model"],
        "embedding_dimensions": row["embedding_dimensions"],
        "language": row["language"],
        "modality": row["modality"],
        "status": row["status"],
        **_times(row),
        "jobs": [str(j) for j in row.get("jobs") or []],
    }


def job(row: Row) -> dict[str, Any]:
    return {
        "id": _s(row["id"]),
        "name": row["name"],
        "state": row["state"],
        "reason": row["reason"],
        "has_progress": row["has_progress"],
        "progress": row["progress"],
        "kind": row["kind"],
        "attempts": row["attempts"],
        "max_attempts": row["max_attempts"],
        **_times(row),
    }


def entry(row: Row) -> dict[str, Any]:
    return {
        "id": _s(row["id"]),
        "session_id": _s(row["session_id"]),
        "role": row["role"],
        "name": row["name"],
        "content": row["content"],
        "source": row["source"],
        "tool_call_id": row["tool_call_id"],
        "tool_calls": row["tool_calls"],
        "model": row["model"],
        "token_count": row["token_count"],
        "tokenizer": row["tokenizer"],
        "partial": row["partial"],
        "timestamp": rfc3339(row["timestamp"]),
        "created_at": rfc3339(row["created_at"]),
    }


def text_of(content: Any) -> str:
    """Flatten stored content (str, [str], parts, tool objects) into plain text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(text_of(part) for part in content)
    if isinstance(content, dict):
        if "text" in content:
            return str(content["text"])
        if content.get("type") == "image_url":
            return ""
        if "content" in content:
            return text_of(content["content"])
    return json.dumps(content, ensure_ascii=False)


LEGACY_ROLES = {"tool": "function"}


def legacy_messages(row: Row) -> list[dict[str, Any]]:
    """An entry as 0.x ChatML messages: its text, then one ``function_call`` message per
    tool call (content: the JSON of ``{name, arguments}``, as upstream 0.x answered)."""
    base = {"name": row["name"], "created_at": rfc3339(row["created_at"])}
    calls = row.get("tool_calls") or []
    text = text_of(row["content"])
    out = []
    if text or not calls:
        role = LEGACY_ROLES.get(row["role"], row["role"])
        out.append({"id": _s(row["id"]), "role": role, **base, "content": text})
    for call in calls:
        fn = call.get("function") or {}
        content = json.dumps({"name": fn.get("name"), "arguments": fn.get("arguments", "{}")})
        ident = row["id"] if not out else uuid5(row["id"], str(call.get("id")))
        out.append({"id": str(ident), "role": "function_call", **base, "content": content})
    return out


def history(session_row: Row, entries: list[Row], relations: list[Row]) -> dict[str, Any]:
    return {
        "session_id": _s(session_row["id"]),
        "created_at": rfc3339(session_row["created_at"]),
        "entries": [entry(e) for e in entries],
        "relations": [
            {"head": _s(r["head"]), "relation": r["relation"], "tail": _s(r["tail"])}
            for r in relations
        ],
        "items": [m for e in entries for m in legacy_messages(e)],
    }


def doc_reference(row: Row) -> dict[str, Any]:
    """A recalled doc as v1 DocReference: owner, best snippet, score."""
    snippet = row.get("snippet") or {"index": 0, "content": _join(row.get("content"))}
    return {
        "id": _s(row["id"]),
        "title": row.get("title"),
        "owner": {"id": _s(row.get("owner_id")), "role": row.get("owner_kind")},
        "snippet": snippet,
        "distance": row.get("distance"),
        "score": row.get("score"),
        "relevance": row.get("relevance"),
        "metadata": row.get("metadata"),
    }
