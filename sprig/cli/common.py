"""Helpers shared by CLI commands: settings from flags + environment, server-extra check,
the API key for client commands, agents by name or id, and help without typer's type column."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperGroup, TyperOption

if TYPE_CHECKING:
    from sprig.client import Client
    from sprig.client.types import Agent
    from sprig.server.settings import Settings

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", metavar="DIR", help="Data directory (default ./.sprig or SPRIG_DATA_DIR)."
    ),
]
errors = Console(stderr=True, soft_wrap=True)


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


Url = Annotated[str, typer.Option(envvar="SPRIG_BASE_URL", metavar="URL", help="Server URL.")]
ApiKey = Annotated[
    str | None, typer.Option(metavar="KEY", help="API key (default: SPRIG_API_KEY).")
]
KeyDir = Annotated[
    Path | None,
    typer.Option("--data-dir", metavar="DIR", help="Where `sprig serve` keeps its key."),
]
DEFAULT_URL = "http://127.0.0.1:8080"


def resolve_agent(client: Client, wanted: str) -> Agent:
    """The agent whose id or name is ``wanted``. No agent of that name, or several (their
    ids are listed), is an error: exit code 1."""
    try:
        agent_id = str(uuid.UUID(wanted))
    except ValueError:
        return _agent_named(client, wanted)
    return client.agents.get(agent_id)


def _agent_named(client: Client, name: str) -> Agent:
    named = [a for a in client.agents.list(limit=100).auto_paging_iter() if a.name == name]
    if not named:
        errors.print(f"[red]No agent named {name!r}.[/red]")
        raise typer.Exit(1)
    if len(named) > 1:
        ids = ", ".join(str(a.id) for a in named)
        errors.print(f"[red]{len(named)} agents are named {name!r}: {ids}.[/red]")
        errors.print("Give one of these ids with --agent.")
        raise typer.Exit(1)
    return named[0]


class _PlainArgument(TyperArgument):
    """An argument shown by its metavar alone: ``PATH...``, not ``{paths}...`` and
    ``<list[Path]>``."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.metavar or self.name or ""
        return [name if self.required else f"[{name}]"]


def _plain(param: Any) -> None:
    """Metavars instead of typer's type column: ``URL`` for a value, nothing for a flag."""
    if type(param) is TyperArgument:
        if param.metavar is None:
            param.metavar = (param.name or "").upper() + ("..." if param.nargs != 1 else "")
        param.__class__ = _PlainArgument
    elif isinstance(param, TyperOption) and param.metavar is None:
        param.metavar = "" if param.is_flag else (param.name or "").upper()


class HelpGroup(TyperGroup):
    """A command group whose help, and its commands' help, names values by metavar
    (``PATH...``, ``--url URL``) and shows no ``<str>``/``<bool>`` type column."""

    def get_help_option(self, ctx: Any) -> TyperOption | None:
        option = super().get_help_option(ctx)
        _plain(option)
        return option

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            for param in command.params:
                _plain(param)
            _plain(command.get_help_option(ctx))
        return command
