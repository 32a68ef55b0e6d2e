"""API keys at rest (issue 13, item 16), on SQLite and PostgreSQL: keyed hashes, short display
prefixes, keys stored the old way (unsalted SHA-256, 13-character prefix) keep working and
are rehashed, and a process with another server secret refuses the database."""

from __future__ import annotations

import hashlib

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from sprig.server.auth.keys import HMAC_SCHEME, display_prefix
from sprig.server.auth.secret import SecretKeyError
from sprig.server.ids import new_id, utcnow
from sprig.server.settings import Settings
from sprig.server.store import tables
from sprig.server.store.db import Database
from tests.helpers.app import API_KEY, auth, build_app

GENERATED = "sk-sprig-" + "G" * 43
CUSTOM = "custom-key-0123456789ab"  # 23 characters, like a SPRIG_API_KEY an operator chose


def test_display_prefix_shows_a_small_part_only() -> None:
    assert display_prefix(GENERATED) == "sk-sprig-GGGG"
    assert display_prefix(CUSTOM) == "cu"  # at most an eighth of the key
    assert display_prefix("short") == ""
    assert display_prefix("sk-sprig-abcd") == "s"  # not a generated key: no special case
    assert display_prefix("x" * 200) == "xxxx"


async def old_database(settings: Settings) -> None:
    """A database as Sprig left it before keyed hashes (revision 0005)."""
    db = Database.from_settings(settings)
    await db.migrate("0005")
    rows = []
    async with db.write() as conn:
        for name, key in (("default", API_KEY), ("acme", GENERATED), ("ops", CUSTOM)):
            dev = new_id()
            await conn.execute(
                sa.insert(tables.developers).values(id=dev, name=name, created_at=utcnow())
            )
            rows.append(
                {
                    "id": new_id(),
                    "developer_id": dev,
                    "name": name,
                    "key_hash": hashlib.sha256(key.encode()).hexdigest(),
                    "prefix": key[:13],
                    "created_at": utcnow(),
                    "revoked_at": None,
                }
            )
        for row in rows:  # only the columns revision 0005 has
            await conn.execute(sa.insert(tables.api_keys).values(**row))
    await db.dispose()


async def keys_by_name(db: Database) -> dict[str, dict[str, object]]:
    k = tables.api_keys
    async with db.read() as conn:
        rows = (
            await conn.execute(sa.select(k.c.name, k.c.key_hash, k.c.hash_scheme, k.c.prefix))
        ).mappings()
        return {r["name"]: dict(r) for r in rows}


async def test_old_keys_keep_working_and_are_rehashed(settings: Settings) -> None:
    await old_database(settings)
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        before = await keys_by_name(runtime.db)
        # start-up knew SPRIG_API_KEY: rehashed already; the others wait for their first use
        assert before["default"]["key_hash"] == runtime.secret.key_digest(API_KEY)
        assert before["default"]["hash_scheme"] == HMAC_SCHEME
        assert before["acme"]["hash_scheme"] == "sha256"
        assert before["acme"]["prefix"] == "sk-sprig-GGGG"  # a generated key's prefix stays
        assert before["ops"]["prefix"] == ""  # 13 characters of a 23-character key: cleared
        transport = httpx.ASGITransport(app=app)
        for key in (API_KEY, GENERATED, CUSTOM, GENERATED, CUSTOM):  # twice: after rehash too
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                runtime.key_cache.clear()
                assert (await c.get("/agents", headers=auth(key))).status_code == 200, key
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/agents", headers=auth(CUSTOM + "x"))).status_code == 403
        after = await keys_by_name(runtime.db)
    for name, key in (("acme", GENERATED), ("ops", CUSTOM)):
        assert after[name]["hash_scheme"] == HMAC_SCHEME
        assert after[name]["key_hash"] == runtime.secret.key_digest(key)
        assert after[name]["prefix"] == display_prefix(key)
    stored = str(after)
    for key in (API_KEY, GENERATED, CUSTOM):
        assert hashlib.sha256(key.encode()).hexdigest() not in stored


async def test_another_secret_is_refused_and_the_same_one_shared_works(
    settings: Settings,
) -> None:
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        file_secret = (settings.data_dir / "secret_key").read_text().strip()
    other = settings.model_copy(update={"secret_key": SecretStr("o" * 40)})
    app = build_app(other)
    with pytest.raises(SecretKeyError, match="another server secret"):
        async with app.router.lifespan_context(app):
            pass
    await app.state.runtime.close()
    shared = settings.model_copy(update={"secret_key": SecretStr(file_secret)})
    app = build_app(shared)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        assert (await c.get("/agents", headers=auth(API_KEY))).status_code == 200
