"""Identifiers and timestamps: uuid7 ids, aware UTC datetimes, RFC 3339 text."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import uuid_utils.compat as uuid_compat


def new_id() -> uuid.UUID:
    """A time-ordered UUIDv7 (sorts by creation, fine for the 0.x client's UUID check)."""
    return uuid_compat.uuid7()


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(value: datetime | None) -> str | None:
    """RFC 3339 with a ``Z`` suffix and microseconds, as every SDK parses."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
