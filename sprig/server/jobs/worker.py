"""The job worker: claims jobs and runs their handler. In process by default (`sprig serve`),
or as separate processes (`sprig worker`) against the same database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sprig.server.errors import SprigError
from sprig.server.ids import new_id
from sprig.server.jobs import queue
from sprig.server.observability import tracing
from sprig.server.priority import background_work
from sprig.server.store.crud import Row
from sprig.server.store.db import Database

log = logging.getLogger("sprig.jobs")

Handler = Callable[[UUID, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RunningJob:
    db: Database
    id: UUID


_running: ContextVar[RunningJob | None] = ContextVar("sprig_running_job", default=None)


async def report_progress(fraction: float) -> None:
    """Record how far the job this task runs has got (``GET /jobs/{id}``); outside a job,
    nothing."""
    job = _running.get()
    if job is not None:
        await queue.progress(job.db, job.id, fraction)


@dataclass
class Worker:
    db: Database
    handlers: dict[str, Handler]
    poll_seconds: float = 0.5
    lease_seconds: float = 300.0
    backoff_seconds: float = 2.0
    worker_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{new_id().hex[:8]}"
    )
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False

    def stop(self) -> None:
        """Claim nothing more: ``run_forever`` returns after the job in hand (cancel its task
        to interrupt that one; its lease lapses and another worker takes it again)."""
        self._stopping = True
        self._wake.set()

    def wake(self) -> None:
        """Look for work now (called after a request enqueues a job in this process)."""
        self._wake.set()

    async def run_once(self) -> bool:
        """Claim and run one job; False when there was nothing to do."""
        job = await queue.claim(self.db, self.worker_id, self.lease_seconds)
        if job is None:
            return False
        with tracing.continued(*_job_span(job), kind="CONSUMER") as span:
            error = await self._run(job)
            tracing.set_attributes(span, {"error.type": "job_failed" if error else None})
        state = await queue.settle(
            self.db, job, self.worker_id, error=error, backoff_seconds=self.backoff_seconds
        )
        log.info("job %s (%s) attempt %s: %s", job["id"], job["kind"], job["attempts"], state)
        return True

    async def _run(self, job: Row) -> str | None:
        handler = self.handlers.get(job["kind"])
        if handler is None:
            return f"no handler for job kind {job['kind']!r}"
        token = _running.set(RunningJob(self.db, job["id"]))
        heartbeat = asyncio.create_task(self._keep_lease(job["id"]), name="sprig-job-lease")
        try:
            with background_work():  # its blocking work yields the CPU to requests
                await handler(job["developer_id"], job["payload"])
        except SprigError as err:
            return err.message
        except Exception as err:  # a job fault must never kill the worker
            log.exception("job %s failed", job["id"])
            return f"{type(err).__name__}: {err}"
        finally:
            heartbeat.cancel()
            _running.reset(token)
        return None

    async def _keep_lease(self, job_id: UUID) -> None:
        """Renew the lease while the handler works, so a long job (a big document's
        embeddings) is never taken for orphaned and run again by another worker."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await queue.renew(self.db, job_id, self.worker_id, self.lease_seconds)
            except Exception:  # the next beat tries again; the lease has slack
                log.warning("could not renew the lease of job %s", job_id, exc_info=True)

    async def run_forever(self) -> None:
        while not self._stopping:
            try:
                busy = await self.run_once()
            except Exception:  # the database may be briefly unavailable
                log.exception("job worker loop error")
                busy = False
            if not busy:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)


def _job_span(job: Row) -> tuple[dict[str, str], str, dict[str, Any]]:
    """A job's span continues the trace of the request that queued it."""
    carrier = {"traceparent": job["traceparent"]} if job.get("traceparent") else {}
    attributes = {
        "sprig.job.id": str(job["id"]),
        "sprig.job.kind": job["kind"],
        "sprig.job.attempt": job["attempts"],
    }
    return carrier, f"job {job['kind']}", attributes
