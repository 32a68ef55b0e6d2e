"""`sprig chat`: talk to an agent in the terminal, replies streamed as they are generated.

Uses Sprig's own SDK only (no server code). The key comes from ``--api-key``,
``SPRIG_API_KEY`` or the ``api_key`` file of the data directory that `sprig serve` wrote.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console

from sprig.cli.common import api_key_from

if TYPE_CHECKING:
    from sprig.client import ChatStream, Client

console = Console(stderr=True, soft_wrap=True)
DEFAULT_NAME, DEFAULT_ABOUT = "Sprig", "A helpful, concise assistant."
DEFAULT_MARK = {"sprig_cli_default": True}
QUIT = {"/exit", "/quit", ":q"}


def _agent_id(client: Client, wanted: str | None) -> str:
    if wanted:
        try:
            return str(client.agents.get(str(uuid.UUID(wanted))).id)
        except ValueError:
            pass
        pages = client.agents.list(limit=100).auto_paging_iter()
        named = [a for a in pages if a.name == wanted]
        if not named:
            console.print(f"[red]No agent named {wanted!r}.[/red]")
            raise typer.Exit(1)
        if len(named) > 1:
            ids = ", ".join(str(a.id) for a in named)
            console.print(f"[red]{len(named)} agents are named {wanted!r}: {ids}.[/red]")
            console.print("Give one of these ids with --agent.")
            raise typer.Exit(1)
        return str(named[0].id)
    existing = client.agents.list(limit=1, metadata_filter=DEFAULT_MARK)
    if existing:
        return str(existing[0].id)
    created = client.agents.create(name=DEFAULT_NAME, about=DEFAULT_ABOUT, metadata=DEFAULT_MARK)
    console.print(f"Created the default agent [bold]{created.name}[/bold] ({created.id}).")
    return str(created.id)


def _session_id(client: Client, session: str | None, agent_id: str) -> str:
    if session:
        return str(client.sessions.get(session).id)
    created = client.sessions.create(agent_id=agent_id)
    console.print(f"Session {created.id} (resume with --session {created.id}).")
    return str(created.id)


def _turn(client: Client, session_id: str, text: str) -> None:
    reply = client.sessions.chat(
        session_id, messages=[{"role": "user", "content": text}], stream=True
    )
    with cast("ChatStream", reply) as stream:  # stream=True: a ChatStream
        for chunk in stream:
            print(chunk.text, end="", flush=True)
    print(flush=True)


def chat(
    agent: Annotated[
        str | None, typer.Option(help="Agent name or id (default: Sprig's own).")
    ] = None,
    session: Annotated[str | None, typer.Option(help="Resume this session id.")] = None,
    url: Annotated[
        str, typer.Option(envvar="SPRIG_BASE_URL", help="Server URL.")
    ] = "http://127.0.0.1:8080",
    api_key: Annotated[str | None, typer.Option(help="API key (default: SPRIG_API_KEY).")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where `sprig serve` keeps its key.")
    ] = None,
) -> None:
    """Chat with an agent in the terminal. Type /exit (or Ctrl-D) to leave."""
    from sprig.client import Client
    from sprig.client.errors import JulepError

    with Client(api_key=api_key_from(api_key, data_dir), base_url=url) as client:
        try:
            sid = _session_id(client, session, _agent_id(client, agent))
            _loop(client, sid)
        except JulepError as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(1) from err


def _loop(client: Client, session_id: str) -> None:
    interactive = os.isatty(0)
    while True:
        try:
            text = console.input("[bold green]you>[/bold green] ") if interactive else input()
        except (EOFError, KeyboardInterrupt):
            break
        if text.strip() in QUIT:
            break
        if text.strip():
            _turn(client, session_id, text)
