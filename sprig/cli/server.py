"""`sprig serve` and `sprig migrate`."""

from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from sprig.cli.common import DataDir, load_settings
from sprig.cli.startup import (
    Terminated,
    check_store,
    die_of_sigterm,
    listen,
    plain_problems,
    sigterm_raises,
)
from sprig.server.observability import logs

if TYPE_CHECKING:
    from sprig.server.runtime import Runtime
    from sprig.server.settings import Settings

console = Console(stderr=True, soft_wrap=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080).")] = None,
    data_dir: DataDir = None,
    workers: Annotated[int, typer.Option(min=1, help="API processes sharing the port.")] = 1,
    embedded_postgres: Annotated[
        bool, typer.Option(help="Run a private PostgreSQL (pgvector) in the data dir.")
    ] = False,
) -> None:
    """Create or migrate the database in the data directory, then serve the API.

    The port, the data directory and the database are checked first: a problem is one line
    and exit code 1, with nothing changed."""
    settings = load_settings(host=host, port=port, data_dir=data_dir)
    logs.configure(settings)
    try:
        with sigterm_raises():
            _serve_checked(settings, workers, embedded_postgres)
    except Terminated:
        die_of_sigterm()


def _serve_checked(settings: Settings, workers: int, embedded_postgres: bool) -> None:
    """Take the port, check the store, then serve; stop what was started on the way out."""
    from sprig.server.store.embedded import start_embedded_postgres
    from sprig.server.store.preflight import check_data_dir, check_database

    with plain_problems():
        sock = listen(settings.host, settings.port)
    postgres = None
    try:
        with plain_problems():
            check_data_dir(settings, key_file=True, always=embedded_postgres)
            if embedded_postgres:
                postgres = start_embedded_postgres(settings.data_dir)
                settings = _on_database(settings, postgres.url)
                _say(settings, f"Embedded PostgreSQL in {settings.data_dir / 'postgres'}")
            check_database(settings)
        if workers == 1:
            _serve_one(settings, sock)
        else:
            _serve_many(settings, workers, sock)
    finally:
        sock.close()
        if postgres is not None:
            postgres.stop()


def _on_database(settings: Settings, url: str) -> Settings:
    copied = settings.model_copy(update={"database_url": url})
    vars(copied).pop("resolved_database_url", None)  # a cached_property: copied with the rest
    return copied


def _serve_one(settings: Settings, sock: socket.socket) -> None:
    import uvicorn

    from sprig.server.app import create_app
    from sprig.server.runtime import Runtime

    url = f"http://{settings.host}:{settings.port}"
    app = create_app(
        settings, Runtime.build(settings), on_started=lambda rt: _print_key(rt, url, settings)
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=_log_config(settings),
        access_log=False,  # the app logs each request (sprig.access)
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:  # the app failed to start (uvicorn logged why)
        raise typer.Exit(3)


def _metrics_dir(settings: Settings) -> Path:
    """Where the processes write their metrics (emptied first: a past run's samples are not
    this one's)."""
    folder = settings.data_dir / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _serve_many(settings: Settings, workers: int, sock: socket.socket) -> None:
    """Migrate and key once here, then fork ``workers`` processes that build their own app
    from the environment (so every setting given as a flag is exported first). The port is
    held meanwhile and let go just before uvicorn binds it for the processes."""
    import uvicorn

    from sprig.server.runtime import Runtime

    async def prepare() -> Runtime:
        runtime = Runtime.build(settings)
        await runtime.start(worker=False)
        await runtime.close()
        return runtime

    import asyncio

    runtime = asyncio.run(prepare())
    url = f"http://{settings.host}:{settings.port}"
    _print_key(runtime, url, settings, note=f" ({workers} processes)")
    os.environ["SPRIG_DATA_DIR"] = str(settings.data_dir)
    os.environ["SPRIG_DATABASE_URL"] = settings.resolved_database_url
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir(settings))  # metrics.MULTIPROC_ENV
    sock.close()
    uvicorn.run(
        "sprig.server.app:app_from_env",
        factory=True,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=_log_config(settings),
        access_log=False,  # the app logs each request (sprig.access)
    )


def _log_config(settings: Settings) -> dict[str, Any]:
    return logs.logging_config(settings.log_level, settings.log_format)


def _print_key(runtime: Runtime, url: str, settings: Settings, note: str = "") -> None:
    """Where Sprig serves and where its key is; a new key alone on stdout (never logged)."""
    key = runtime.startup_key
    _say(settings, f"Sprig is serving at [bold]{url}[/bold]{note} (also under {url}/api)")
    if settings.console:
        _say(settings, f"Console: [bold]{url}/console/[/bold] (sign in with the API key)")
    if key is None:
        return
    if key.new_key:
        _say(settings, f"API key (shown once; also saved to {key.key_file}):")
        print(key.new_key, flush=True)
    elif key.key_file:
        _say(settings, f"API key: see {key.key_file}")
    else:
        _say(settings, "API key: SPRIG_API_KEY")


def _say(settings: Settings, text: str) -> None:
    """A line for the operator: printed on a terminal (text logs), logged with JSON logs so
    that stderr is JSON lines only."""
    if logs.resolve_format(settings.log_format) == "json":
        log.info(Text.from_markup(text).plain)
    else:
        console.print(text)


log = logging.getLogger("sprig.cli")


def migrate(data_dir: DataDir = None) -> None:
    """Run database migrations explicitly (serve also runs them)."""
    from sprig.server.store.db import Database

    settings = load_settings(data_dir=data_dir)
    with plain_problems():
        check_store(settings)

    async def run() -> str | None:
        db = Database.from_settings(settings)
        try:
            await db.migrate()
            return await db.current_revision()
        finally:
            await db.dispose()

    import asyncio

    console.print(f"Database at revision {asyncio.run(run())}")
