"""Claiming and settling job rows. One claim is one atomic UPDATE, so no job runs twice at once.

A claim takes the oldest runnable job (pending or retrying, ``run_after`` passed) or one whose
lease expired (its worker died), marks it ``in_progress`` with a lease, and returns it. On
PostgreSQL the candidate is picked with ``FOR UPDATE SKIP LOCKED``; SQLite has one writer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from sprig.server.ids import utcnow
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database

RUNNABLE = ("pending", "retrying")


def _candidate(dialect: str) -> sa.Select[Any]:
    j = tables.jobs
    now = utcnow()
    ready = sa.and_(j.c.state.in_(RUNNABLE), j.c.run_after <= now)
    orphaned = sa.and_(j.c.state == "in_progress", j.c.locked_until < now)
    stmt = sa.select(j.c.id).where(sa.or_(ready, orphaned)).order_by(j.c.run_after).limit(1)
    if dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt


async def claim(db: Database, worker_id: str, lease_seconds: float) -> Row | None:
    j = tables.jobs
    async with db.write() as conn:
        job_id = (await conn.execute(_candidate(conn.dialect.name))).scalar_one_or_none()
        if job_id is None:
            return None
        now = utcnow()
        stmt = (
            sa.update(j)
            .where(j.c.id == job_id)
            .values(
                state="in_progress",
                locked_by=worker_id,
                locked_until=now + timedelta(seconds=lease_seconds),
                attempts=j.c.attempts + 1,
                updated_at=now,
            )
            .returning(*j.c)
        )
        row = (await conn.execute(stmt)).mappings().first()
        return dict(row) if row else None


async def settle(
    db: Database,
    job: Row,
    worker_id: str,
    *,
    error: str | None,
    backoff_seconds: float,
) -> str:
    """Mark a claimed job succeeded, retrying (with backoff) or failed; returns the state."""
    j = tables.jobs
    now = utcnow()
    if error is None:
        values: dict[str, Any] = {"state": "succeeded", "reason": None, "progress": 1.0}
    elif job["attempts"] < job["max_attempts"]:
        delay = backoff_seconds * 2 ** (job["attempts"] - 1)
        values = {"state": "retrying", "reason": error, "run_after": now + timedelta(seconds=delay)}
    else:
        values = {"state": "failed", "reason": error}
    values.update(locked_by=None, locked_until=None, updated_at=now)
    async with db.write() as conn:
        await conn.execute(
            sa.update(j).where(j.c.id == job["id"], j.c.locked_by == worker_id).values(**values)
        )
    return str(values["state"])


async def progress(db: Database, job_id: UUID, fraction: float) -> None:
    j = tables.jobs
    async with db.write() as conn:
        await conn.execute(
            sa.update(j)
            .where(j.c.id == job_id)
            .values(has_progress=True, progress=min(max(fraction, 0.0), 1.0), updated_at=utcnow())
        )


async def renew(db: Database, job_id: UUID, worker_id: str, lease_seconds: float) -> bool:
    """Extend a running job's lease (its worker is alive); False if it is no longer ours."""
    j = tables.jobs
    now = utcnow()
    async with db.write() as conn:
        result = await conn.execute(
            sa.update(j)
            .where(j.c.id == job_id, j.c.locked_by == worker_id, j.c.state == "in_progress")
            .values(locked_until=now + timedelta(seconds=lease_seconds), updated_at=now)
        )
    return bool(result.rowcount)
