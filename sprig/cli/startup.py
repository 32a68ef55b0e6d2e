"""Starting and stopping the server's commands plainly.

Before anything is migrated or started, the port is taken and the data directory and the
database are checked; a problem is one line on stderr (what is wrong, what to do) and exit
code 1, with nothing touched. SIGTERM becomes an exception where the process is, so what a
command started (an embedded PostgreSQL) is stopped on the way out.
"""

from __future__ import annotations

import errno
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from sprig.server.settings import Settings

PROBLEM_EXIT_CODE = 1
BACKLOG = 2048  # uvicorn's default


class Terminated(Exception):
    """SIGTERM arrived; raised in the main thread so ``finally`` blocks run."""


def _raise_terminated(_signum: int, _frame: FrameType | None) -> NoReturn:
    raise Terminated


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within: SIGTERM raises `Terminated` (uvicorn, which handles SIGTERM itself while it
    serves, raises the signal again once it has shut down: it lands here)."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def die_of_sigterm() -> NoReturn:
    """End as a process stopped by SIGTERM (what process managers expect), cleanup done."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.raise_signal(signal.SIGTERM)
    raise SystemExit(128 + signal.SIGTERM)  # not reached


@contextmanager
def plain_problems() -> Iterator[None]:
    """A `StartupProblem` raised within is printed as one line, and the command exits 1."""
    from sprig.server.store.preflight import StartupProblem

    try:
        yield
    except StartupProblem as problem:
        typer.echo(f"sprig: {problem}", err=True)
        raise typer.Exit(PROBLEM_EXIT_CODE) from None


def check_store(settings: Settings, *, key_file: bool = False) -> None:
    """The data directory is writable, the database readable, its schema known
    (``key_file``: the command may write the first API key in the data directory)."""
    from sprig.server.store.preflight import check_data_dir, check_database

    check_data_dir(settings, key_file=key_file)
    check_database(settings)


def listen(host: str, port: int) -> socket.socket:
    """Bind and listen on ``host:port`` now (as uvicorn would), so a busy port is known
    before anything else happens; the socket is handed to uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as err:
        sock.close()
        _port_problem(host, port, err)
    sock.set_inheritable(True)
    return sock


def _port_problem(host: str, port: int, err: OSError) -> NoReturn:
    from sprig.server.store.preflight import StartupProblem

    if err.errno == errno.EADDRINUSE:
        message = (
            f"Port {port} on {host} is already in use (another Sprig or another program): "
            "stop it, or choose another port with --port"
        )
    elif err.errno == errno.EACCES:
        message = (
            f"Not allowed to listen on port {port} (ports below 1024 need privileges): "
            "choose another with --port"
        )
    elif isinstance(err, socket.gaierror) or err.errno == errno.EADDRNOTAVAIL:
        message = f"Cannot listen on {host}: not an address of this machine; fix --host"
    else:
        message = f"Cannot listen on {host}:{port}: {err.strerror or err}"
    raise StartupProblem(message)
