"""``/v1/conversations``: an OpenAI conversation **is** a Sprig session.

The ids are the same (``conv_<hex>`` on the wire, the session's UUID underneath: either
form is accepted), so a conversation is visible in the Julep API's history and a session
can be used as a conversation. Its items are its history entries, in order: a text entry is
a ``message`` item (``msg_<entry hex>``), an assistant's tool calls are ``function_call``
items (``fc_<entry hex>_<n>``), a tool result a ``function_call_output`` (``fco_<hex>``).
A conversation made here has no agent until a response names one as its model.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from sprig.server.errors import BadRequestError, NotFoundError, NotImplementedFeatureError
from sprig.server.openai import items as it
from sprig.server.resources.sessions import OPEN
from sprig.server.runtime import Runtime
from sprig.server.store import tables
from sprig.server.store.crud import Row

PREFIX = "conv_"
MAX_NEW_ITEMS = 20


def wire_id(session_id: UUID) -> str:
    return f"{PREFIX}{session_id.hex}"


def parse_id(given: str) -> UUID:
    try:
        return UUID(given.removeprefix(PREFIX))
    except ValueError:
        raise NotFoundError(f"Conversation with id '{given}' not found.") from None


def conversation_object(row: Row) -> dict[str, Any]:
    return {
        "id": wire_id(row["id"]),
        "object": "conversation",
        "created_at": int(row["created_at"].timestamp()),
        "metadata": {k: str(v) for k, v in (row.get("metadata") or {}).items()},
    }


# -- entries -> items -------------------------------------------------------------------------
def entry_items(entry: Row) -> list[it.Item]:
    hexid, role = entry["id"].hex, entry["role"]
    text = _text(entry["content"])
    if role == "tool":
        call_id = entry["tool_call_id"] or ""
        output = {"type": "function_call_output", "id": f"fco_{hexid}", "call_id": call_id}
        return [{**output, "output": text, "status": "completed"}]
    calls = entry.get("tool_calls") or []
    out: list[it.Item] = []
    if text or not calls:
        kind = "output_text" if role == "assistant" else "input_text"
        part: dict[str, Any] = {"type": kind, "text": text}
        if kind == "output_text":
            part["annotations"] = []
        message = {"type": "message", "id": f"msg_{hexid}", "role": role, "status": "completed"}
        out.append({**message, "content": [part]})
    for n, call in enumerate(calls):
        out.append(it.call_item(f"fc_{hexid}_{n}", call))
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


def _entry_of(item_id: str) -> UUID:
    body = item_id.split("_", 1)[1] if "_" in item_id else ""
    try:
        return UUID(body.split("_", 1)[0])
    except ValueError:
        raise NotFoundError(f"Item with id '{item_id}' not found.") from None


class ConversationsService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def create(
        self, developer_id: UUID, items: list[dict[str, Any]], metadata: dict[str, str]
    ) -> dict[str, Any]:
        _check_count(items)
        normalised = it.normalise_input(items) if items else []
        values = {"metadata": metadata}
        row = await self.runtime.sessions.create(developer_id, values, {OPEN: True})
        if normalised:
            await self._append(developer_id, row["id"], normalised)
        return conversation_object(row)

    async def get(self, developer_id: UUID, given: str) -> dict[str, Any]:
        return conversation_object(await self._session(developer_id, given))

    async def update(
        self, developer_id: UUID, given: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        session_id = parse_id(given)
        await self._session(developer_id, given)
        row = await self.runtime.sessions.patch(developer_id, session_id, {"metadata": metadata})
        return conversation_object(row)

    async def delete(self, developer_id: UUID, given: str) -> dict[str, Any]:
        await self._session(developer_id, given)
        await self.runtime.sessions.delete(developer_id, parse_id(given))
        return {"id": given, "object": "conversation.deleted", "deleted": True}

    async def _session(self, developer_id: UUID, given: str) -> Row:
        s = tables.sessions
        stmt = sa.select(s).where(s.c.id == parse_id(given), s.c.developer_id == developer_id)
        async with self.runtime.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            raise NotFoundError(f"Conversation with id '{given}' not found.")
        return dict(row)

    # -- items ---------------------------------------------------------------------------------
    async def items(
        self, developer_id: UUID, given: str, limit: int, order: str, after: str | None
    ) -> dict[str, Any]:
        _, entries, _ = await self.runtime.history.get(developer_id, parse_id(given))
        listed = [item for e in entries for item in entry_items(e)]
        if order == "desc":
            listed.reverse()
        return it.page(listed, limit, after)

    async def item(self, developer_id: UUID, given: str, item_id: str) -> dict[str, Any]:
        wanted = _entry_of(item_id)
        _, entries, _ = await self.runtime.history.get(developer_id, parse_id(given))
        for entry in entries:
            if entry["id"] == wanted:
                for item in entry_items(entry):
                    if item["id"] == item_id:
                        return item
        raise NotFoundError(f"Item with id '{item_id}' not found.")

    async def add_items(
        self, developer_id: UUID, given: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        _check_count(items)
        if not items:
            raise BadRequestError("No items to add", param="items")
        rows = await self._append(developer_id, parse_id(given), it.normalise_input(items))
        added = [item for row in rows for item in entry_items(row)]
        return it.page(added, len(added))

    async def delete_item(self, developer_id: UUID, given: str, item_id: str) -> None:
        await self.item(developer_id, given, item_id)
        raise NotImplementedFeatureError(
            "Deleting one item of a conversation is not served by Sprig yet (a session's "
            "history is append-only; DELETE /sessions/{id}/history clears it all)"
        )

    async def _append(
        self, developer_id: UUID, session_id: UUID, items: list[it.Item]
    ) -> list[Row]:
        entries = [_entry(m) for m in it.to_messages(items)]
        return await self.runtime.history.append(developer_id, session_id, entries)


def _entry(message: dict[str, Any]) -> dict[str, Any]:
    source = "tool_response" if message["role"] == "tool" else "api_request"
    if message.get("tool_calls"):
        source = "tool_request"
    return {**message, "source": source}


def _check_count(items: list[dict[str, Any]]) -> None:
    if len(items) > MAX_NEW_ITEMS:
        raise BadRequestError(f"At most {MAX_NEW_ITEMS} items at a time", param="items")
