"""`sprig keys limits` (show, set, change one, remove one, clear) and `sprig keys usage`."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sprig.server.settings import Settings
from sprig.server.store.db import Database
from sprig.server.usage import store
from sprig.server.usage.limits import tenant_named
from tests.cli.test_cli import sprig

NONE = {
    "requests_per_minute": None,
    "tokens_per_minute": None,
    "tokens_per_day": None,
    "cost_per_month": None,
    "concurrent_streams": None,
}


def limits(data_dir: Path, *args: str) -> dict[str, Any]:
    done = sprig("keys", "limits", "acme", *args, "--json", "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown.pop("tenant") == "acme"
    return dict(shown)


def test_limits_are_shown_set_changed_and_cleared(tmp_path: Path) -> None:
    assert sprig("keys", "create", "--name", "acme", "--data-dir", str(tmp_path)).returncode == 0
    assert limits(tmp_path) == NONE
    both = limits(tmp_path, "--requests-per-minute", "60", "--cost-per-month", "12.5")
    assert both == {**NONE, "requests_per_minute": 60, "cost_per_month": 12.5}
    more = limits(tmp_path, "--tokens-per-day", "1000", "--concurrent-streams", "2")
    assert more == {**both, "tokens_per_day": 1000, "concurrent_streams": 2}
    fewer = limits(tmp_path, "--requests-per-minute", "off")
    assert fewer == {**more, "requests_per_minute": None}
    assert limits(tmp_path) == fewer  # stored
    assert limits(tmp_path, "--clear", "--tokens-per-minute", "500") == {
        **NONE,
        "tokens_per_minute": 500,
    }
    assert limits(tmp_path, "--clear") == NONE
    table = sprig("keys", "limits", "acme", "--data-dir", str(tmp_path)).stdout
    assert "requests_per_minute" in table and "no limit" in table


def test_bad_limits_and_unknown_tenants_are_refused(tmp_path: Path) -> None:
    assert sprig("keys", "create", "--name", "acme", "--data-dir", str(tmp_path)).returncode == 0
    for bad in ("-3", "0", "many"):
        done = sprig("keys", "limits", "acme", "--tokens-per-day", bad, "--data-dir", str(tmp_path))
        assert done.returncode == 2 and "--tokens-per-day" in done.stderr, done.stderr
    done = sprig("keys", "limits", "nobody", "--data-dir", str(tmp_path))
    assert done.returncode == 1 and "No tenant named 'nobody'" in done.stderr
    assert limits(tmp_path) == NONE  # nothing was changed


def _add_usage(data_dir: Path) -> None:
    async def run() -> None:
        db = Database.from_settings(Settings(data_dir=data_dir))
        try:
            dev = await tenant_named(db, "acme")
            today = datetime.now(UTC).date()
            async with db.write() as conn:
                counts = store.Counts(100, 20, 2, 1, 0, 0.25)
                await store.add_usage(conn, dev, today, "gpt-4o-mini", counts)
                await store.add_usage(
                    conn, dev, today, "hashing", store.Counts(0, 0, 0, 0, 7, None)
                )
        finally:
            await db.dispose()

    asyncio.run(run())


def test_usage_by_day_and_model(tmp_path: Path) -> None:
    assert sprig("keys", "create", "--name", "acme", "--data-dir", str(tmp_path)).returncode == 0
    _add_usage(tmp_path)
    done = sprig(
        "keys", "usage", "acme", "--group-by", "model", "--json", "--data-dir", str(tmp_path)
    )
    shown = json.loads(done.stdout)
    assert [r["model"] for r in shown["data"]] == ["gpt-4o-mini", "hashing"]
    assert shown["total"] == {
        "tokens_in": 100,
        "tokens_out": 20,
        "turns": 2,
        "tool_calls": 1,
        "embedded_chunks": 7,
        "cost": 0.25,
    }
    table = sprig("keys", "usage", "acme", "--data-dir", str(tmp_path))
    assert table.returncode == 0, table.stderr
    assert datetime.now(UTC).date().isoformat() in table.stdout and "$0.2500" in table.stdout
    wrong = sprig("keys", "usage", "acme", "--group-by", "week", "--data-dir", str(tmp_path))
    assert wrong.returncode == 2
    backwards = ("--from", "2024-05-02", "--to", "2024-05-01")
    late = sprig("keys", "usage", "acme", *backwards, "--data-dir", str(tmp_path))
    assert late.returncode == 1 and "after" in late.stderr
