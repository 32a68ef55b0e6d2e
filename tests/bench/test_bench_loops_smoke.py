"""bench/local_model_loops.py still runs: at its smallest (--quick: 5 short replies per
phase, two real `sprig serve` processes with the bundled model) it prints its table and
one JSON line with the figures docs/performance.md quotes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_local_model_loops_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "local_model_loops.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) > 1, "a table, then the JSON line"
    figures = json.loads(lines[-1])
    assert set(figures["phases"]) == {"before", "after"}
    for phase in figures["phases"].values():
        assert phase["replies"] == 5
        assert 0 <= phase["looping_or_capped"] <= 1 and phase["reply_s_p50"] > 0
        assert phase["tokens_per_s_p50"] > 0 and phase["later_turn_prompt_tokens_mean"] > 0
