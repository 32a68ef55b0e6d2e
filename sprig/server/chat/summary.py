"""Session summaries: history older than the window folded into a rolling summary.

Run synchronously by the ``summarize`` overflow policy, or as the ``summarize_session`` job
(``adaptive``).
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.chat import window
from sprig.server.chat.turn import ModelResolver
from sprig.server.history.service import add_relations, append_entries
from sprig.server.models.base import ChatMessage, ChatModel, CompletionRequest, SamplingParams
from sprig.server.store import crud, tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database


async def summarize_session(
    db: Database, models: ModelResolver, developer_id: UUID, session_id: UUID, before_seq: int
) -> UUID | None:
    """Fold history older than ``before_seq`` into the session's rolling summary.

    The summary is an entry (``source="summarizer"``) related to each entry it covers by
    ``summary_of``; the session's ``summary_until`` moves forward so turns skip the span.
    """
    async with db.read() as conn:
        session = await crud.get(conn, tables.sessions, developer_id, session_id)
        if session is None or before_seq <= session["summary_until"] + 1:
            return None
        span = await window.span_to_summarize(conn, session, before_seq)
        agent_model = await _session_model(conn, developer_id, session_id)
    if not span:
        return None
    model = models.resolve(agent_model)
    messages = window.summary_request_messages(session["summary"], span)
    summary = (await model.complete(summary_request(messages))).content.strip()
    async with db.write() as conn:
        return await _save_summary(conn, developer_id, session_id, model, summary, span)


async def _save_summary(
    conn: AsyncConnection,
    developer_id: UUID,
    session_id: UUID,
    model: ChatModel,
    summary: str,
    span: list[Row],
) -> UUID | None:
    current = await crud.get(conn, tables.sessions, developer_id, session_id)
    if current is None or current["summary_until"] >= span[-1]["seq"]:
        return None  # someone else summarised meanwhile
    entry = {
        "role": "system",
        "content": summary,
        "source": "summarizer",
        "model": model.name,
        "token_count": model.count_tokens(summary),
        "tokenizer": model.name,
    }
    rows = await append_entries(conn, developer_id, session_id, [entry])
    covered = [(rows[0]["id"], "summary_of", r["id"]) for r in span]
    await add_relations(conn, developer_id, session_id, covered)
    moved = {"summary": summary, "summary_until": span[-1]["seq"]}
    await crud.update(conn, tables.sessions, developer_id, session_id, moved)
    return UUID(str(rows[0]["id"]))


def summary_request(messages: list[ChatMessage]) -> CompletionRequest:
    """The summariser's model call: low temperature, a short answer."""
    sampling = SamplingParams(temperature=0.2, max_tokens=400)
    return CompletionRequest(messages=messages, sampling=sampling)


async def _session_model(conn: AsyncConnection, developer_id: UUID, session_id: UUID) -> str | None:
    """The model of the session's first agent."""
    sp, a = tables.session_participants, tables.agents
    stmt = (
        sa.select(a.c.model)
        .join(sp, sp.c.participant_id == a.c.id)
        .where(
            sp.c.session_id == session_id, sp.c.kind == "agent", a.c.developer_id == developer_id
        )
        .order_by(sp.c.position)
        .limit(1)
    )
    model = (await conn.execute(stmt)).scalar_one_or_none()
    return str(model) if model is not None else None
