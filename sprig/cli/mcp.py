"""`sprig mcp`: Sprig's MCP server over stdio, for desktop hosts (Claude Desktop, Cursor, …).

The server runs in this process on the data directory's database (as `sprig serve` does;
both may run at once), for the tenant of the API key: ``--api-key``, ``SPRIG_API_KEY`` or
the ``api_key`` file of the data directory (written on first start). Standard output carries
the protocol only; logs and anything else printed go to standard error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import typer
from rich.console import Console

from sprig.cli.common import ApiKey, DataDir, load_settings
from sprig.cli.startup import check_store, plain_problems

if TYPE_CHECKING:
    from sprig.server.runtime import Runtime
    from sprig.server.settings import Settings

console = Console(stderr=True, soft_wrap=True)


def mcp(data_dir: DataDir = None, api_key: ApiKey = None) -> None:
    """Serve Sprig as an MCP server over stdio (tools, resources and prompts of the key's
    tenant). Point a desktop host's MCP configuration at `sprig mcp`."""
    import asyncio  # here, not at import: `sprig --help` stays fast
    import logging

    settings = load_settings(data_dir=data_dir)
    with plain_problems():
        check_store(settings)
    level = settings.log_level.upper()
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(settings, api_key))


async def _serve(settings: Settings, given_key: str | None) -> None:
    from mcp.server.stdio import stdio_server

    from sprig.server.mcp.server import build
    from sprig.server.runtime import Runtime

    runtime = Runtime.build(settings)
    async with stdio_server() as (reading, writing):  # stdout is the protocol's from here
        await runtime.start()
        try:
            developer = await _tenant(runtime, settings.data_dir, given_key)
            server = build(runtime, developer)
            await server.run(reading, writing, server.create_initialization_options())
        finally:
            await runtime.close()


async def _tenant(runtime: Runtime, data_dir: Path, given: str | None) -> UUID:
    from sprig.server.auth.keys import authenticate

    key = given or os.environ.get("SPRIG_API_KEY") or _key_file(data_dir)
    if not key:
        console.print("[red]No API key: pass --api-key or set SPRIG_API_KEY.[/red]")
        raise typer.Exit(2)
    developer = await authenticate(runtime.db, key, runtime.key_cache)
    if developer is None:
        console.print("[red]The API key is not valid for this data directory.[/red]")
        raise typer.Exit(2)
    return developer


def _key_file(data_dir: Path) -> str | None:
    path = data_dir / "api_key"
    return path.read_text().strip() if path.exists() else None
