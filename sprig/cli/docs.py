"""`sprig docs add|search`: load files into an agent's or user's documents, and search them.

`add` writes one ``id<TAB>path`` line per loaded file to standard output, whatever standard
output is (a terminal, a file, a pipe); the progress bar and messages go to standard error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from sprig.cli.common import (
    DEFAULT_URL,
    ApiKey,
    HelpGroup,
    KeyDir,
    Url,
    api_key_from,
    resolve_agent,
)

if TYPE_CHECKING:
    from rich.progress import Progress

    from sprig.client import Client
    from sprig.client.types import Doc

app = typer.Typer(help="Load and search documents.", no_args_is_help=True, cls=HelpGroup)
console = Console(stderr=True, soft_wrap=True)
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".text"}
Agent = Annotated[
    str | None,
    typer.Option("--agent", metavar="NAME|ID", help="Agent name or id (owner of the docs)."),
]
User = Annotated[
    str | None, typer.Option("--user", metavar="ID", help="User id (owner of the docs).")
]


def _check_owner(agent: str | None, user: str | None) -> None:
    if bool(agent) == bool(user):
        console.print("[red]Give exactly one of --agent or --user.[/red]")
        raise typer.Exit(2)


def text_files(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """The text files under ``paths`` (folders walked), and the files skipped."""
    found: list[Path] = []
    skipped: list[Path] = []
    for path in paths:
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in candidates:
            (found if file.suffix.lower() in TEXT_SUFFIXES else skipped).append(file)
    return found, skipped


def _client(url: str, api_key: str | None, data_dir: Path | None) -> Client:
    from sprig.client import Client

    return Client(api_key=api_key_from(api_key, data_dir), base_url=url)


def _agent_id(client: Client, agent: str | None) -> str | None:
    return str(resolve_agent(client, agent).id) if agent else None


def _emit(bar: Progress, line: str) -> None:
    """Write ``line`` to standard output. On a screen shared with the live bar (standard
    error), the bar is lifted for the write and drawn again below it."""
    shared = sys.stdout.isatty() and bar.live.is_started and bar.console.is_terminal
    if shared:
        bar.stop()
    print(line, flush=True)
    if shared:
        bar.start()


def _load_one(client: Client, file: Path, agent_id: str | None, user: str | None) -> Doc:
    return client.docs.create(
        agent_id=agent_id,
        user_id=user,
        title=file.stem,
        content=file.read_text(encoding="utf-8", errors="replace"),
        metadata={"source": str(file)},
    )


def _load(client: Client, files: list[Path], agent_id: str | None, user: str | None) -> int:
    """Load ``files``, one ``id<TAB>path`` line each; the number that failed. A refused
    file is named and skipped; an unreachable server stops the load."""
    from rich.progress import Progress

    from sprig.client.errors import APIStatusError

    failed = 0
    with Progress(console=console, transient=True, redirect_stdout=False) as bar:
        task = bar.add_task("Loading", total=len(files))
        for file in files:
            try:
                doc = _load_one(client, file, agent_id, user)
            except APIStatusError as err:
                failed += 1
                console.print(f"[red]not loaded: {file}: {err}[/red]")
            else:
                _emit(bar, f"{doc.id}\t{file}")
            bar.advance(task)
    return failed


@app.command("add")
def add(
    paths: Annotated[
        list[Path], typer.Argument(exists=True, metavar="PATH...", help="Files or folders.")
    ],
    agent: Agent = None,
    user: User = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    data_dir: KeyDir = None,
) -> None:
    """Load text and Markdown files (folders are walked) as documents, with a progress bar.

    Prints one line per loaded file: the document id, a tab, the path.
    """
    from sprig.client.errors import JulepError

    _check_owner(agent, user)
    files, skipped = text_files(paths)
    for file in skipped:
        console.print(f"skipped (not text or Markdown): {file}")
    with _client(url, api_key, data_dir) as client:
        try:
            failed = _load(client, files, _agent_id(client, agent), user)
        except JulepError as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(1) from err
    console.print(f"Loaded {len(files) - failed} document(s).")
    if failed:
        console.print(f"[red]{failed} file(s) were not loaded.[/red]")
        raise typer.Exit(1)


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(metavar="QUERY", help="What to look for.")],
    agent: Agent = None,
    user: User = None,
    limit: Annotated[int, typer.Option(min=1, max=50, metavar="N")] = 5,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    data_dir: KeyDir = None,
) -> None:
    """Print the best matching documents, best first, with their best passage."""
    from sprig.client.errors import JulepError

    _check_owner(agent, user)
    with _client(url, api_key, data_dir) as client:
        try:
            found = client.docs.search(
                agent_id=_agent_id(client, agent), user_id=user, text=query, limit=limit
            )
        except JulepError as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(1) from err
    from rich.table import Table

    table = Table("#", "score", "title", "passage")
    for rank, doc in enumerate(found.docs, 1):
        passage = " ".join(str(doc.snippet.content if doc.snippet else "").split())[:160]
        table.add_row(str(rank), f"{doc.score or 0:.3f}", doc.title or "", passage)
    Console(soft_wrap=False, width=200).print(table)
