"""`sprig keys create|list|revoke`: tenants (developers) and their API keys."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from sprig.cli.common import DataDir, HelpGroup, load_settings
from sprig.cli.startup import check_store, plain_problems

app = typer.Typer(help="Manage tenants and API keys.", no_args_is_help=True, cls=HelpGroup)
console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def _with_db(data_dir: Any, action: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run ``action(db, secret)`` on the migrated database, with the server secret checked
    against it (the secret keys the stored key hashes)."""
    from sprig.server.auth.secret import ServerSecret, bind_secret
    from sprig.server.errors import SprigError
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
        import asyncio  # here, not at import: `sprig --help` stays fast

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
    from sprig.server.auth.keys import create_tenant

    dev_id, key = _with_db(data_dir, lambda db, secret: create_tenant(db, name, secret))
    console.print(f"Tenant {name!r} ({dev_id}) created. Its key is shown once:")
    print(key, flush=True)


@app.command("list")
def list_(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array (one object per key).")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """List keys with their whole ids (for `keys revoke`), never the keys: their prefix only."""
    from sprig.server.auth.keys import list_keys

    rows = [_key_view(r) for r in _with_db(data_dir, lambda db, _: list_keys(db))]
    if as_json:
        print(json.dumps(rows, indent=2), flush=True)
    elif rows:
        print(_columns(KEY_HEADER, [_key_line(r) for r in rows]), flush=True)
    else:
        console.print("No keys.")


KEY_HEADER = ("ID", "TENANT", "NAME", "PREFIX", "CREATED", "REVOKED")


def _key_line(key: dict[str, Any]) -> list[str]:
    fields = (key["id"], key["tenant"], key["name"], key["prefix"] + "…", key["created_at"])
    return [*fields, key["revoked_at"] or ""]


def _key_view(row: dict[str, Any]) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") if value else None

    return {
        "id": str(row["id"]),
        "tenant": row["tenant"],
        "name": row["name"],
        "prefix": row["prefix"],
        "created_at": when(row["created_at"]),
        "revoked_at": when(row["revoked_at"]),
    }


def _columns(header: Sequence[str], rows: list[list[str]]) -> str:
    """Plain aligned columns, nothing cut or wrapped (ids are copied from here)."""
    table = [list(header), *rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in table
    ]
    return "\n".join(line.rstrip() for line in lines)


@app.command("revoke")
def revoke(
    target: Annotated[str, typer.Argument(help="Tenant name (all its keys) or key id.")],
    data_dir: DataDir = None,
) -> None:
    """Revoke keys: they stop working at once."""
    from sprig.server.auth.keys import revoke as do_revoke

    count = _with_db(data_dir, lambda db, _: do_revoke(db, target))
    console.print(f"Revoked {count} key(s).")
