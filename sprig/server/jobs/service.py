"""Background jobs as rows: created in the transaction that needs them, read by status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal, get_args
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import NotFoundError
from sprig.server.ids import new_id, utcnow
from sprig.server.observability import tracing
from sprig.server.store import crud, tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database

JobState = Literal["pending", "in_progress", "retrying", "succeeded", "aborted", "failed"]
JOB_STATES: tuple[str, ...] = get_args(JobState)


async def enqueue(
    conn: AsyncConnection,
    developer_id: UUID,
    kind: str,
    payload: dict[str, Any],
    *,
    name: str | None = None,
    max_attempts: int = 3,
    delay_seconds: float = 0.0,
) -> Row:
    now = utcnow()
    row = {
        "id": new_id(),
        "developer_id": developer_id,
        "name": name or kind,
        "kind": kind,
        "payload": payload,
        "state": "pending",
        "reason": None,
        "has_progress": False,
        "progress": 0.0,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_after": now + timedelta(seconds=delay_seconds),
        "locked_by": None,
        "locked_until": None,
        "created_at": now,
        "updated_at": now,
        "traceparent": tracing.traceparent(),  # the job's span continues this trace
    }
    await crud.insert(conn, tables.jobs, row)
    return row


class JobService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, developer_id: UUID, job_id: UUID) -> Row:
        async with self.db.read() as conn:
            row = await crud.get(conn, tables.jobs, developer_id, job_id)
        if row is None:
            raise NotFoundError(f"Job {job_id} not found")
        return row

    async def list(
        self, developer_id: UUID, query: crud.ListQuery, *, state: str | None, kind: str | None
    ) -> list[Row]:
        """The tenant's jobs, newest first by default, of one state or kind if given."""
        j = tables.jobs
        where = [c == v for c, v in ((j.c.state, state), (j.c.kind, kind)) if v is not None]
        async with self.db.read() as conn:
            return await crud.list_rows(conn, j, developer_id, query, where)
