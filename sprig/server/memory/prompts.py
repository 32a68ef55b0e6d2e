"""What the model is asked when memories are formed or suggestions made, and how its JSON
replies are read.

Extraction and reconciliation are one JSON-mode call: the prompt shows the conversation
(numbered messages, NEW ones marked, with their dates) and the existing memories most like
it (as ``m1``, ``m2``...); the model answers operations: ``add``, ``update`` (id + the new
content), ``invalidate`` (id), or nothing for memories that still hold.

Reading is lenient about spelling (``fact`` is a belief, ``delete`` invalidates, a bare
list is a list of operations) and strict about meaning: a reply that is not JSON, not a
list of operations, or has an operation without the content it needs raises
``ModelOutputError`` and nothing is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sprig.server.chat.window import entry_message
from sprig.server.errors import UpstreamError
from sprig.server.models.base import ChatMessage
from sprig.server.store.crud import Row

MAX_MESSAGE_CHARS = 2000
MAX_CONTENT_CHARS = 2000
MAX_ENTITIES = 20
MAX_SUGGESTIONS = 6

TYPES = {
    **dict.fromkeys(("belief", "fact", "preference", "opinion", "plan", "trait"), "belief"),
    **dict.fromkeys(("episode", "event", "experience"), "episode"),
    **dict.fromkeys(("entity", "person", "place", "thing", "object", "pet"), "entity"),
}
OPS = {
    **dict.fromkeys(("add", "new", "create", "insert"), "add"),
    **dict.fromkeys(("update", "replace", "change", "modify", "correct"), "update"),
    **dict.fromkeys(("invalidate", "delete", "remove", "contradict", "forget"), "invalidate"),
    **dict.fromkeys(("noop", "none", "keep", "skip", "unchanged"), "noop"),
}
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")

EXTRACTION_SYSTEM = """You keep the long-term memory of {agent}, an AI agent, about {user}.
Read the conversation. Learn only from the messages marked NEW; earlier ones are context.
Write down what will matter in later conversations:
- "belief": a fact, preference, plan or opinion of the user ("The user is vegetarian").
- "episode": something that happened and when ("On 2024-05-03 the user adopted a dog").
- "entity": a person, pet, place or thing in the user's life ("Max is the user's beagle").
Each memory is one self-contained sentence in the third person; turn relative dates
("yesterday") into dates using the message dates.
Compare with the EXISTING memories (by id):
- "add": new information.
- "update" with "id": the information changes or corrects that memory; give the full new content.
- "invalidate" with "id": that memory is no longer true and nothing replaces it.
- Leave out memories that still hold; never repeat one.
Answer with JSON only, for example:
{example}
"sources" are the numbers of the messages a memory comes from; "sentiment" is from -1
(negative) to 1 (positive). Answer {{"memories": []}} when there is nothing to remember."""

SUGGESTION_SYSTEM = """You suggest what could come next in a conversation between {user} and
{agent}, an AI agent. Give up to 3 follow-ups the user might ask next (target "user") and
up to 3 actions the agent might take next (target "agent"), each one short sentence.
Answer with JSON only, for example:
{example}"""


MEMORY_EXAMPLE = {
    "memories": [
        {
            "op": "add",
            "type": "belief",
            "content": "<one fact about the user, in one sentence>",
            "entities": ["user"],
            "sentiment": 0.0,
            "sources": [2],
        },
        {"op": "update", "id": "m1", "type": "belief", "content": "<the corrected fact>"},
    ]
}
SUGGESTION_EXAMPLE = {
    "suggestions": [
        {"target": "user", "content": "What should I pack?"},
        {"target": "agent", "content": "Check the weather forecast for the trip"},
    ]
}


class ModelOutputError(UpstreamError):
    """The model's reply cannot be used (a job fails with this reason and is retried)."""

    code = "bad_model_output"


@dataclass(frozen=True)
class MemoryOp:
    op: str  # add | update | invalidate
    target: UUID | None = None  # the existing memory an update or invalidate is about
    type: str = "belief"
    content: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    sentiment: float | None = None
    sources: list[int] = field(default_factory=list)  # message numbers, from 1
    verbatim: bool = False  # the user's own words (``memory_fallback``), not the model's


def _agent_label(row: Row) -> str:
    return str(row.get("name") or "").strip() or "the agent"


def _user_label(row: Row | None) -> str:
    name = str((row or {}).get("name") or "").strip()
    return f"the user ({name})" if name else "the user"


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "unknown date"


def conversation_lines(entries: list[Row], new_ids: set[UUID]) -> str:
    lines = []
    for number, row in enumerate(entries, start=1):
        text = entry_message(row).text().strip()[:MAX_MESSAGE_CHARS]
        mark = "NEW " if row["id"] in new_ids else ""
        speaker = f"{row['role']} ({row['name']})" if row.get("name") else row["role"]
        lines.append(f"[{number}] {mark}{_stamp(row.get('timestamp'))} {speaker}: {text}")
    return "\n".join(lines)


def extraction_messages(
    agent: Row, user: Row | None, entries: list[Row], new_ids: set[UUID], existing: list[Row]
) -> list[ChatMessage]:
    """The prompt; ``existing`` is shown as m1, m2... in that order."""
    system = EXTRACTION_SYSTEM.format(
        agent=_agent_label(agent), user=_user_label(user), example=json.dumps(MEMORY_EXAMPLE)
    )
    known = [
        f"[m{i}] ({m['type']}, {_stamp(m.get('timestamp'))}) {m['content']}"
        for i, m in enumerate(existing, start=1)
    ]
    body = (
        "EXISTING memories:\n"
        + ("\n".join(known) or "(none)")
        + "\n\nCONVERSATION:\n"
        + conversation_lines(entries, new_ids)
    )
    return [ChatMessage("system", system), ChatMessage("user", body)]


def suggestion_messages(agent: Row, user: Row | None, entries: list[Row]) -> list[ChatMessage]:
    system = SUGGESTION_SYSTEM.format(
        agent=_agent_label(agent), user=_user_label(user), example=json.dumps(SUGGESTION_EXAMPLE)
    )
    body = "CONVERSATION:\n" + conversation_lines(entries, set())
    return [ChatMessage("system", system), ChatMessage("user", body)]


def load_json(text: str, what: str) -> Any:
    """The reply as JSON (code fences allowed), or a ``ModelOutputError`` saying why not."""
    cleaned = _FENCE.sub("", text.strip())
    try:
        return json.loads(cleaned)
    except json.JSONDecodeError as err:
        preview = text.strip()[:120] or "(empty)"
        raise ModelOutputError(
            f"{what}: the model's reply is not valid JSON ({err.msg}): {preview!r}"
        ) from None


def _items(data: Any, key: str, what: str) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return list(data[key])
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            return list(lists[0])
    raise ModelOutputError(f"{what}: expected {{{key!r}: [...]}} in the model's reply")


def _entities(value: Any) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value] if value else []
    out: list[dict[str, Any]] = []
    for item in values[:MAX_ENTITIES]:
        if isinstance(item, str) and item.strip():
            out.append({"name": item.strip()})
        elif isinstance(item, dict) and str(item.get("name") or "").strip():
            out.append({k: item[k] for k in ("name", "type") if isinstance(item.get(k), str)})
    return out


def _sentiment(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(-1.0, min(1.0, float(value)))


def _sources(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [int(v) for v in values if isinstance(v, int | str) and str(v).strip().isdigit()]


def _alias(value: Any) -> str:
    text = str(value).strip().strip("[]()").lower()
    return f"m{text}" if text.isdigit() else text


def _memory_op(item: Any, number: int, aliases: dict[str, UUID]) -> MemoryOp | None:
    where = f"Memory formation: operation {number}"
    if not isinstance(item, dict):
        raise ModelOutputError(f"{where} is not an object")
    op = OPS.get(str(item.get("op") or item.get("action") or "add").strip().lower())
    kind = TYPES.get(str(item.get("type") or "belief").strip().lower())
    if op is None or kind is None:
        raise ModelOutputError(
            f"{where}: unknown op {item.get('op')!r} or type {item.get('type')!r}"
        )
    target = aliases.get(_alias(item["id"])) if item.get("id") is not None else None
    if op == "noop" or (op == "invalidate" and target is None):
        return None  # nothing to do, or nothing known to invalidate
    content = str(item.get("content") or item.get("text") or "").strip()[:MAX_CONTENT_CHARS]
    if op != "invalidate" and not content:
        raise ModelOutputError(f"{where}: {op!r} needs a non-empty 'content'")
    return MemoryOp(
        op="add" if op == "update" and target is None else op,
        target=target,
        type=kind,
        content=content,
        entities=_entities(item.get("entities")),
        sentiment=_sentiment(item.get("sentiment")),
        sources=_sources(item.get("sources", item.get("source", []))),
    )


def parse_memory_ops(text: str, aliases: dict[str, UUID]) -> list[MemoryOp]:
    """Operations from an extraction reply; ``aliases`` maps m1, m2... to memory ids.

    An update naming no known memory is an add (the new fact still stands); an invalidate
    naming none is dropped; everything else malformed raises ``ModelOutputError``.
    """
    items = _items(load_json(text, "Memory formation"), "memories", "Memory formation")
    ops = [_memory_op(item, i, aliases) for i, item in enumerate(items, start=1)]
    return [op for op in ops if op is not None and usable(op)]


# A weak model may copy the prompt's example, or loop: such a "memory" is never stored.
EXAMPLE_CONTENTS = frozenset(["<one fact about the user, in one sentence>", "<the corrected fact>"])
# Template syntax, words in angle brackets (``<your name>``; not ``<div>`` nor an address
# such as ``<ana@example.com>``), or a text opening such a stand-in and never closing it:
# the shape of an example, not a fact.
_PLACEHOLDER = re.compile(
    r"\{\{|\{%|<[a-zA-Z][^<>\n]{0,80}\s[^<>\n]{0,80}>|^\s*<[a-zA-Z][\w'-]*\s[^>]*$"
)
_TOKEN = re.compile(r"\w+")
DEGENERATE_MIN_TOKENS = 12
DEGENERATE_DISTINCT = 0.4  # a sentence repeats few words; a looping model most of them


def is_placeholder(text: str) -> bool:
    """``text`` is (or holds) a placeholder: the prompt's example contents, Jinja syntax or
    a stand-in such as ``<the user's name>``."""
    return text.strip() in EXAMPLE_CONTENTS or _PLACEHOLDER.search(text) is not None


def is_degenerate(text: str) -> bool:
    """``text`` loops ("updated by the agent, updated by the agent, ..."): a small model
    stuck repeating itself, not a memory."""
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) < DEGENERATE_MIN_TOKENS:
        return False
    return len(set(tokens)) < DEGENERATE_DISTINCT * len(tokens)


def usable(op: MemoryOp) -> bool:
    """An operation worth applying: not a copied example nor a loop (an invalidate has no
    content to judge)."""
    return op.op == "invalidate" or not (is_placeholder(op.content) or is_degenerate(op.content))


def parse_suggestions(text: str) -> list[tuple[str, str]]:
    """``(target, content)`` pairs from a suggestion reply, at most ``MAX_SUGGESTIONS``."""
    items = _items(load_json(text, "Suggestions"), "suggestions", "Suggestions")
    out: list[tuple[str, str]] = []
    for number, item in enumerate(items, start=1):
        target = str(item.get("target", "")).strip().lower() if isinstance(item, dict) else ""
        content = str(item.get("content") or "").strip() if isinstance(item, dict) else ""
        if target not in ("user", "agent") or not content:
            raise ModelOutputError(
                f"Suggestions: item {number} needs 'target' (user or agent) and 'content'"
            )
        out.append((target, content[:MAX_CONTENT_CHARS]))
    return out[:MAX_SUGGESTIONS]
