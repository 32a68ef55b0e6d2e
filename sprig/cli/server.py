"""`sprig serve` and `sprig migrate`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from sprig.cli.common import DataDir, load_settings

if TYPE_CHECKING:
    from sprig.server.runtime import Runtime

console = Console(stderr=True, soft_wrap=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080).")] = None,
    data_dir: DataDir = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
) -> None:
    """Create or migrate the database in the data directory, then serve the API."""
    import uvicorn

    from sprig.server.app import create_app
    from sprig.server.runtime import Runtime

    settings = load_settings(host=host, port=port, data_dir=data_dir)
    if workers != 1:
        console.print("[red]--workers > 1 needs PostgreSQL (SPRIG_DATABASE_URL)[/red]")
        raise typer.Exit(2)
    url = f"http://{settings.host}:{settings.port}"
    app = create_app(settings, Runtime.build(settings), on_started=lambda rt: _print_key(rt, url))
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)


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
        db = Database(settings.resolved_database_url)
        try:
            await db.migrate()
            return await db.current_revision()
        finally:
            await db.dispose()

    console.print(f"Database at revision {asyncio.run(run())}")
