"""Helpers shared by CLI commands: settings from flags + environment, server-extra check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from sprig.server.settings import Settings

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default ./.sprig or SPRIG_DATA_DIR)."),
]


def load_settings(**overrides: Any) -> Settings:
    try:
        from sprig.server.settings import Settings
    except ImportError as err:  # the server extra is missing
        typer.echo(
            f"The Sprig server needs its extra: pip install 'sprig[server]' ({err})", err=True
        )
        raise typer.Exit(2) from err
    given = {k: v for k, v in overrides.items() if v is not None}
    settings = Settings(**given)
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        typer.echo(f"--data-dir {settings.data_dir} exists and is not a directory", err=True)
        raise typer.Exit(2)
    return settings


def api_key_from(given: str | None, data_dir: Path | None) -> str:
    """The key for client commands: the flag, SPRIG_API_KEY, or the key file `serve` wrote."""
    if given:
        return given
    if os.environ.get("SPRIG_API_KEY"):
        return os.environ["SPRIG_API_KEY"]
    key_file = (data_dir or Path(os.environ.get("SPRIG_DATA_DIR", ".sprig"))) / "api_key"
    if key_file.exists():
        return key_file.read_text().strip()
    typer.echo("No API key: pass --api-key, set SPRIG_API_KEY, or run `sprig serve`.", err=True)
    raise typer.Exit(2)


Url = Annotated[str, typer.Option(envvar="SPRIG_BASE_URL", help="Server URL.")]
ApiKey = Annotated[str | None, typer.Option(help="API key (default: SPRIG_API_KEY).")]
KeyDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where `sprig serve` keeps its key.")
]
DEFAULT_URL = "http://127.0.0.1:8080"
