"""Scale-out on PostgreSQL: two API processes and two job workers on one database.

Many concurrent chats (the built-in echo model) spread over both API processes, and a burst
of jobs: every turn is saved once and in order; every job runs exactly once.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from sprig.server.jobs.service import enqueue
from sprig.server.store import tables
from tests.helpers.database import postgres_url
from tests.helpers.servers import free_port

pytestmark = pytest.mark.e2e
KEY = "sk-mp-" + "m" * 32
TURNS_PER_SESSION = 12
SESSIONS = 4
JOBS = 120


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "sprig.cli.main", *args], env=env, stdout=out, stderr=out
        )


def _wait_healthy(url: str, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become healthy")


def _wait_running(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for a worker's "running" line (a crash's traceback quotes the format string,
    "%s", so the id's pattern excludes it), failing at once if the worker exited."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{log.name} exited: {log.read_text(errors='replace')}"
        if log.exists() and re.search(r"Sprig worker [^%\s]+ running", log.read_text("utf-8")):
            return
        time.sleep(0.1)
    raise AssertionError(f"{log.name} never said it was running")


@pytest.fixture(scope="module")
def cluster(
    pg_server: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, object]]:
    url = postgres_url(pg_server)
    base = tmp_path_factory.mktemp("mp")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SPRIG_")},
        "SPRIG_DATABASE_URL": url,
        "SPRIG_API_KEY": KEY,
        "SPRIG_DATA_DIR": str(base / "data"),
        "SPRIG_IN_PROCESS_WORKER": "false",
        "SPRIG_DEFAULT_MODEL": "echo",
        "SPRIG_JOB_POLL_SECONDS": "0.05",
    }
    # migrate once first, as an operator would before starting several processes
    subprocess.run([sys.executable, "-m", "sprig.cli.main", "migrate"], env=env, check=True)
    ports = [free_port(), free_port()]
    procs = [_spawn(["serve", "--port", str(p)], env, base / f"api{p}.log") for p in ports]
    procs += [_spawn(["worker"], env, base / f"worker{i}.log") for i in range(2)]
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for u in urls:
            _wait_healthy(u)
        for i in range(2):  # a burst must not be over before the second worker is up
            _wait_running(procs[2 + i], base / f"worker{i}.log")
        yield {"urls": urls, "db_url": url, "procs": procs, "logs": base}
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


async def _chat_storm(urls: list[str]) -> list[str]:
    headers = {"Authorization": f"Bearer {KEY}"}
    clients = [httpx.AsyncClient(base_url=u, headers=headers, timeout=60) for u in urls]
    try:
        agent = (await clients[0].post("/agents", json={"name": "echoer"})).json()
        sessions = [
            (await clients[i % 2].post("/sessions", json={"agent": agent["id"]})).json()["id"]
            for i in range(SESSIONS)
        ]

        async def turn(i: int, sid: str) -> None:
            body = {"messages": [{"role": "user", "content": f"msg-{sid[-6:]}-{i}"}]}
            r = await clients[i % 2].post(f"/sessions/{sid}/chat", json=body)
            assert r.status_code == 201, r.text

        await asyncio.gather(*(turn(i, s) for s in sessions for i in range(TURNS_PER_SESSION)))
        return sessions
    finally:
        for c in clients:
            await c.aclose()


def test_concurrent_chats_across_processes_keep_history_whole(cluster: dict[str, Any]) -> None:
    urls = cluster["urls"]
    sessions = asyncio.run(_chat_storm(urls))
    with httpx.Client(base_url=urls[1], headers={"Authorization": f"Bearer {KEY}"}) as c:
        for sid in sessions:
            entries = c.get(f"/sessions/{sid}/history").json()["entries"]
            assert len(entries) == 2 * TURNS_PER_SESSION
            users = [e["content"] for e in entries if e["role"] == "user"]
            assert sorted(users) == sorted(f"msg-{sid[-6:]}-{i}" for i in range(TURNS_PER_SESSION))
            for k in range(0, len(entries), 2):  # each turn: the question, then its echo
                assert entries[k]["role"] == "user"
                assert entries[k + 1]["role"] == "assistant"
                assert entries[k + 1]["content"] == entries[k]["content"]


async def _burst(
    db_url: str, session_id: str, developer_id: uuid.UUID, jobs: int
) -> list[uuid.UUID]:
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            queued = [
                await enqueue(
                    conn,
                    developer_id,
                    "summarize_session",
                    {"session_id": session_id, "before_seq": 0},
                )
                for _ in range(jobs)
            ]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            async with engine.connect() as conn:
                states = (
                    await conn.execute(
                        sa.select(tables.jobs.c.state, tables.jobs.c.attempts).where(
                            tables.jobs.c.id.in_([j["id"] for j in queued])
                        )
                    )
                ).all()
            if all(s == "succeeded" for s, _ in states):
                assert all(a == 1 for _, a in states), "a job was claimed twice"
                return [j["id"] for j in queued]
            await asyncio.sleep(0.2)
        raise AssertionError(f"jobs unfinished: {sorted({s for s, _ in states})}")
    finally:
        await engine.dispose()


def _successes(logs: Path) -> list[int]:
    return [(logs / f"worker{i}.log").read_text().count("succeeded") for i in range(2)]


def _never_ran(logs: Path) -> str:
    tails = [(logs / f"worker{i}.log").read_text()[-1500:] for i in range(2)]
    return f"a worker never ran a job: {_successes(logs)}; logs: {tails}"


def _session_owner(db_url: str, sid: str) -> uuid.UUID:
    async def read() -> uuid.UUID:
        engine = create_async_engine(db_url)
        try:
            async with engine.connect() as conn:
                row = await conn.execute(
                    sa.select(tables.sessions.c.developer_id).where(
                        tables.sessions.c.id == uuid.UUID(sid)
                    )
                )
                return uuid.UUID(str(row.scalar_one()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_burst_of_jobs_runs_exactly_once(cluster: dict[str, Any]) -> None:
    with httpx.Client(base_url=cluster["urls"][0], headers={"Authorization": f"Bearer {KEY}"}) as c:
        agent = c.post("/agents", json={"name": "jobs"}).json()
        sid = c.post("/sessions", json={"agent": agent["id"]}).json()["id"]
    db_url, logs = str(cluster["db_url"]), cluster["logs"]
    dev = _session_owner(db_url, sid)
    # both workers take jobs: small rounds until each has run one (a worker still busy with
    # its first job's lazy imports can otherwise watch the other drain a whole burst)
    deadline = time.monotonic() + 60
    while not all(n > 0 for n in _successes(logs)):
        assert time.monotonic() < deadline, _never_ran(logs)
        asyncio.run(_burst(db_url, sid, dev, jobs=4))
    before = sum(_successes(logs))
    done = asyncio.run(_burst(db_url, sid, dev, jobs=JOBS))
    assert len(done) == JOBS
    assert sum(_successes(logs)) - before == JOBS  # every job logged once, by one worker
