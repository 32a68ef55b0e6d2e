"""`sprig keys create|list|revoke|limits|usage`: tenants (developers), their API keys, limits
and usage."""

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


def _limit(value: str | None, cast: Callable[[str], float], option: str) -> float | None:
    """``off`` (or ``none``) removes a limit; any other value is a positive number."""
    assert value is not None
    if value.strip().lower() in ("off", "none"):
        return None
    try:
        number = cast(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise typer.BadParameter(f"a positive number, or off (not {value!r})", param_hint=option)
    return number


def _limit_changes(given: dict[str, tuple[str | None, Callable[[str], float]]]) -> dict[str, Any]:
    return {
        name: _limit(value, cast, "--" + name.replace("_", "-"))
        for name, (value, cast) in given.items()
        if value is not None
    }


def _show_limits(tenant: str, limits: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"tenant": tenant, **limits}, indent=2), flush=True)
        return
    rows = [[name, "no limit" if v is None else f"{v:g}"] for name, v in limits.items()]
    print(_columns(("LIMIT", tenant), rows), flush=True)


def _number(help_: str) -> Any:
    return typer.Option(metavar="N|off", help=help_)


@app.command("limits")
def limits(
    tenant: Annotated[str, typer.Argument(help="Tenant name.")],
    requests_per_minute: Annotated[str | None, _number("API requests per minute.")] = None,
    tokens_per_minute: Annotated[str | None, _number("Model tokens (in + out) per minute.")] = None,
    tokens_per_day: Annotated[str | None, _number("Model tokens per UTC day.")] = None,
    cost_per_month: Annotated[
        str | None,
        typer.Option(metavar="USD|off", help="Estimated model cost (USD) per UTC month."),
    ] = None,
    concurrent_streams: Annotated[str | None, _number("Streamed replies open at once.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every limit first.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the limits as JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Show a tenant's limits, or set them (`off` removes one); running servers apply a
    change within SPRIG_QUOTA_CACHE_SECONDS."""
    from sprig.server.usage.limits import change_limits, read_limits, tenant_named

    changes = _limit_changes(
        {
            "requests_per_minute": (requests_per_minute, int),
            "tokens_per_minute": (tokens_per_minute, int),
            "tokens_per_day": (tokens_per_day, int),
            "cost_per_month": (cost_per_month, float),
            "concurrent_streams": (concurrent_streams, int),
        }
    )

    async def act(db: Any, _: Any) -> Any:
        developer_id = await tenant_named(db, tenant)
        if changes or clear:
            return await change_limits(db, developer_id, changes, clear=clear)
        return await read_limits(db, developer_id)

    _show_limits(tenant, _with_db(data_dir, act).as_dict(), as_json)


@app.command("usage")
def usage(
    tenant: Annotated[str, typer.Argument(help="Tenant name.")],
    start: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First UTC day (default: the 1st)."),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last UTC day (default: today)."),
    ] = None,
    group_by: Annotated[
        str, typer.Option("--group-by", metavar="day|model", help="Rows per day or per model.")
    ] = "day",
    as_json: Annotated[bool, typer.Option("--json", help="Print GET /usage's JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """A tenant's usage per UTC day or model (what it sees at GET /usage)."""
    import time

    from sprig.server.usage.limits import tenant_named
    from sprig.server.usage.quotas import utc_day
    from sprig.server.usage.service import period, report

    if group_by not in ("day", "model"):
        raise typer.BadParameter("day or model", param_hint="--group-by")
    first, last = (d.date() if d else None for d in (start, end))

    async def act(db: Any, _: Any) -> dict[str, Any]:
        developer_id = await tenant_named(db, tenant)
        days = period(first, last, utc_day(time.time()))
        return await report(db, developer_id, *days, group_by)  # type: ignore[arg-type]

    shown = _with_db(data_dir, act)
    if as_json:
        print(json.dumps(shown, indent=2), flush=True)
        return
    print(_columns(USAGE_HEADER, [_usage_line(r, group_by) for r in shown["data"]]), flush=True)
    console.print(f"{shown['from']} to {shown['to']}; total: {_usage_line(shown['total'], '')}")


USAGE_HEADER = ("KEY", "TOKENS IN", "TOKENS OUT", "TURNS", "TOOL CALLS", "EMBEDDED", "COST")


def _usage_line(row: dict[str, Any], key: str) -> list[str]:
    cost = "unknown" if row["cost"] is None else f"${row['cost']:.4f}"
    counts = [str(row[n]) for n in ("tokens_in", "tokens_out", "turns", "tool_calls")]
    return [str(row.get(key, "")), *counts, str(row["embedded_chunks"]), cost]
