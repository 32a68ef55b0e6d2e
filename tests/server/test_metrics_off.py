"""``SPRIG_METRICS=false``: nothing is recorded (the request path pays no metric update) and
``/metrics`` is 404; an app with metrics on records again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from sprig.server.observability import metrics
from sprig.server.settings import Settings
from tests.helpers.app import make_settings

HEALTHZ = {"method": "GET", "route": "/healthz", "status": "200"}


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    yield make_settings(tmp_path / "data", metrics=False)
    metrics.record(True)  # as the next app with metrics on would


def healthz_count() -> float:
    return REGISTRY.get_sample_value("sprig_http_requests_total", HEALTHZ) or 0.0


async def test_nothing_is_recorded_when_metrics_are_off(client: httpx.AsyncClient) -> None:
    before = healthz_count()
    assert (await client.get("/healthz")).status_code == 200
    assert healthz_count() == before
    assert (await client.get("/metrics")).status_code == 404
    metrics.record(True)
    assert (await client.get("/healthz")).status_code == 200
    assert healthz_count() == before + 1
