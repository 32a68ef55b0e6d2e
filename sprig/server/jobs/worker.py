"""The job worker: claims jobs and runs their handler. In process by default (`sprig serve`),
or as separate processes (`sprig worker`) against the same database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sprig.server.errors import SprigError
from sprig.server.ids import new_id
from sprig.server.jobs import queue
from sprig.server.observability import logs, tracing
from sprig.server.priority import background_work
from sprig.server.store.crud import Row
from sprig.server.store.db import Database

log = logging.getLogger("sprig.jobs")
# its own generator: the process-wide one may be seeded or watched by the code around it
# (Hypothesis fails a test whose strategies see the global generator used)
_jitter = random.Random()  # noqa: S311 - timing, not security

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
        token = logs.bind(job_id=str(job["id"]), tenant_id=str(job["developer_id"]))
        try:
            await self._run_logged(job)
        finally:
            logs.unbind(token)
        return True

    async def _run_logged(self, job: Row) -> None:
        """Run and settle a claimed job, with its start and outcome lines."""
        started = time.perf_counter()
        _log_job("job.start", job)
        with tracing.continued(*_job_span(job), kind="CONSUMER") as span:
            error = await self._run(job)
            tracing.set_attributes(span, {"error.type": type(error).__name__ if error else None})
        state = await queue.settle(
            self.db, job, self.worker_id, error=_reason(error), backoff_seconds=self.backoff_seconds
        )
        _log_outcome(job, error, state, (time.perf_counter() - started) * 1000)

    async def _run(self, job: Row) -> Exception | None:
        """Run the job's handler; the error it failed with, if any."""
        handler = self.handlers.get(job["kind"])
        if handler is None:
            return UnknownJobKind(f"no handler for job kind {job['kind']!r}")
        token = _running.set(RunningJob(self.db, job["id"]))
        heartbeat = asyncio.create_task(self._keep_lease(job["id"]), name="sprig-job-lease")
        try:
            with background_work():  # its blocking work yields the CPU to requests
                await handler(job["developer_id"], job["payload"])
        except Exception as err:  # a job fault must never kill the worker
            return err
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
                    await asyncio.wait_for(self._wake.wait(), self._idle_wait())

    def _idle_wait(self) -> float:
        """The poll interval, jittered by ±50 % so workers started together never poll in
        lockstep (one of them would otherwise win every claim race)."""
        return self.poll_seconds * _jitter.uniform(0.5, 1.5)


def _job_span(job: Row) -> tuple[dict[str, str], str, dict[str, Any]]:
    """A job's span continues the trace of the request that queued it."""
    carrier = {"traceparent": job["traceparent"]} if job.get("traceparent") else {}
    attributes = {
        "sprig.job.id": str(job["id"]),
        "sprig.job.kind": job["kind"],
        "sprig.job.attempt": job["attempts"],
    }
    return carrier, f"job {job['kind']}", attributes


class UnknownJobKind(Exception):
    """A job whose kind no handler of this worker runs."""


def _reason(error: Exception | None) -> str | None:
    """What the job's record says of its failure (``GET /jobs/{id}``)."""
    if error is None:
        return None
    if isinstance(error, SprigError | UnknownJobKind):
        return _message(error)
    return f"{type(error).__name__}: {error}"


def _message(error: Exception) -> str:
    return error.message if isinstance(error, SprigError) else str(error)


def _log_job(msg: str, job: Row, level: int = logging.INFO, **fields: Any) -> None:
    logs.event(log, msg, level, kind=job["kind"], attempt=job["attempts"], **fields)


def _log_outcome(job: Row, error: Exception | None, state: str, milliseconds: float) -> None:
    """``job.finish``, or ``job.fail`` with the error's class and message (a warning while it
    will be retried; an unexpected error's traceback too). Never the job's payload."""
    duration = round(milliseconds, 3)
    if error is None:
        _log_job("job.finish", job, state=state, duration_ms=duration)
        return
    level = logging.WARNING if state == "retrying" else logging.ERROR
    expected = isinstance(error, SprigError | UnknownJobKind)
    _log_job(
        "job.fail", job, level, state=state, duration_ms=duration,
        error_type=type(error).__name__, error=_message(error),
        exc_info=None if expected else error,
    )  # fmt: skip
