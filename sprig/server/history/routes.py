"""A session's history: ``/sessions/{id}/history``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, status

from sprig.server.api import views
from sprig.server.api.deps import Developer, HistoryDep, Offset
from sprig.server.api.responses import Deleted, History, documented

router = APIRouter(tags=["sessions"])


@router.get("/sessions/{session_id}/history", response_model=documented(History))
async def get_history(
    session_id: UUID,
    history: HistoryDep,
    dev: Developer,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    offset: Offset = 0,
    before: datetime | None = None,
) -> dict[str, Any]:
    session, entries, relations = await history.get(
        dev, session_id, limit=limit, offset=offset, before=before
    )
    return views.history(session, entries, relations)


@router.delete(
    "/sessions/{session_id}/history",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=documented(Deleted),
)
async def delete_history(session_id: UUID, history: HistoryDep, dev: Developer) -> dict[str, Any]:
    return views.deleted(await history.clear(dev, session_id))
