"""`sprig docs add` loads files and folders (text, Markdown) with their source; `search` ranks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pexpect
import pytest

from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, auth, make_settings


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    """A small request limit, so that a big file is refused."""
    return make_settings(tmp_path / "live", max_request_bytes=4096)


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


def spawn_shell(command: str) -> pexpect.spawn:
    """``command`` in bash on a pseudo-terminal (a newcomer's terminal, 100 columns)."""
    env = {**os.environ, "SPRIG_API_KEY": API_KEY, "TERM": "xterm-256color"}
    return pexpect.spawn(
        "bash", ["-c", command], env=env, encoding="utf-8", timeout=60, dimensions=(40, 100)
    )


def finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    child.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before).replace("\r\n", "\n")
    screen = "\n".join(line.split("\r")[-1] for line in text.split("\n"))  # \r: line redrawn
    return int(child.exitstatus), screen


def id_lines(text: str) -> dict[str, str]:
    """The ``id<TAB>path`` lines of ``text``, path -> id."""
    found = re.findall(r"^([0-9a-f-]{36})\t(\S+)$", text, re.MULTILINE)
    return {path: doc_id for doc_id, path in found}


def test_add_writes_ids_to_stdout_in_a_terminal(live_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(3):
        (folder / f"note{i}.md").write_text(f"# Note {i}\nFact number {i}.")
    (folder / "big.txt").write_text("x" * 8000)  # past the server's request limit: refused
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        agent = c.post("/agents", json={"name": "Keeper"}).json()["id"]
        for other in ("Keeper2", "Keeper3"):  # the same files again: a new owner each run
            c.post("/agents", json={"name": other})
    main = f"{sys.executable} -m sprig.cli.main docs add {folder} --url {live_url} --agent Keeper"
    files = sorted(str(p) for p in folder.glob("*.md"))

    ids_file = tmp_path / "ids.txt"
    status, screen = finish(spawn_shell(f"{main} > {ids_file}"))  # progress on the terminal
    assert status == 1, screen  # one file was refused: named, the others loaded
    assert f"not loaded: {folder / 'big.txt'}" in screen
    assert "1 file(s) were not loaded." in screen
    written = ids_file.read_text()
    assert sorted(id_lines(written)) == files
    assert len(written.splitlines()) == len(files)  # nothing but the id lines
    assert f"Loaded {len(files)} document(s)." in screen
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        docs = c.get(f"/agents/{agent}/docs", params={"limit": 100}).json()["items"]
    by_source = {d["metadata"]["source"]: d["id"] for d in docs}
    assert {p: by_source[p] for p in files} == id_lines(written)

    status, screen = finish(spawn_shell(f"{main}2"))  # stdout and stderr on the same terminal
    assert sorted(id_lines(screen)) == files and "Loaded 3 document(s)." in screen
    status, screen = finish(spawn_shell(f"{main}3 2>/dev/null"))  # standard output only
    assert sorted(id_lines(screen)) == files and "Loaded" not in screen


def test_add_takes_an_agent_name_once_unambiguous(live_url: str, tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("Volcanoes erupt lava when magma rises.")
    with httpx.Client(base_url=live_url, headers=auth(API_KEY)) as c:
        first = c.post("/agents", json={"name": "Twin"}).json()["id"]
        added = run_docs(live_url, "add", str(note), "--agent", "Twin")
        assert added.returncode == 0, added.stderr
        assert added.stdout == f"{id_lines(added.stdout)[str(note)]}\t{note}\n"
        assert len(c.get(f"/agents/{first}/docs").json()["items"]) == 1
        second = c.post("/agents", json={"name": "Twin"}).json()["id"]
    ambiguous = run_docs(live_url, "add", str(note), "--agent", "Twin")
    assert ambiguous.returncode == 1 and ambiguous.stdout == ""
    assert "2 agents are named 'Twin'" in ambiguous.stderr
    assert first in ambiguous.stderr and second in ambiguous.stderr
    missing = run_docs(live_url, "add", str(note), "--agent", "Nobody")
    assert missing.returncode == 1 and "No agent named 'Nobody'" in missing.stderr
    by_id = run_docs(live_url, "search", "magma", "--agent", second)
    assert by_id.returncode == 0 and "│ 1" not in by_id.stdout  # the twin has no docs
    by_name = run_docs(live_url, "search", "magma", "--agent", first)
    assert "note" in by_name.stdout
