"""Starting fails fast and plainly, and stopping stops what Sprig started (issue 14.7).

Real `sprig` subprocesses: a busy port, a schema newer than the code, a damaged or unreadable
database, a read-only data directory each give one line on stderr and exit code 1, with
nothing touched (no migration, no job claimed). ``--embedded-postgres`` stopped by SIGTERM
stops the PostgreSQL it started, and leaves one it found running.

Permissions are not enforced for root: run as root, the commands that must meet a read-only
directory or file run under ``setpriv`` without the capabilities that bypass them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.database import postgres_url
from tests.helpers.processes import REPO_ROOT, clean_env, sprig_command
from tests.helpers.servers import free_port

pytestmark = pytest.mark.e2e

FAIL_FAST_S = 30.0  # a refused start takes the CLI's import time, not a migration's
NO_BYPASS = ["dac_override", "dac_read_search", "fowner"]
FUTURE_REVISION = "9999_from_the_future"


def sprig(
    *args: str, data_dir: Path, as_user: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    cmd = [*sprig_command(*args), "--data-dir", str(data_dir)]
    if as_user and os.geteuid() == 0:
        drop = ",".join(f"-{cap}" for cap in NO_BYPASS)
        cmd = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *cmd]
    return subprocess.run(
        cmd, cwd=REPO_ROOT, env=clean_env(**env), capture_output=True, text=True, timeout=120
    )


def assert_one_line_failure(done: subprocess.CompletedProcess[str], *words: str) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("sprig: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def seed_pending_job(data_dir: Path) -> None:
    """A migrated data dir with one tenant and one pending job (as a stopped server left it)."""
    from sprig.server.auth.keys import create_tenant
    from sprig.server.auth.secret import ServerSecret, bind_secret
    from sprig.server.jobs.service import enqueue
    from sprig.server.settings import Settings
    from sprig.server.store.db import Database

    async def seed() -> None:
        settings = Settings(data_dir=data_dir)
        db = Database.from_settings(settings)
        try:
            await db.migrate()
            secret = ServerSecret.from_settings(settings)
            async with db.write() as conn:
                await bind_secret(conn, secret)
            developer, _ = await create_tenant(db, "seed", secret)
            async with db.write() as conn:
                await enqueue(conn, developer, "summarize", {"session_id": "x"})
        finally:
            await db.dispose()

    asyncio.run(seed())


def jobs(db_file: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db_file)) as conn:
        return conn.execute("SELECT state, attempts, locked_by FROM jobs").fetchall()


def revision(db_file: Path) -> str:
    with contextlib.closing(sqlite3.connect(db_file)) as conn:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])


# ------------------------------------------------------------------------------- busy port


def test_busy_port_refused_before_the_data_dir_is_made(tmp_path: Path, busy_port: int) -> None:
    data_dir = tmp_path / "fresh"
    started = time.monotonic()
    done = sprig("serve", "--port", str(busy_port), data_dir=data_dir)
    line = assert_one_line_failure(done, f"Port {busy_port}", "already in use", "--port")
    assert time.monotonic() - started < FAIL_FAST_S
    assert "serving" not in done.stdout + line
    assert not data_dir.exists()  # no directory, no database, no migration


def test_busy_port_leaves_the_pending_job_alone(tmp_path: Path, busy_port: int) -> None:
    data_dir = tmp_path / "data"
    seed_pending_job(data_dir)
    before = jobs(data_dir / "sprig.db")
    assert before == [("pending", 0, None)]
    done = sprig("serve", "--port", str(busy_port), data_dir=data_dir)
    assert_one_line_failure(done, "already in use")
    assert jobs(data_dir / "sprig.db") == before  # not claimed, not tried


def test_workers_on_a_busy_port_are_refused_too(tmp_path: Path, busy_port: int) -> None:
    done = sprig("serve", "--port", str(busy_port), "--workers", "2", data_dir=tmp_path / "d")
    assert_one_line_failure(done, "already in use")
    assert not (tmp_path / "d").exists()


# --------------------------------------------------------------------- the database itself


@pytest.fixture
def future_data_dir(tmp_path: Path) -> Path:
    """A data dir whose schema a newer Sprig made (a revision this code does not know)."""
    data_dir = tmp_path / "data"
    seed_pending_job(data_dir)
    with contextlib.closing(sqlite3.connect(data_dir / "sprig.db")) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (FUTURE_REVISION,))
    return data_dir


def on_a_free_port(command: list[str]) -> list[str]:
    return [*command, "--port", str(free_port())] if command == ["serve"] else command


@pytest.mark.parametrize(
    "command",
    [["serve"], ["migrate"], ["worker"], ["keys", "list"]],
    ids=["serve", "migrate", "worker", "keys"],
)
def test_a_newer_schema_is_one_line(future_data_dir: Path, command: list[str]) -> None:
    done = sprig(*on_a_free_port(command), data_dir=future_data_dir)
    assert_one_line_failure(done, FUTURE_REVISION, "newer Sprig")
    assert revision(future_data_dir / "sprig.db") == FUTURE_REVISION  # not migrated
    assert jobs(future_data_dir / "sprig.db") == [("pending", 0, None)]


GARBAGE = b"this is not a database\n" * 200


@pytest.mark.parametrize(
    "command", [["serve"], ["migrate"], ["keys", "list"]], ids=["serve", "migrate", "keys"]
)
def test_a_file_of_garbage_is_one_line(tmp_path: Path, command: list[str]) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "sprig.db").write_bytes(GARBAGE)
    done = sprig(*on_a_free_port(command), data_dir=data_dir)
    assert_one_line_failure(done, "sprig.db", "damaged", "backup")
    assert (data_dir / "sprig.db").read_bytes() == GARBAGE
    assert sorted(p.name for p in data_dir.iterdir()) == ["sprig.db"]


def test_a_damaged_database_is_one_line(tmp_path: Path) -> None:
    """A real SQLite file whose first page (the schema) was overwritten."""
    data_dir = tmp_path / "data"
    seed_pending_job(data_dir)
    with (data_dir / "sprig.db").open("r+b") as fh:
        fh.seek(100)  # past the 100-byte header
        fh.write(b"\xff" * 3000)
    done = sprig("migrate", data_dir=data_dir)
    assert_one_line_failure(done, "damaged", "malformed")


@pytest.mark.parametrize("command", [["serve"], ["migrate"]], ids=["serve", "migrate"])
def test_a_newer_schema_on_postgres_is_one_line(
    pg_server: Any, tmp_path: Path, command: list[str]
) -> None:
    url = postgres_url(pg_server)
    done = sprig("migrate", data_dir=tmp_path, SPRIG_DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    name = url.split("@/", 1)[1].split("?")[0]
    stamp = f"UPDATE alembic_version SET version_num = '{FUTURE_REVISION}';"
    pg_server.psql(f"\\c {name}\n{stamp}\n")
    done = sprig(*on_a_free_port(command), data_dir=tmp_path, SPRIG_DATABASE_URL=url)
    assert_one_line_failure(done, FUTURE_REVISION, "newer Sprig")
    assert FUTURE_REVISION in pg_server.psql(
        f"\\c {name}\nSELECT version_num FROM alembic_version;\n"
    )


def test_an_unreachable_postgres_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://sprig:secret@127.0.0.1:{free_port()}/sprig"
    done = sprig("migrate", data_dir=tmp_path, SPRIG_DATABASE_URL=url)
    line = assert_one_line_failure(done, "Cannot reach the database", "SPRIG_DATABASE_URL")
    assert "secret" not in line  # the password is not printed


# ------------------------------------------------------------------------ permissions


@pytest.fixture
def permissions_enforced(tmp_path: Path) -> None:
    """Skip where even the dropped-capability run could write into a 0500 directory."""
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o500)
    cmd = ["python3", "-c", f"open({str(probe / 'f')!r}, 'w')"]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        drop = ",".join(f"-{cap}" for cap in NO_BYPASS)
        cmd = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *cmd]
    wrote = subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    probe.chmod(0o700)
    if wrote:
        pytest.skip("this machine does not enforce directory permissions here")


@pytest.mark.usefixtures("permissions_enforced")
def test_a_read_only_data_dir_is_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o500)
    try:
        done = sprig("serve", "--port", str(free_port()), data_dir=data_dir, as_user=True)
        assert_one_line_failure(done, str(data_dir), "not writable", "--data-dir")
        assert list(data_dir.iterdir()) == []
        inside = data_dir / "sub"
        done = sprig("migrate", data_dir=inside, as_user=True)
        assert_one_line_failure(done, f"Cannot create the data directory {inside}")
    finally:
        data_dir.chmod(0o700)


@pytest.mark.usefixtures("permissions_enforced")
def test_an_unreadable_database_is_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seed_pending_job(data_dir)
    db_file = data_dir / "sprig.db"
    db_file.chmod(0o000)
    try:
        done = sprig("serve", "--port", str(free_port()), data_dir=data_dir, as_user=True)
        assert_one_line_failure(done, "Cannot read the database", "chmod 600")
        db_file.chmod(0o400)
        done = sprig("keys", "list", data_dir=data_dir, as_user=True)
        assert_one_line_failure(done, "Cannot write the database")
    finally:
        db_file.chmod(0o600)
    assert jobs(db_file) == [("pending", 0, None)]


# --------------------------------------------------------------- embedded PostgreSQL


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def serve_embedded(data_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = sprig_command("serve", "--embedded-postgres", "--port", str(port))
    cmd += ["--data-dir", str(data_dir)]
    with log.open("wb") as err:
        process = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=clean_env(), stdout=subprocess.DEVNULL, stderr=err
        )
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"sprig serve --embedded-postgres did not start:\n{log.read_text()[-4000:]}")


def stop(process: subprocess.Popen[bytes], log: Path) -> int:
    process.send_signal(signal.SIGTERM)
    code = process.wait(60)
    assert "Application shutdown complete" in log.read_text(), log.read_text()[-4000:]
    return code


def wait_gone(pid: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


@pytest.fixture
def postmasters() -> Iterator[list[int]]:
    """PostgreSQL servers a test saw; any still running at the end is shut down (a failing
    test must not leave one behind)."""
    pytest.importorskip("pgserver")
    seen: list[int] = []
    yield seen
    for pid in seen:
        if alive(pid):
            os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
            wait_gone(pid)


def test_sigterm_stops_the_embedded_postgres_it_started(
    tmp_path: Path, postmasters: list[int]
) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    process, _ = serve_embedded(data_dir, log)
    postmasters.append(pid := postmaster_pid(data_dir))
    assert alive(pid)
    assert stop(process, log) in (0, -signal.SIGTERM)
    assert wait_gone(pid), f"PostgreSQL {pid} still runs after Sprig stopped"
    # and it starts again on the same data dir, and stops again
    process, _ = serve_embedded(data_dir, log)
    postmasters.append(again := postmaster_pid(data_dir))
    assert stop(process, log) in (0, -signal.SIGTERM)
    assert wait_gone(again)


def test_an_embedded_postgres_already_running_is_left_running(
    tmp_path: Path, postmasters: list[int]
) -> None:
    import pgserver

    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    (data_dir / "postgres").mkdir(parents=True)
    ours = pgserver.get_server(data_dir / "postgres", cleanup_mode="stop")
    try:
        postmasters.append(pid := postmaster_pid(data_dir))
        process, _ = serve_embedded(data_dir, log)
        assert stop(process, log) in (0, -signal.SIGTERM)
        assert alive(pid), "Sprig stopped a PostgreSQL it did not start"
    finally:
        ours.cleanup()
    assert wait_gone(pid)
