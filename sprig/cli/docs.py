"""`sprig docs add|search`: load files into an agent's or user's documents, and search them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from sprig.cli.common import DEFAULT_URL, ApiKey, KeyDir, Url, api_key_from

if TYPE_CHECKING:
    from sprig.client import Client

app = typer.Typer(help="Load and search documents.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".text"}
Agent = Annotated[str | None, typer.Option("--agent", help="Agent id (owner of the docs).")]
User = Annotated[str | None, typer.Option("--user", help="User id (owner of the docs).")]


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


@app.command("add")
def add(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files or folders.")],
    agent: Agent = None,
    user: User = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    data_dir: KeyDir = None,
) -> None:
    """Load text and Markdown files (folders are walked) as documents, with a progress bar."""
    _check_owner(agent, user)
    files, skipped = text_files(paths)
    for file in skipped:
        console.print(f"skipped (not text or Markdown): {file}")
    with _client(url, api_key, data_dir) as client, Progress(console=console) as bar:
        task = bar.add_task("Loading", total=len(files))
        for file in files:
            content = file.read_text(encoding="utf-8", errors="replace")
            doc = client.docs.create(
                agent_id=agent,
                user_id=user,
                title=file.stem,
                content=content,
                metadata={"source": str(file)},
            )
            bar.advance(task)
            print(f"{doc.id}\t{file}", flush=True)
    console.print(f"Loaded {len(files)} document(s).")


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    agent: Agent = None,
    user: User = None,
    limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    data_dir: KeyDir = None,
) -> None:
    """Print the best matching documents, best first, with their best passage."""
    _check_owner(agent, user)
    with _client(url, api_key, data_dir) as client:
        found = client.docs.search(agent_id=agent, user_id=user, text=query, limit=limit)
    table = Table("#", "score", "title", "passage")
    for rank, doc in enumerate(found.docs, 1):
        passage = " ".join(str(doc.snippet.content if doc.snippet else "").split())[:160]
        table.add_row(str(rank), f"{doc.score or 0:.3f}", doc.title or "", passage)
    Console(soft_wrap=False, width=200).print(table)
