"""Tenants (developers) and their API keys.

Keys are random 256-bit tokens. Only a keyed hash is stored: HMAC-SHA256 under a key derived
from the server secret (auth/secret.py), so a copy of the database alone cannot test
guesses of a weak ``SPRIG_API_KEY``. Keys are looked up by hash and compared in constant time.
A key stored before (unsalted SHA-256, ``hash_scheme = 'sha256'``) still verifies, and is
rehashed with HMAC on that first use; start-up rehashes the keys it is given (SPRIG_API_KEY,
the generated key file). ``prefix`` keeps a few characters for display only (`display_prefix`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.auth.secret import ServerSecret
from sprig.server.errors import ConflictError, NotFoundError
from sprig.server.ids import new_id, utcnow
from sprig.server.observability import metrics
from sprig.server.store import crud, tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database
from sprig.server.store.files import write_private_file

DEFAULT_TENANT = "default"
TENANTS_LOCK = "sprig.tenants"
KEY_PREFIX = "sk-sprig-"
HMAC_SCHEME = "hmac-sha256"
LEGACY_SCHEME = "sha256"


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def legacy_hash(key: str) -> str:
    """How keys were stored before keyed hashes (verified once, then rehashed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """What ``sprig keys list`` shows of a key: ``sk-sprig-`` and 4 of its 43 random
    characters for a generated key; for any other key at most 4 characters and at most an
    eighth of it (none of a key under 8 characters)."""
    if key.startswith(KEY_PREFIX) and len(key) >= len(KEY_PREFIX) + 32:
        return key[: len(KEY_PREFIX) + 4]
    return key[: min(4, len(key) // 8)]


@dataclass(frozen=True)
class StartupKey:
    developer_id: UUID
    new_key: str | None  # set only when a key was generated now (print it once)
    key_file: Path | None


class KeyCache:
    """How presented keys are hashed (the server secret's keyed hash), and the hashes
    verified recently → tenant, for ``ttl`` seconds (0 disables).

    Saves a database round trip per request. A revocation applies at once in the process
    that made it and within ``ttl`` seconds in the others.
    """

    def __init__(self, ttl: float, secret: ServerSecret) -> None:
        self.ttl = ttl
        self.secret = secret
        self._entries: dict[str, tuple[UUID, float]] = {}

    def digest(self, key: str) -> str:
        return self.secret.key_digest(key)

    def get(self, digest: str) -> UUID | None:
        hit = self._entries.get(digest)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put(self, digest: str, developer_id: UUID) -> None:
        if self.ttl > 0:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (developer_id, time.monotonic() + self.ttl)

    def clear(self) -> None:
        self._entries.clear()


async def authenticate(db: Database, key: str, cache: KeyCache) -> UUID | None:
    """The tenant of an active key, or None; a legacy-hashed key is rehashed on this use."""
    digest = cache.digest(key)
    if (hit := cache.get(digest)) is not None:
        return hit
    async with db.read() as conn:
        row = await _matching_key(conn, key, digest)
    if row is None:
        return None
    if row["hash_scheme"] == LEGACY_SCHEME:
        async with db.write() as conn:
            await _rehash(conn, row["id"], key, digest)
    developer_id = UUID(str(row["developer_id"]))
    metrics.name_tenant(developer_id, str(row["tenant"]))
    cache.put(digest, developer_id)
    return developer_id


async def _matching_key(conn: AsyncConnection, key: str, digest: str) -> Row | None:
    """The active key row whose stored hash matches, compared in constant time."""
    k = tables.api_keys
    legacy = legacy_hash(key)
    d = tables.developers
    stmt = (
        sa.select(k.c.id, k.c.developer_id, k.c.key_hash, k.c.hash_scheme, d.c.name.label("tenant"))
        .join(d, d.c.id == k.c.developer_id)
        .where(k.c.key_hash.in_([digest, legacy]), k.c.revoked_at.is_(None))
    )
    for row in (await conn.execute(stmt)).mappings():
        scheme = row["hash_scheme"]
        expected = digest if scheme == HMAC_SCHEME else legacy
        known = scheme in (HMAC_SCHEME, LEGACY_SCHEME)
        if known and hmac.compare_digest(str(row["key_hash"]), expected):
            return dict(row)
    return None


async def _rehash(conn: AsyncConnection, key_id: object, key: str, digest: str) -> None:
    k = tables.api_keys
    await conn.execute(
        sa.update(k)
        .where(k.c.id == key_id, k.c.hash_scheme == LEGACY_SCHEME)
        .values(key_hash=digest, hash_scheme=HMAC_SCHEME, prefix=display_prefix(key))
    )


async def _developer(conn: AsyncConnection, name: str) -> UUID | None:
    d = tables.developers
    row = (await conn.execute(sa.select(d.c.id).where(d.c.name == name))).first()
    return row[0] if row else None


async def _add_developer(conn: AsyncConnection, name: str) -> UUID:
    dev_id = new_id()
    await conn.execute(
        sa.insert(tables.developers).values(id=dev_id, name=name, created_at=utcnow())
    )
    return dev_id


async def _add_key(
    conn: AsyncConnection, developer_id: UUID, name: str, key: str, secret: ServerSecret
) -> None:
    await conn.execute(
        sa.insert(tables.api_keys).values(
            id=new_id(),
            developer_id=developer_id,
            name=name,
            key_hash=secret.key_digest(key),
            hash_scheme=HMAC_SCHEME,
            prefix=display_prefix(key),
            created_at=utcnow(),
            revoked_at=None,
        )
    )


async def _active_keys(conn: AsyncConnection, developer_id: UUID) -> list[Row]:
    k = tables.api_keys
    stmt = sa.select(k).where(k.c.developer_id == developer_id, k.c.revoked_at.is_(None))
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def create_tenant(db: Database, name: str, secret: ServerSecret) -> tuple[UUID, str]:
    key = generate_key()
    async with db.write() as conn:
        await crud.serialize(conn, TENANTS_LOCK)
        if await _developer(conn, name) is not None:
            raise ConflictError(f"A tenant named {name!r} already exists")
        dev_id = await _add_developer(conn, name)
        await _add_key(conn, dev_id, name, key, secret)
    return dev_id, key


async def ensure_default_tenant(
    db: Database, data_dir: Path, env_key: str | None, secret: ServerSecret
) -> StartupKey:
    """The default tenant, keyed by SPRIG_API_KEY or by a key generated on first start.
    The keys known here (SPRIG_API_KEY, the key file) are rehashed if stored the old way."""
    key_file = data_dir / "api_key"
    async with db.write() as conn:
        await crud.serialize(conn, TENANTS_LOCK)  # several processes may start at once
        for known in (env_key, _read_key_file(key_file)):
            if known:
                await rehash_legacy(conn, known, secret)
        dev_id = await _developer(conn, DEFAULT_TENANT) or await _add_developer(
            conn, DEFAULT_TENANT
        )
        active = await _active_keys(conn, dev_id)
        if env_key:
            if secret.key_digest(env_key) not in {k["key_hash"] for k in active}:
                await _add_key(conn, dev_id, "SPRIG_API_KEY", env_key, secret)
            return StartupKey(dev_id, None, None)
        if active:
            return StartupKey(dev_id, None, key_file if key_file.exists() else None)
        key = generate_key()
        await _add_key(conn, dev_id, DEFAULT_TENANT, key, secret)
    write_private_file(key_file, key + "\n")
    return StartupKey(dev_id, key, key_file)


async def rehash_legacy(conn: AsyncConnection, key: str, secret: ServerSecret) -> bool:
    """Rehash ``key``'s row with HMAC if it is stored as unsalted SHA-256; whether it was."""
    k = tables.api_keys
    stmt = sa.select(k.c.id).where(
        k.c.key_hash == legacy_hash(key), k.c.hash_scheme == LEGACY_SCHEME
    )
    key_id = (await conn.execute(stmt)).scalar_one_or_none()
    if key_id is None:
        return False
    await _rehash(conn, key_id, key, secret.key_digest(key))
    return True


def _read_key_file(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


async def list_keys(db: Database) -> list[Row]:
    k, d = tables.api_keys, tables.developers
    stmt = (
        sa.select(
            k.c.id, k.c.name, k.c.prefix, k.c.created_at, k.c.revoked_at, d.c.name.label("tenant")
        )
        .join(d, d.c.id == k.c.developer_id)
        .order_by(k.c.created_at)
    )
    async with db.read() as conn:
        return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def revoke(db: Database, name_or_id: str) -> int:
    """Revoke the keys of a tenant (by tenant name) or one key (by key id)."""
    k, d = tables.api_keys, tables.developers
    by_tenant = k.c.developer_id.in_(sa.select(d.c.id).where(d.c.name == name_or_id))
    cond: sa.ColumnElement[bool] = by_tenant
    with contextlib.suppress(ValueError):
        cond = sa.or_(by_tenant, k.c.id == UUID(name_or_id))
    stmt = sa.update(k).where(cond, k.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    async with db.write() as conn:
        count = int((await conn.execute(stmt)).rowcount)
    if not count:
        raise NotFoundError(f"No active key for {name_or_id!r}")
    return count


async def tenant(db: Database, developer_id: UUID) -> Row:
    """The tenant's id, name and creation time (``GET /me``)."""
    d = tables.developers
    stmt = sa.select(d.c.id, d.c.name, d.c.created_at).where(d.c.id == developer_id)
    async with db.read() as conn:
        row = (await conn.execute(stmt)).mappings().first()
    if row is None:  # its key was valid a moment ago: deleted since
        raise NotFoundError(f"Tenant {developer_id} not found")
    return dict(row)
