"""Responses API items and Sprig's chat messages, both ways.

Input items become chat messages (the dicts ``ChatOptions.messages`` takes): a ``message``
(``input_text``/``output_text``/``input_image`` parts, or a string), consecutive
``function_call`` items as one assistant message with those tool calls, a
``function_call_output`` as a ``tool`` message; ``reasoning`` items are dropped. A reply
becomes output items: a ``message`` with one ``output_text`` part (when there is text), then
one ``function_call`` per tool call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sprig.server.errors import BadRequestError
from sprig.server.ids import new_id
from sprig.server.openai.wire import Reply

Item = dict[str, Any]
ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}


def item_id(prefix: str) -> str:
    return f"{prefix}_{new_id().hex}"


def normalise_input(given: str | Sequence[Any]) -> list[Item]:
    """The input as items, each with an ``id`` (a string is one user message)."""
    if isinstance(given, str):
        given = [{"role": "user", "content": given}]
    return [_normalised(item, i) for i, item in enumerate(given)]


def _normalised(raw: Any, index: int) -> Item:
    if not isinstance(raw, dict):
        raise BadRequestError("An input item must be an object", param=f"input[{index}]")
    kind = raw.get("type") or ("message" if "role" in raw else None)
    if kind == "message":
        return _message_item(raw, index)
    if kind == "function_call_output":
        _require(raw, ("call_id", "output"), index)
        output = raw["output"] if isinstance(raw["output"], str) else _parts_text(raw["output"])
        return {**raw, "type": kind, "id": raw.get("id") or item_id("fco"), "output": output}
    if kind == "function_call":
        _require(raw, ("call_id", "name", "arguments"), index)
        return {**raw, "type": kind, "id": raw.get("id") or item_id("fc"), "status": "completed"}
    if kind == "reasoning":
        return {**raw, "type": kind, "id": raw.get("id") or item_id("rs")}
    if kind == "compaction":
        _require(raw, ("encrypted_content",), index)
        return {
            "type": kind,
            "id": raw.get("id") or item_id("cmp"),
            **_only(raw, "encrypted_content"),
        }
    raise BadRequestError(
        f"Input items of type {kind!r} are not supported", param=f"input[{index}]"
    )


def _only(raw: Item, *keys: str) -> Item:
    return {k: raw[k] for k in keys if k in raw}


def _require(raw: Item, keys: Iterable[str], index: int) -> None:
    for key in keys:
        if not isinstance(raw.get(key), str):
            raise BadRequestError(
                f"Missing required parameter: '{key}'.", param=f"input[{index}].{key}"
            )


def _message_item(raw: Item, index: int) -> Item:
    role = raw.get("role")
    if role not in ROLES:
        raise BadRequestError(f"Invalid role {role!r}", param=f"input[{index}].role")
    content = raw.get("content")
    if isinstance(content, str):
        content = [
            {"type": "output_text" if role == "assistant" else "input_text", "text": content}
        ]
    if not isinstance(content, list):
        raise BadRequestError("A message needs content", param=f"input[{index}].content")
    parts = [_part(p, index, j) for j, p in enumerate(content)]
    item = {"type": "message", "id": raw.get("id") or item_id("msg"), "role": role}
    return {**item, "content": parts, "status": "completed"}


def _part(raw: Any, index: int, j: int) -> Item:
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind in ("input_text", "output_text", "text") and isinstance(raw.get("text"), str):
        return {
            "type": "output_text" if kind == "output_text" else "input_text",
            "text": raw["text"],
        }
    if kind == "input_image" and isinstance(raw.get("image_url"), str):
        return {
            "type": "input_image",
            "image_url": raw["image_url"],
            "detail": raw.get("detail", "auto"),
        }
    raise BadRequestError(
        f"Content parts of type {kind!r} are not supported", param=f"input[{index}].content[{j}]"
    )


def said(items: Iterable[Item], opener: Opener) -> list[tuple[str, str]]:
    """Who said what, for a summariser: messages, tool calls and their results, and the
    summaries of earlier compactions."""
    out: list[tuple[str, str]] = []
    for item in items:
        kind = item["type"]
        if kind == "message":
            out.append((item["role"], "".join(p.get("text", "") for p in item["content"])))
        elif kind == "function_call":
            out.append(("assistant", f"(called {item['name']} with {item['arguments']})"))
        elif kind == "function_call_output":
            out.append(("tool", item["output"]))
        elif kind == "compaction":
            out.append(("summary", opener(item["encrypted_content"])))
    return out


def _parts_text(parts: Any) -> str:
    if not isinstance(parts, list):
        return str(parts)
    return "".join(p.get("text", "") for p in parts if isinstance(p, dict))


# -- items -> chat messages ---------------------------------------------------------------------
Opener = Callable[[str], str]  # a compaction item's encrypted_content -> its summary


def to_messages(items: Iterable[Item], opener: Opener | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        kind = item["type"]
        if kind == "compaction":
            summary = opener(item["encrypted_content"]) if opener else ""
            text = f"Summary of the earlier conversation: {summary}"
            out.append({"role": "system", "content": text})
        elif kind == "message":
            out.append({"role": ROLES[item["role"]], "content": _content(item["content"])})
        elif kind == "function_call":
            call = {"id": item["call_id"], "type": "function"}
            call["function"] = {"name": item["name"], "arguments": item["arguments"]}
            if out and out[-1]["role"] == "assistant" and out[-1].get("tool_calls") is not None:
                out[-1]["tool_calls"].append(call)
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            out.append({"role": "tool", "tool_call_id": item["call_id"], "content": item["output"]})
    return out


def _content(parts: list[Item]) -> str | list[dict[str, Any]]:
    if all(p["type"] != "input_image" for p in parts):
        return "".join(p["text"] for p in parts)
    return [
        {"type": "image_url", "image_url": {"url": p["image_url"]}}
        if p["type"] == "input_image"
        else {"type": "text", "text": p["text"]}
        for p in parts
    ]


# -- a reply -> output items --------------------------------------------------------------------
def message_item(item_id_: str, text: str, status: str = "completed") -> Item:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {
        "type": "message",
        "id": item_id_,
        "status": status,
        "role": "assistant",
        "content": [part] if status == "completed" else [],
    }


def call_item(item_id_: str, call: dict[str, Any], status: str = "completed") -> Item:
    function = call["function"]
    arguments = function["arguments"] if status == "completed" else ""
    return {
        "type": "function_call",
        "id": item_id_,
        "call_id": call["id"],
        "name": function["name"],
        "arguments": arguments,
        "status": status,
    }


def output_items(reply: Reply, message_id: str | None = None) -> list[Item]:
    items: list[Item] = []
    if reply.content or not reply.tool_calls:
        items.append(message_item(message_id or item_id("msg"), reply.content))
    items += [call_item(item_id("fc"), call) for call in reply.tool_calls]
    return items


def page(listed: list[Item], limit: int, after: str | None = None) -> dict[str, Any]:
    """A list page of items (OpenAI's cursor: the items after the one named ``after``)."""
    if after is not None:
        ids = [i["id"] for i in listed]
        listed = listed[ids.index(after) + 1 :] if after in ids else []
    shown = listed[:limit]
    return {
        "object": "list",
        "data": shown,
        "first_id": shown[0]["id"] if shown else None,
        "last_id": shown[-1]["id"] if shown else None,
        "has_more": len(listed) > limit,
    }
