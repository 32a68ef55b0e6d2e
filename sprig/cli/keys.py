"""`sprig keys create|list|revoke`: tenants (developers) and their API keys."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from sprig.cli.common import DataDir, load_settings
from sprig.cli.startup import check_store, plain_problems

app = typer.Typer(help="Manage tenants and API keys.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def _with_db(data_dir: Any, action: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run ``action(db, secret)`` on the migrated database, with the server secret checked
    against it (the secret keys the stored key hashes)."""
    from sprig.server.errors import SprigError
    from sprig.server.server_secret import ServerSecret, bind_secret
    from sprig.server.store.db import Database

    settings = load_settings(data_dir=data_dir)
    with plain_problems():
        check_store(settings)

    async def run() -> T:
        db = Database.from_settings(settings)
        try:
            secret = ServerSecret.from_settings(settings)
            await db.migrate()
            async with db.write() as conn:
                await bind_secret(conn, secret)
            return await action(db, secret)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except SprigError as err:
        console.print(f"[red]{err.message}[/red]")
        raise typer.Exit(1) from err


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Tenant name (unique).")],
    data_dir: DataDir = None,
) -> None:
    """Add a tenant with its own key; the key is printed alone on the last line."""
    from sprig.server.services.keys import create_tenant

    dev_id, key = _with_db(data_dir, lambda db, secret: create_tenant(db, name, secret))
    console.print(f"Tenant {name!r} ({dev_id}) created. Its key is shown once:")
    print(key, flush=True)


@app.command("list")
def list_(data_dir: DataDir = None) -> None:
    """List keys (never the keys themselves: their prefix only)."""
    from sprig.server.services.keys import list_keys

    rows = _with_db(data_dir, lambda db, _: list_keys(db))
    table = Table("id", "tenant", "name", "prefix", "created", "revoked")
    for r in rows:
        revoked = r["revoked_at"].isoformat() if r["revoked_at"] else ""
        table.add_row(
            str(r["id"]),
            r["tenant"],
            r["name"],
            r["prefix"] + "…",
            r["created_at"].isoformat(),
            revoked,
        )
    Console().print(table)


@app.command("revoke")
def revoke(
    target: Annotated[str, typer.Argument(help="Tenant name (all its keys) or key id.")],
    data_dir: DataDir = None,
) -> None:
    """Revoke keys: they stop working at once."""
    from sprig.server.services.keys import revoke as do_revoke

    count = _with_db(data_dir, lambda db, _: do_revoke(db, target))
    console.print(f"Revoked {count} key(s).")
