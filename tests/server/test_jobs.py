"""The durable job queue: claim once, retry with backoff, fail after max attempts, and recover
a job whose worker died (run exactly once)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from sprig.server.embeddings.base import ThreadedEmbedder, Vectors
from sprig.server.ids import utcnow
from sprig.server.jobs import queue
from sprig.server.jobs.service import enqueue
from sprig.server.jobs.worker import Worker, report_progress
from sprig.server.priority import BACKGROUND_NICE
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from sprig.server.store import tables
from tests.helpers.app import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No in-process worker here: these tests claim and run jobs themselves."""
    return make_settings(tmp_path / "data", in_process_worker=False)


def _dev(runtime: Runtime) -> uuid.UUID:
    assert runtime.startup_key is not None
    return runtime.startup_key.developer_id


async def _job(runtime: Runtime, kind: str, **kw: Any) -> dict[str, Any]:
    async with runtime.db.write() as conn:
        return await enqueue(conn, _dev(runtime), kind, {"n": 1}, **kw)


async def test_concurrent_claims_take_each_job_once(runtime: Runtime) -> None:
    jobs = [await _job(runtime, "noop") for _ in range(10)]
    claims = await asyncio.gather(*(queue.claim(runtime.db, f"w{i}", 60) for i in range(15)))
    claimed = [c["id"] for c in claims if c is not None]
    assert sorted(claimed) == sorted(j["id"] for j in jobs)


async def test_retry_then_succeed_then_failures_exhaust(runtime: Runtime) -> None:
    calls: list[int] = []

    async def flaky(_: uuid.UUID, payload: dict[str, Any]) -> None:
        calls.append(1)
        if len(calls) < 2:
            raise RuntimeError("transient")

    async def broken(_: uuid.UUID, payload: dict[str, Any]) -> None:
        raise ValueError("always")

    worker = Worker(runtime.db, {"flaky": flaky, "broken": broken}, backoff_seconds=0.0)
    ok = await _job(runtime, "flaky")
    bad = await _job(runtime, "broken", max_attempts=2)
    while await worker.run_once():
        pass
    states = {j["id"]: (await runtime.jobs.get(_dev(runtime), j["id"])) for j in (ok, bad)}
    assert (states[ok["id"]]["state"], states[ok["id"]]["attempts"]) == ("succeeded", 2)
    assert states[bad["id"]]["state"] == "failed"
    assert "always" in states[bad["id"]]["reason"]
    assert states[bad["id"]]["attempts"] == 2


async def test_job_of_a_dead_worker_is_run_again_exactly_once(runtime: Runtime) -> None:
    done: list[str] = []

    async def record(_: uuid.UUID, payload: dict[str, Any]) -> None:
        done.append("ran")

    job = await _job(runtime, "record")
    assert (await queue.claim(runtime.db, "dead-worker", 60)) is not None  # then it "dies"
    worker = Worker(runtime.db, {"record": record})
    assert await worker.run_once() is False  # lease not expired: nobody runs it twice
    async with runtime.db.write() as conn:  # the lease runs out
        past = utcnow() - timedelta(seconds=1)
        await conn.execute(
            sa.update(tables.jobs).where(tables.jobs.c.id == job["id"]).values(locked_until=past)
        )
    assert await worker.run_once() is True
    assert await worker.run_once() is False
    assert done == ["ran"]
    assert (await runtime.jobs.get(_dev(runtime), job["id"]))["state"] == "succeeded"


async def test_a_long_job_keeps_its_lease_and_reports_progress(runtime: Runtime) -> None:
    """A job running past its lease (a big document's embeddings) is not taken again by
    another worker while its own worker is alive, and its progress shows on GET /jobs."""
    seen: list[float] = []
    release = asyncio.Event()

    async def long(_: uuid.UUID, payload: dict[str, Any]) -> None:
        for step in (0.25, 0.5):
            await report_progress(step)
            await asyncio.sleep(0.3)  # past the 0.3 s lease, twice
        await release.wait()

    job = await _job(runtime, "long")
    worker = Worker(runtime.db, {"long": long}, lease_seconds=0.3)
    running = asyncio.create_task(worker.run_once())
    await asyncio.sleep(0.8)
    rival = Worker(runtime.db, {"long": long}, lease_seconds=0.3)
    assert await rival.run_once() is False  # the lease was renewed: not orphaned
    state = await runtime.jobs.get(_dev(runtime), job["id"])
    seen.append(state["progress"])
    assert state["state"] == "in_progress" and state["has_progress"] and seen == [0.5]
    release.set()
    assert await running is True
    done = await runtime.jobs.get(_dev(runtime), job["id"])
    assert (done["state"], done["attempts"], done["progress"]) == ("succeeded", 1, 1.0)


async def test_progress_outside_a_job_is_nothing() -> None:
    await report_progress(0.5)  # no job runs in this task: no error, nothing written


async def test_embedding_a_pending_doc_reports_progress(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embed_doc job reports each batch's share of the chunks."""
    reported: list[float] = []

    async def record(fraction: float) -> None:
        reported.append(fraction)

    monkeypatch.setattr("sprig.server.jobs.handlers.report_progress", record)
    monkeypatch.setattr(runtime.settings, "embedding_batch_size", 1)  # 4 chunks per batch
    monkeypatch.setattr(runtime.settings, "embed_inline_max_chunks", 0)  # always a job
    agent = await runtime.agents.create(_dev(runtime), {"name": "a"}, {})
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 300 for i in range(12))
    doc = await runtime.docs.create(
        _dev(runtime), "agent", agent["id"], {"title": "t", "content": text}
    )
    assert doc["status"] == "pending"
    await runtime.worker.handlers["embed_doc"](_dev(runtime), {"doc_id": str(doc["id"])})
    assert len(reported) >= 2 and reported == sorted(reported) and reported[-1] == 1.0


async def test_a_stopped_worker_ends_even_when_its_job_turns_the_cancel_into_an_error(
    runtime: Runtime,
) -> None:
    """A database driver may answer a cancelled call with an error of its own; the worker
    must still end at shutdown, not go on claiming jobs against a closing database."""
    started = asyncio.Event()

    async def stubborn(_: uuid.UUID, payload: dict[str, Any]) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise RuntimeError("connection was closed in the middle of operation") from None

    worker = Worker(runtime.db, {"stubborn": stubborn}, poll_seconds=0.05)
    await _job(runtime, "stubborn")
    task = asyncio.create_task(worker.run_forever())
    await asyncio.wait_for(started.wait(), 10)
    worker.stop()
    task.cancel()
    await asyncio.wait_for(task, 5)


class _NiceProbe(ThreadedEmbedder):
    """Records the scheduling priority of the thread each batch runs on."""

    def __init__(self) -> None:
        super().__init__("probe")
        self.seen: list[int] = []

    @property
    def dimensions(self) -> int:
        return 2

    def _embed_batch_sync(self, texts: list[str]) -> Vectors:
        self.seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return np.ones((len(texts), 2), dtype=np.float32)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
async def test_a_jobs_embeddings_run_at_low_priority_and_a_requests_do_not(
    runtime: Runtime,
) -> None:
    """A big document's embedding job must not starve a chat answering meanwhile: its
    blocking work runs niced; a request's (a search's query) does not."""
    probe = _NiceProbe()
    own = os.getpriority(os.PRIO_PROCESS, 0)

    async def embed(_: uuid.UUID, payload: dict[str, Any]) -> None:
        await probe.embed(["a", "b"])

    worker = Worker(runtime.db, {"embed": embed})
    await _job(runtime, "embed")
    assert await worker.run_once()
    await probe.embed(["query"])  # outside a job
    assert probe.seen == [min(own + BACKGROUND_NICE, 19), own]
