"""Migrations and persistence: upgrade on an empty database matches the tables; data survives."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import sprig.server.store
from sprig.server.app import create_app
from sprig.server.store.db import Database
from sprig.server.store.schema_filters import include_object
from sprig.server.store.tables import metadata
from tests.helpers.app import API_KEY, auth, build_app, make_settings


async def test_upgrade_on_empty_database_matches_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/m.db")
    await db.migrate()
    assert await db.current_revision() is not None

    def diff(sync_conn: Any) -> list[Any]:
        context = MigrationContext.configure(sync_conn, opts={"include_object": include_object})
        return list(compare_metadata(context, metadata))

    async with db.read() as conn:
        assert await conn.run_sync(diff) == []
    await db.migrate()  # idempotent
    await db.dispose()


async def test_data_survives_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d")
    app = build_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=auth(API_KEY)
        ) as c,
    ):
        agent = (await c.post("/agents", json={"name": "persist", "metadata": {"n": 1}})).json()
    app = build_app(make_settings(tmp_path / "d"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=auth(API_KEY)
        ) as c,
    ):
        again = (await c.get(f"/agents/{agent['id']}")).json()
    assert again == agent


async def test_generated_key_written_once_with_mode_0600(tmp_path: Path) -> None:
    from sprig.server.settings import Settings

    settings = Settings(data_dir=tmp_path / "g")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        startup = app.state.runtime.startup_key
        key = startup.new_key
        assert key is not None
    key_file = tmp_path / "g" / "api_key"
    assert key_file.read_text().strip() == key
    assert key_file.stat().st_mode & 0o777 == 0o600
    app = create_app(Settings(data_dir=tmp_path / "g"))
    async with app.router.lifespan_context(app):
        assert app.state.runtime.startup_key.new_key is None  # not generated again
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=auth(key)
        ) as c:
            assert (await c.get("/agents")).status_code == 200


def test_migrations_import_no_live_code() -> None:
    """A migration must run the same when the code around it changes: it imports only the
    standard library, SQLAlchemy, Alembic, numpy, the frozen DDL beside it and the column
    types (which are the stored format itself: changing one needs a migration of its own)."""
    versions = Path(sprig.server.store.__file__).parent / "migrations" / "versions"
    allowed = ("__future__", "typing", "re", "json", "sqlalchemy", "alembic", "numpy")
    frozen = ("sprig.server.store.migrations", "sprig.server.store.types")
    for script in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                ok = name in frozen or name.split(".")[0] in allowed
                assert ok, f"{script.name} imports {name}"
