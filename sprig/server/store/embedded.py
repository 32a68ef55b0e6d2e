"""A private PostgreSQL (with pgvector) in the data directory, from the `pgserver` package.

For users who want PostgreSQL semantics on one machine without installing a server:
``sprig serve --embedded-postgres``. The server listens on a Unix socket inside the data
directory only. Sprig stops it when it exits if it started it; a PostgreSQL that was already
running in that directory (another Sprig's) is left running.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sprig.server.store.files import ensure_private_dir
from sprig.server.store.preflight import StartupProblem


@dataclass
class EmbeddedPostgres:
    server: Any
    url: str
    started_here: bool

    def stop(self) -> None:
        """Stop the server if this process started it and no other live process uses it;
        otherwise only let go of it."""
        handles = self.server.global_process_id_list  # pgserver: pids of its live users
        with type(self.server)._lock:
            pids = handles.get()
            handles.put([p for p in pids if p == os.getpid() or _alive(p)])
        if self.started_here:
            self.server.cleanup()  # pg_ctl stop when this process holds the last handle
        else:
            handles.get_and_remove(os.getpid())  # its own exit hook then stops nothing


DATABASE = "sprig"  # a constant: the SQL below is never built from input


def start_embedded_postgres(data_dir: Path) -> EmbeddedPostgres:
    try:
        import pgserver
        from pgserver.utils import PostmasterInfo
    except ImportError as err:
        raise StartupProblem(
            "--embedded-postgres needs the postgres extra: pip install 'sprig[postgres]'"
        ) from err
    root = (data_dir / "postgres").resolve()
    ensure_private_dir(root)  # the data dir and its postgres/ are 0700 when created here
    running = PostmasterInfo.read_from_pgdata(root)
    already = running is not None and running.is_running()
    try:
        server = pgserver.get_server(root, cleanup_mode="stop")  # type: ignore[attr-defined]
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise StartupProblem(
            f"The embedded PostgreSQL in {root} did not start ({err}): see {root / 'log'}"
        ) from None
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")  # noqa: S608
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE};")
    socket_dir = server.get_uri().split("host=")[1]
    url = f"postgresql+asyncpg://postgres@/{DATABASE}?host={socket_dir}"
    return EmbeddedPostgres(server, url, started_here=not already)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True
