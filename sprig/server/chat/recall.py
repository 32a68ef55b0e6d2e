"""Recall: documents relevant to the conversation, for the system template and ``docs``.

The query is the text of the last ``num_search_messages`` messages (history window plus
the new ones), cut to its last ``max_query_length`` characters; that text itself is
embedded (no instruction prefix). It searches the docs of the session, its users and the
answering agent with the session's ``recall_options``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sprig.server.chat.render import input_messages
from sprig.server.chat.tool_links import link_tool_results
from sprig.server.chat.turn import ChatOptions, TurnInputs
from sprig.server.chat.window import entry_message
from sprig.server.search.ranking import RankOptions
from sprig.server.search.service import Owner, SearchQuery, SearchService
from sprig.server.store.crud import Row


def wants_recall(inputs: TurnInputs, options: ChatOptions) -> bool:
    enabled = options.recall if options.recall is not None else inputs.session["recall"]
    return bool(enabled) and bool(inputs.session["recall_options"])


def recall_query(inputs: TurnInputs, options: ChatOptions) -> str:
    """The text of the last messages (the history window, then the new ones as sent)."""
    recall_options = inputs.session["recall_options"]
    history = [entry_message(r) for r in inputs.window.entries]
    said = history + link_tool_results(history, input_messages(options, {}))
    messages = [m for m in said if m.role in ("user", "assistant")]
    recent = messages[-int(recall_options.get("num_search_messages", 4)) :]
    text = "\n".join(m.text() for m in recent if m.text().strip())
    return text[-int(recall_options.get("max_query_length", 1000)) :]


def recall_owners(inputs: TurnInputs) -> list[Owner]:
    owners: list[Owner] = [("session", inputs.session["id"]), ("agent", inputs.agent["id"])]
    owners += [("user", u["id"]) for u in inputs.users]
    return owners


def _options(o: dict[str, Any]) -> RankOptions:
    confidence = o.get("confidence")
    return RankOptions(
        mode=o.get("mode", "hybrid"),
        limit=int(o.get("limit", 10)),
        alpha=float(o.get("alpha", 0.5)),
        confidence=None if confidence is None or confidence <= -1 else float(confidence),
        mmr_strength=float(o.get("mmr_strength", 0.0)),
        k_multiplier=int(o.get("k_multiplier", 5)),
    )


async def recall_docs(
    search: SearchService, developer_id: UUID, inputs: TurnInputs, text: str
) -> list[Row]:
    """Nothing, without a search, when no owner has a doc (the turn's read says so)."""
    o = inputs.session["recall_options"]
    if not text.strip() or not inputs.may_recall_docs():
        return []
    query = SearchQuery(
        text=text,
        options=_options(o),
        metadata_filter=o.get("metadata_filter") or {},
        lang=o.get("lang", "en-US"),
    )
    version = inputs.session["docs_version"]
    docs, _ = await search.search(developer_id, recall_owners(inputs), query, version)
    return docs
