"""Usage and quotas in tests: a clock the quotas read (moved by hand), limits set on a
tenant as `sprig keys limits` sets them, another tenant with its key."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from sprig.server.auth.keys import create_tenant
from sprig.server.runtime import Runtime
from sprig.server.usage.limits import TenantLimits, change_limits


class Clock:
    """Epoch seconds that move only when told to."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def frozen(runtime: Runtime, now: float | None = None) -> Clock:
    """Give the runtime's quotas (and usage days) a hand-moved clock."""
    clock = Clock(now)
    runtime.quotas.clock = clock
    runtime.usage.meter.clock = clock
    return clock


async def limit(runtime: Runtime, developer_id: UUID, **limits: Any) -> TenantLimits:
    """Set limits on the tenant (as `sprig keys limits` does); this process applies them now."""
    done = await change_limits(runtime.db, developer_id, limits, clear=True)
    runtime.quotas.limits.invalidate()
    await runtime.quotas.limits.get(developer_id)
    return done


async def other_tenant(runtime: Runtime, name: str) -> tuple[UUID, dict[str, str]]:
    """A new tenant's id and auth header."""
    developer_id, key = await create_tenant(runtime.db, name, runtime.secret)
    return developer_id, {"Authorization": f"Bearer {key}"}


def default_tenant(runtime: Runtime) -> UUID:
    assert runtime.startup_key is not None
    return runtime.startup_key.developer_id
