"""Date and time without a network: the current time in a zone, and zone conversion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sprig.server.errors import BadRequestError

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def zone(name: str | None) -> tzinfo:
    if not name or name.upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequestError(f"Unknown time zone {name!r} (use an IANA name)") from None


def describe(moment: datetime, zone_name: str) -> dict[str, object]:
    return {
        "iso": moment.isoformat(),
        "timezone": zone_name,
        "date": moment.date().isoformat(),
        "time": moment.time().replace(microsecond=0).isoformat(),
        "weekday": moment.strftime("%A"),
        "unix": int(moment.timestamp()),
        "utc_offset": moment.strftime("%z"),
    }


def now_in(timezone: str | None, clock: Clock = utc_now) -> dict[str, object]:
    return describe(clock().astimezone(zone(timezone)), timezone or "UTC")


def convert(value: str, timezone: str | None, assume: str | None = None) -> dict[str, object]:
    """An ISO 8601 datetime in another zone; a naive input is read in ``assume`` (UTC)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequestError(f"Not an ISO 8601 datetime: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(assume))
    return describe(moment.astimezone(zone(timezone)), timezone or "UTC")
