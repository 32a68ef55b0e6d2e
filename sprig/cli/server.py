"""`sprig serve` and `sprig migrate`."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from sprig.cli.access_log import log_config
from sprig.cli.common import DataDir, load_settings

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
    """Create or migrate the database in the data directory, then serve the API."""
    from sprig.server.store.embedded import start_embedded_postgres

    settings = load_settings(host=host, port=port, data_dir=data_dir)
    postgres = start_embedded_postgres(settings.data_dir) if embedded_postgres else None
    if postgres is not None:
        settings = settings.model_copy(update={"database_url": postgres.url})
        console.print(f"Embedded PostgreSQL in {settings.data_dir / 'postgres'}")
    try:
        if workers == 1:
            _serve_one(settings)
        else:
            _serve_many(settings, workers)
    finally:
        if postgres is not None:
            postgres.stop()


def _serve_one(settings: Settings) -> None:
    import uvicorn

    from sprig.server.app import create_app
    from sprig.server.runtime import Runtime

    url = f"http://{settings.host}:{settings.port}"
    app = create_app(settings, Runtime.build(settings), on_started=lambda rt: _print_key(rt, url))
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=log_config(),
    )


def _serve_many(settings: Settings, workers: int) -> None:
    """Migrate and key once here, then fork ``workers`` processes that build their own app
    from the environment (so every setting given as a flag is exported first)."""
    import uvicorn

    from sprig.server.runtime import Runtime

    async def prepare() -> Runtime:
        runtime = Runtime.build(settings)
        await runtime.start(worker=False)
        await runtime.close()
        return runtime

    runtime = asyncio.run(prepare())
    _print_key(runtime, f"http://{settings.host}:{settings.port} ({workers} processes)")
    os.environ["SPRIG_DATA_DIR"] = str(settings.data_dir)
    os.environ["SPRIG_DATABASE_URL"] = settings.resolved_database_url
    uvicorn.run(
        "sprig.server.app:app_from_env",
        factory=True,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=log_config(),
    )


def _print_key(runtime: Runtime, url: str) -> None:
    key = runtime.startup_key
    console.print(f"Sprig is serving at [bold]{url}[/bold] (also under {url}/api)")
    if key is None:
        return
    if key.new_key:
        console.print(f"API key (shown once; also saved to {key.key_file}):")
        print(key.new_key, flush=True)
    elif key.key_file:
        console.print(f"API key: see {key.key_file}")
    else:
        console.print("API key: SPRIG_API_KEY")


def migrate(data_dir: DataDir = None) -> None:
    """Run database migrations explicitly (serve also runs them)."""
    from sprig.server.store.db import Database

    settings = load_settings(data_dir=data_dir)

    async def run() -> str | None:
        db = Database.from_settings(settings)
        try:
            await db.migrate()
            return await db.current_revision()
        finally:
            await db.dispose()

    console.print(f"Database at revision {asyncio.run(run())}")
