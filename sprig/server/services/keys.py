"""Tenants (developers) and their API keys.

Keys are random 256-bit tokens; only their SHA-256 is stored (a slow hash adds nothing for
random tokens), looked up by hash and compared in constant time.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import ConflictError, NotFoundError
from sprig.server.ids import new_id, utcnow
from sprig.server.store import tables
from sprig.server.store.crud import Row
from sprig.server.store.db import Database

DEFAULT_TENANT = "default"
KEY_PREFIX = "sk-sprig-"


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class StartupKey:
    developer_id: UUID
    new_key: str | None  # set only when a key was generated now (print it once)
    key_file: Path | None


class KeyCache:
    """Recently verified key hashes → tenant, for ``ttl`` seconds (0 disables).

    Saves a database round trip per request. A revocation applies at once in the process
    that made it and within ``ttl`` seconds in the others.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[UUID, float]] = {}

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


async def authenticate(db: Database, key: str, cache: KeyCache | None = None) -> UUID | None:
    digest = hash_key(key)
    if cache is not None and (hit := cache.get(digest)) is not None:
        return hit
    k = tables.api_keys
    stmt = sa.select(k.c.developer_id, k.c.key_hash).where(
        k.c.key_hash == digest, k.c.revoked_at.is_(None)
    )
    async with db.read() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    developer_id = UUID(str(row.developer_id))
    if cache is not None:
        cache.put(digest, developer_id)
    return developer_id


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


async def _add_key(conn: AsyncConnection, developer_id: UUID, name: str, key: str) -> None:
    await conn.execute(
        sa.insert(tables.api_keys).values(
            id=new_id(),
            developer_id=developer_id,
            name=name,
            key_hash=hash_key(key),
            prefix=key[: len(KEY_PREFIX) + 4],
            created_at=utcnow(),
            revoked_at=None,
        )
    )


async def _active_keys(conn: AsyncConnection, developer_id: UUID) -> list[Row]:
    k = tables.api_keys
    stmt = sa.select(k).where(k.c.developer_id == developer_id, k.c.revoked_at.is_(None))
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def create_tenant(db: Database, name: str) -> tuple[UUID, str]:
    key = generate_key()
    async with db.write() as conn:
        if await _developer(conn, name) is not None:
            raise ConflictError(f"A tenant named {name!r} already exists")
        dev_id = await _add_developer(conn, name)
        await _add_key(conn, dev_id, name, key)
    return dev_id, key


async def ensure_default_tenant(db: Database, data_dir: Path, env_key: str | None) -> StartupKey:
    """The default tenant, keyed by SPRIG_API_KEY or by a key generated on first start."""
    key_file = data_dir / "api_key"
    async with db.write() as conn:
        dev_id = await _developer(conn, DEFAULT_TENANT) or await _add_developer(
            conn, DEFAULT_TENANT
        )
        active = await _active_keys(conn, dev_id)
        if env_key:
            if hash_key(env_key) not in {k["key_hash"] for k in active}:
                await _add_key(conn, dev_id, "SPRIG_API_KEY", env_key)
            return StartupKey(dev_id, None, None)
        if active:
            return StartupKey(dev_id, None, key_file if key_file.exists() else None)
        key = generate_key()
        await _add_key(conn, dev_id, DEFAULT_TENANT, key)
    _write_secret(key_file, key)
    return StartupKey(dev_id, key, key_file)


def _write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    path.chmod(0o600)


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
