"""Helpers shared by CLI commands: settings from flags + environment, server-extra check."""

from __future__ import annotations

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
