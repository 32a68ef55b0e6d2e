"""What each job kind does. Handlers call services, never routes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sprig.server.chat.summary import summarize_session
from sprig.server.chat.turn import ModelResolver
from sprig.server.docs.indexing import DocIndexer, embed_pending_doc
from sprig.server.jobs.worker import Handler, report_progress
from sprig.server.memory.service import FORM_JOB, SUGGEST_JOB, MemoryService
from sprig.server.settings import Settings
from sprig.server.store.db import Database


def handlers(
    db: Database,
    models: ModelResolver,
    indexer: DocIndexer,
    memory: MemoryService,
    settings: Settings,
) -> dict[str, Handler]:
    async def summarize(developer_id: UUID, payload: dict[str, Any]) -> None:
        session_id, before = UUID(payload["session_id"]), int(payload["before_seq"])
        await summarize_session(db, models, developer_id, session_id, before)

    async def embed_doc(developer_id: UUID, payload: dict[str, Any]) -> None:
        doc_id = UUID(payload["doc_id"])
        await embed_pending_doc(db, indexer, developer_id, doc_id, on_progress=report_progress)

    async def form_memories(developer_id: UUID, payload: dict[str, Any]) -> None:
        entry_ids = [UUID(i) for i in payload["entry_ids"]]
        session_id, fallback = UUID(payload["session_id"]), settings.memory_fallback  # now
        await memory.form(developer_id, session_id, entry_ids, fallback)

    async def suggest(developer_id: UUID, payload: dict[str, Any]) -> None:
        session_id, entry_id = UUID(payload["session_id"]), UUID(payload["entry_id"])
        await memory.suggest(developer_id, session_id, entry_id)

    return {
        "summarize_session": summarize,
        "embed_doc": embed_doc,
        FORM_JOB: form_memories,
        SUGGEST_JOB: suggest,
    }
