"""Checks before anything is migrated or started: the data directory and the database.

Each problem is a `StartupProblem` whose message is one line saying what is wrong and what
to do; the CLI prints it and exits non-zero (cli/startup.py). The checks change nothing: they
read, and the write check creates and removes one empty file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sprig import __version__

if TYPE_CHECKING:
    from sprig.server.settings import Settings

SQLITE_HEADER = b"SQLite format 3\x00"
CONNECT_TIMEOUT_S = 10.0


class StartupProblem(Exception):
    """Something outside Sprig keeps it from starting; ``str()`` is one line for a person."""


def check_data_dir(settings: Settings, *, key_file: bool = False, always: bool = False) -> None:
    """The directories Sprig will write in must be writable: the SQLite database's (SQLite
    writes its -wal and -shm files beside it), and the data directory when the server secret
    is kept there, when ``key_file`` (serving writes the first API key there unless
    SPRIG_API_KEY is set), or ``always`` (an embedded PostgreSQL lives there)."""
    path = sqlite_path(settings.resolved_database_url)
    secret_file = settings.secret_key is None and settings.secret_key_file is None
    writes_key = key_file and settings.api_key is None
    if always or secret_file or writes_key:
        check_writable(settings.data_dir, "data directory")
    if path is not None and path.parent.resolve() != settings.data_dir.resolve():
        check_writable(path.parent, "database's directory")
    elif path is not None:
        check_writable(settings.data_dir, "data directory")


def check_writable(folder: Path, what: str) -> None:
    existing = folder
    while not existing.exists():  # Sprig will create the missing part
        existing = existing.parent
    if not existing.is_dir():
        raise StartupProblem(f"The {what} {folder} cannot be made: {existing} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".sprig-write-check-")
    except PermissionError:
        raise StartupProblem(_read_only(folder, existing, what)) from None
    except OSError as err:
        raise StartupProblem(
            f"Cannot write in the {what} {existing}: {err.strerror}; "
            "free some space or choose another with --data-dir"
        ) from None
    os.close(fd)
    os.unlink(probe)


def _read_only(folder: Path, existing: Path, what: str) -> str:
    fix = f"give it write access (chown, or chmod u+rwx {existing}), or choose another --data-dir"
    if existing != folder:
        return f"Cannot create the {what} {folder}: {existing} is not writable by this user; {fix}"
    return f"The {what} {folder} is not writable by this user: {fix}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path)


def check_database(settings: Settings) -> None:
    """The database can be read and written, and its schema is one this Sprig knows."""
    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is not None:
        revisions = _sqlite_revisions(path)
        where = str(path)
    elif url.startswith("sqlite"):
        return
    else:
        revisions = asyncio.run(_server_revisions(url))
        where = _safe_url(url)
    check_revisions(revisions, where)


def check_revisions(revisions: list[str], where: str) -> None:
    known = known_revisions()
    for revision in revisions:
        if revision not in known:
            raise StartupProblem(
                f"The database {where} has schema revision {revision!r}, unknown to this Sprig "
                f"({__version__}): a newer Sprig made it. Run that Sprig (update this one), "
                "or choose another --data-dir or SPRIG_DATABASE_URL"
            )


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from sprig.server.store.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return {s.revision for s in script.walk_revisions()}


def _sqlite_revisions(path: Path) -> list[str]:
    if not path.exists():
        return []  # a new database
    _check_file(path)
    try:
        return _read_sqlite_revisions(path)
    except sqlite3.DatabaseError as err:
        raise StartupProblem(_damaged(path, str(err))) from None


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise StartupProblem(f"The database {path} is not a file: move it away or fix the path")
    for mode, verb in (("rb", "read"), ("r+b", "write")):  # opening changes nothing
        try:
            with path.open(mode) as fh:
                header = fh.read(len(SQLITE_HEADER))
        except PermissionError:
            raise StartupProblem(
                f"Cannot {verb} the database {path}: permission denied; give the user running "
                f"Sprig read and write access to it (chown, or chmod 600 {path})"
            ) from None
        except OSError as err:
            raise StartupProblem(f"Cannot {verb} the database {path}: {err.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise StartupProblem(_damaged(path, "it is not a SQLite database"))


def _damaged(path: Path, why: str) -> str:
    return (
        f"The database {path} is damaged or not Sprig's ({why}): restore it from a backup, "
        "or move it away to start with an empty one"
    )


def _read_sqlite_revisions(path: Path) -> list[str]:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=CONNECT_TIMEOUT_S)) as conn:
        conn.execute("PRAGMA schema_version").fetchone()  # reads (and checks) the schema
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if not has_table:
            return []
        return [str(row[0]) for row in conn.execute("SELECT version_num FROM alembic_version")]


async def _server_revisions(url: str) -> list[str]:
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, pool_size=1, max_overflow=0)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S), engine.connect() as conn:
            has_table = await conn.run_sync(lambda c: sa.inspect(c).has_table("alembic_version"))
            if not has_table:
                return []
            rows = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            return [str(r[0]) for r in rows]
    except (OSError, DBAPIError, TimeoutError) as err:
        lines = str(getattr(err, "orig", None) or err).strip().splitlines()
        reason = lines[0] if lines else type(err).__name__
        raise StartupProblem(
            f"Cannot reach the database {_safe_url(url)}: {reason}; "
            "check SPRIG_DATABASE_URL and that the server is running"
        ) from None
    finally:
        await engine.dispose()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
