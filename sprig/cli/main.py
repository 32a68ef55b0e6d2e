"""The `sprig` command. Subcommands import what they need when they run, so --help is fast."""

from __future__ import annotations

import typer

from sprig.cli import chat, docs, keys, mcp, server, worker
from sprig.cli.common import HelpGroup

app = typer.Typer(
    name="sprig",
    help="Sprig: a self-hostable backend for stateful AI agents (Julep-compatible API).",
    no_args_is_help=True,
    add_completion=False,
    cls=HelpGroup,
)
app.command("serve")(server.serve)
app.command("migrate")(server.migrate)
app.command("worker")(worker.worker)
app.command("chat")(chat.chat)
app.command("mcp")(mcp.mcp)
app.add_typer(keys.app, name="keys")
app.add_typer(docs.app, name="docs")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
