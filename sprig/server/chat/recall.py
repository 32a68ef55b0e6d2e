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

from sprig.server.chat.render import input_messages
from sprig.server.chat.turn import ChatOptions, TurnInputs
from sprig.server.chat.window import entry_message
from sprig.server.search.options import RecallOptions
from sprig.server.search.service import Owner, SearchService
from sprig.server.store.crud import Row


def turn_recall(inputs: TurnInputs, options: ChatOptions) -> RecallOptions | None:
    """The session's recall options, when this turn recalls (the request's ``recall``,
    else the session's, and options stored)."""
    enabled = options.recall if options.recall is not None else inputs.session["recall"]
    return RecallOptions.of_session(inputs.session["recall_options"]) if enabled else None


SPOKEN = ("user", "assistant")


def recall_query(inputs: TurnInputs, options: ChatOptions, recall: RecallOptions) -> str:
    """The text of the last messages (the history window, then the new ones as sent); only
    the window's newest entries are looked at."""
    said = [m.text() for m in input_messages(options, {}) if m.role in SPOKEN]
    wanted = recall.num_search_messages
    older: list[str] = []
    for row in reversed(inputs.window.entries):
        if len(said) + len(older) >= wanted:
            break
        if row["role"] in SPOKEN:
            older.append(entry_message(row).text())
    return recall.query_text([*reversed(older), *said])


def recall_owners(inputs: TurnInputs) -> list[Owner]:
    owners: list[Owner] = [("session", inputs.session["id"]), ("agent", inputs.agent["id"])]
    owners += [("user", u["id"]) for u in inputs.users]
    return owners


async def recall_docs(
    search: SearchService,
    developer_id: UUID,
    inputs: TurnInputs,
    recall: RecallOptions,
    text: str,
) -> list[Row]:
    """Nothing, without a search, when no owner has a doc (the turn's read says so)."""
    if not text.strip() or not inputs.may_recall_docs():
        return []
    version = inputs.session["docs_version"]
    docs, _ = await search.search(developer_id, recall_owners(inputs), recall.query(text), version)
    return docs
