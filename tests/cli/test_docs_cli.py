"""`sprig docs add` loads files and folders (text, Markdown) with their source; `search` ranks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import API_KEY, auth


def run_docs(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPRIG_API_KEY": API_KEY}
    return subprocess.run(
        [sys.executable, "-m", "sprig.cli.main", "docs", *args, "--url", url],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_add_folder_then_search(live_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    (folder / "sub").mkdir(parents=True)
    (folder / "tides.md").write_text("# Tides\nThe moon's gravity pulls the oceans into tides.")
    (folder / "sub" / "lava.txt").write_text("Volcanoes erupt lava when magma rises.")
    (folder / "image.png").write_bytes(b"\x89PNG")
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        agent = c.post("/agents", json={"name": "kb"}).json()["id"]
    added = run_docs(live_url, "add", str(folder), "--agent", agent)
    assert added.returncode == 0, added.stderr
    assert "skipped (not text or Markdown)" in added.stderr
    assert "Loaded 2 document(s)." in added.stderr
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        docs = c.get(f"/agents/{agent}/docs").json()["items"]
    assert sorted(d["title"] for d in docs) == ["lava", "tides"]
    assert {d["metadata"]["source"] for d in docs} == {
        str(folder / "tides.md"),
        str(folder / "sub" / "lava.txt"),
    }
    found = run_docs(live_url, "search", "magma volcano eruption", "--agent", agent)
    assert found.returncode == 0, found.stderr
    rows = [line for line in found.stdout.splitlines() if line.strip().startswith("│ 1")]
    assert rows and "lava" in rows[0]
    both = run_docs(live_url, "search", "x")
    assert both.returncode == 2
