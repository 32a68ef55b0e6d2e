"""A private PostgreSQL (with pgvector) in the data directory, from the `pgserver` package.

For users who want PostgreSQL semantics on one machine without installing a server:
``sprig serve --embedded-postgres``. The server listens on a Unix socket inside the data
directory only, and stops when Sprig exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sprig.server.errors import ServiceUnavailableError
from sprig.server.store.files import ensure_private_dir


@dataclass
class EmbeddedPostgres:
    server: Any
    url: str

    def stop(self) -> None:
        self.server.cleanup()


DATABASE = "sprig"  # a constant: the SQL below is never built from input


def start_embedded_postgres(data_dir: Path) -> EmbeddedPostgres:
    try:
        import pgserver
    except ImportError as err:
        raise ServiceUnavailableError(
            "--embedded-postgres needs the postgres extra: pip install 'sprig[postgres]'"
        ) from err
    root = (data_dir / "postgres").resolve()
    ensure_private_dir(root)  # the data dir and its postgres/ are 0700 when created here
    server = pgserver.get_server(root, cleanup_mode="stop")  # type: ignore[attr-defined]
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")  # noqa: S608
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE};")
    socket_dir = server.get_uri().split("host=")[1]
    return EmbeddedPostgres(server, f"postgresql+asyncpg://postgres@/{DATABASE}?host={socket_dir}")
