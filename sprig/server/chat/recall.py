"""Recall: documents relevant to the conversation, for the system template and ``docs``.

The session's ``recall_options`` are parsed once per turn (``turn_recall``: a
``search.options.RecallOptions``, None when the turn does not recall). The query is the
text of the last ``num_search_messages`` messages (history window plus the new ones), cut
to its last ``max_query_length`` characters; that text itself is embedded (no instruction
prefix). It searches the docs of the session, its users and the answering agent with
those options; the memories of the session's first user are searched with the same text.
"""

from __future__ import annotations

from uuid import UUID

from sprig.server.chat.turn import ChatOptions, Turn
from sprig.server.search.options import RecallOptions
from sprig.server.search.service import Owner, SearchService
from sprig.server.store.crud import Row


def turn_recall(turn: Turn, options: ChatOptions) -> RecallOptions | None:
    """The session's recall options, when this turn recalls (the request's ``recall``,
    else the session's, and options stored)."""
    enabled = options.recall if options.recall is not None else turn.session["recall"]
    return RecallOptions.of_session(turn.session["recall_options"]) if enabled else None


def recall_query(turn: Turn, recall: RecallOptions) -> str:
    messages = [m.text() for m in turn.request.messages if m.role in ("user", "assistant")]
    return recall.query_text(messages)


def recall_owners(turn: Turn) -> list[Owner]:
    owners: list[Owner] = [("session", turn.session["id"]), ("agent", turn.agent["id"])]
    owners += [("user", u["id"]) for u in turn.users]
    return owners


async def recall_docs(
    search: SearchService, developer_id: UUID, turn: Turn, recall: RecallOptions, text: str
) -> list[Row]:
    """Nothing, without a search, when no owner has a doc (the turn's read says so)."""
    if not text.strip() or not turn.may_recall_docs():
        return []
    query = recall.query(text)
    docs, _ = await search.search(developer_id, recall_owners(turn), query, turn.docs_version)
    return docs
