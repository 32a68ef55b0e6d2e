"""The durable job queue: claim once, retry with backoff, fail after max attempts, and recover
a job whose worker died (run exactly once)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sprig.server.ids import utcnow
from sprig.server.jobs import queue
from sprig.server.jobs.worker import Worker
from sprig.server.runtime import Runtime
from sprig.server.services.jobs import enqueue
from sprig.server.settings import Settings
from sprig.server.store import tables
from tests.conftest import make_settings


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
