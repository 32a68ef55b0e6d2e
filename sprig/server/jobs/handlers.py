"""What each job kind does. Handlers call services, never routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from sprig.server.jobs.worker import Handler, report_progress

if TYPE_CHECKING:
    from sprig.server.runtime import Runtime


def handlers(runtime: Runtime) -> dict[str, Handler]:
    from sprig.server.chat.service import summarize_session
    from sprig.server.memory.service import FORM_JOB, SUGGEST_JOB

    async def summarize(developer_id: UUID, payload: dict[str, Any]) -> None:
        await summarize_session(
            runtime.db,
            runtime.models,
            developer_id,
            UUID(payload["session_id"]),
            int(payload["before_seq"]),
        )

    async def embed_doc(developer_id: UUID, payload: dict[str, Any]) -> None:
        from sprig.server.docs.indexing import embed_pending_doc

        await embed_pending_doc(
            runtime.db,
            runtime.indexer,
            developer_id,
            UUID(payload["doc_id"]),
            on_progress=report_progress,
        )

    async def form_memories(developer_id: UUID, payload: dict[str, Any]) -> None:
        entry_ids = [UUID(i) for i in payload["entry_ids"]]
        session_id, fallback = UUID(payload["session_id"]), runtime.settings.memory_fallback
        await runtime.memory.form(developer_id, session_id, entry_ids, fallback)

    async def suggest(developer_id: UUID, payload: dict[str, Any]) -> None:
        session_id, entry_id = UUID(payload["session_id"]), UUID(payload["entry_id"])
        await runtime.memory.suggest(developer_id, session_id, entry_id)

    return {
        "summarize_session": summarize,
        "embed_doc": embed_doc,
        FORM_JOB: form_memories,
        SUGGEST_JOB: suggest,
    }
