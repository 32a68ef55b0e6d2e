"""Files Sprig keeps on disk: private when Sprig creates them, left alone when they exist.

The data directory holds the database, the server secret and the default key: a directory
Sprig creates is ``0700`` and a file ``0600`` (whatever the umask). A directory or database the
operator made is never re-permissioned: a world-readable database gets a warning in the log.
SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file, so creating the
database file ``0600`` before SQLite opens it keeps those private too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger("sprig.store")

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as ``0700``; an existing directory is kept as is."""
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=PRIVATE_DIR)
            folder.chmod(PRIVATE_DIR)


def create_private_file(path: Path) -> bool:
    """Create an empty ``0600`` file unless it exists; whether this call created it."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as ``0600``, replacing the file atomically."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_new_private_file(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` (``0600``) only if no file is there: concurrent writers race
    on an atomic link, and readers never see a half-written file. Whether this call wrote."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except FileNotFoundError:
        return False


def prepare_sqlite_file(path: Path) -> None:
    """Create the database file ``0600`` before SQLite does; warn if an existing one is
    world-readable (its mode is the operator's to change)."""
    if create_private_file(path):
        return
    if path.exists() and path.stat().st_mode & stat.S_IROTH:
        log.warning(
            "The database %s is readable by every user of this machine (mode %o): "
            "it holds API key hashes and tool secrets; consider chmod 600",
            path,
            stat.S_IMODE(path.stat().st_mode),
        )
