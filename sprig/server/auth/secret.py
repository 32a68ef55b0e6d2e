"""The server secret: it keys the API-key hashes and encrypts tool secrets at rest.

Where it comes from, first found: ``SPRIG_SECRET_KEY``; the file ``SPRIG_SECRET_KEY_FILE``
names; ``DATA_DIR/secret_key``, created (mode 0600) on first start. Each use gets its own key,
derived as HMAC-SHA256(secret, label).

Every process sharing a database must hold the same secret. The database keeps the secret's
fingerprint (an HMAC of a label, not the secret), and a process holding another secret refuses
to start rather than failing every key and every stored tool secret (`bind_secret`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.errors import SprigError
from sprig.server.store import crud, tables
from sprig.server.store.files import write_new_private_file

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

    from sprig.server.settings import Settings

SECRET_FILE = "secret_key"  # noqa: S105 (a file name)
MIN_LENGTH = 32
FINGERPRINT_KEY = "server_secret"


class SecretKeyError(SprigError):
    """The server secret is missing, too short, or not the one the database was set up with."""

    code = "secret_key_error"


class SecretDecryptError(SprigError):
    """A sealed value cannot be opened with this secret for this tenant."""

    code = "secret_unreadable"


@dataclass(frozen=True)
class ServerSecret:
    raw: bytes = field(repr=False)
    source: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerSecret:
        if settings.secret_key is not None:
            return cls.of(settings.secret_key.get_secret_value(), "SPRIG_SECRET_KEY")
        if settings.secret_key_file is not None:
            return cls.of(_read(settings.secret_key_file), str(settings.secret_key_file))
        path = settings.data_dir / SECRET_FILE
        if not path.exists():
            write_new_private_file(path, secrets.token_urlsafe(48) + "\n")
        return cls.of(_read(path), str(path))

    @classmethod
    def of(cls, text: str, source: str) -> ServerSecret:
        value = text.strip()
        if len(value) < MIN_LENGTH:
            raise SecretKeyError(
                f"The server secret from {source} is {len(value)} characters; it needs at least "
                f"{MIN_LENGTH} (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return cls(value.encode(), source)

    def derive(self, label: str) -> bytes:
        return hmac.new(self.raw, label.encode(), hashlib.sha256).digest()

    @property
    def fingerprint(self) -> str:
        return self.derive("sprig/fingerprint/v1").hex()[:32]

    @cached_property
    def _api_keys_key(self) -> bytes:
        return self.derive("sprig/api-keys/v1")

    def key_digest(self, api_key: str) -> str:
        """The stored form of an API key: HMAC-SHA256 under a key derived from the secret."""
        return hmac.new(self._api_keys_key, api_key.encode(), "sha256").hexdigest()

    def cipher(self, purpose: str = "sprig/tool-secrets/v1") -> SecretCipher:
        """A cipher whose key is derived for ``purpose`` (tool secrets by default)."""
        return SecretCipher(base64.urlsafe_b64encode(self.derive(purpose)))


class SecretCipher:
    """Fernet (AES-128-CBC + HMAC-SHA256) over JSON values, each bound to its tenant: a
    sealed value opens only for the tenant it was sealed for."""

    def __init__(self, key: bytes) -> None:
        from cryptography.fernet import Fernet

        self._fernet: Fernet = Fernet(key)

    def seal(self, value: Any, tenant: UUID) -> str:
        payload = json.dumps({"t": str(tenant), "v": value}, separators=(",", ":"))
        return self._fernet.encrypt(payload.encode()).decode()

    def open(self, token: str, tenant: UUID) -> Any:
        from cryptography.fernet import InvalidToken

        try:
            payload = json.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError):
            raise SecretDecryptError(
                "A stored tool secret cannot be decrypted with this server's secret key"
            ) from None
        if payload.get("t") != str(tenant):
            raise SecretDecryptError("A stored tool secret belongs to another tenant")
        return payload.get("v")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise SecretKeyError(f"Cannot read the server secret {path}: {exc.strerror}") from None


async def bind_secret(conn: AsyncConnection, secret: ServerSecret) -> None:
    """Record the secret's fingerprint in a new database, or refuse a different secret."""
    meta = tables.store_meta
    stmt = sa.select(meta.c.value).where(meta.c.key == FINGERPRINT_KEY)
    row = (await conn.execute(stmt)).first()
    if row is None:  # a new database: the first process to get here sets it up
        await crud.claim_meta(conn, FINGERPRINT_KEY, {"fingerprint": secret.fingerprint})
        row = (await conn.execute(stmt)).first()
    if row is None or not hmac.compare_digest(str(row[0].get("fingerprint")), secret.fingerprint):
        raise SecretKeyError(
            f"This database was set up with another server secret than the one in "
            f"{secret.source}: API keys and tool secrets would not verify. Give every process "
            "sharing the database the same SPRIG_SECRET_KEY (or SPRIG_SECRET_KEY_FILE)."
        )
