"""SDK test fixtures: retries that do not wait. Live SDK tests use the suite's ``live_url``
(tests/helpers/fixtures.py), whose scripted model is the test's ``model``."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries do not really wait; the waits they asked for are recorded."""
    waits: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("sprig.client._base._sync_sleep", waits.append)
    monkeypatch.setattr("sprig.client._base._async_sleep", fake_async_sleep)
    return waits
