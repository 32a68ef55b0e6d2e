"""The `sprig` command: fast help, keys create/list/revoke, migrate."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pexpect


def sprig(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sprig.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_does_not_import_the_server() -> None:
    code = (
        "import sys; from sprig.cli.main import app; "
        "assert 'sprig.server.app' not in sys.modules; assert 'fastapi' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert "serve" in sprig("--help").stdout


def test_keys_lifecycle(tmp_path: Path) -> None:
    created = sprig("keys", "create", "--name", "acme", "--data-dir", str(tmp_path))
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("sk-sprig-")
    listed = sprig("keys", "list", "--data-dir", str(tmp_path))
    assert "acme" in listed.stdout
    assert key not in listed.stdout  # only the prefix is shown
    again = sprig("keys", "create", "--name", "acme", "--data-dir", str(tmp_path))
    assert again.returncode == 1
    assert "already exists" in again.stderr
    revoked = sprig("keys", "revoke", "acme", "--data-dir", str(tmp_path))
    assert revoked.returncode == 0
    assert "Revoked 1" in revoked.stderr
    assert sprig("keys", "revoke", "acme", "--data-dir", str(tmp_path)).returncode == 1


def test_migrate(tmp_path: Path) -> None:
    result = sprig("migrate", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    from alembic.script import ScriptDirectory

    from sprig.server.store.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"revision {head}" in result.stderr
    assert (tmp_path / "sprig.db").exists()


def test_keys_list_prints_whole_ids_to_revoke(tmp_path: Path) -> None:
    for name in ("acme", "globex"):
        assert sprig("keys", "create", "--name", name, "--data-dir", str(tmp_path)).returncode == 0
    listed = sprig("keys", "list", "--json", "--data-dir", str(tmp_path))
    keys = json.loads(listed.stdout)
    assert [k["tenant"] for k in keys] == ["acme", "globex"]
    assert all(str(uuid.UUID(k["id"])) == k["id"] for k in keys)
    assert all(k["prefix"].startswith("sk-sprig-") and k["revoked_at"] is None for k in keys)
    # in a narrow terminal the table keeps whole ids (they wrap on screen, never cut)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "sprig.cli.main", "keys", "list", "--data-dir", str(tmp_path)],
        encoding="utf-8",
        timeout=60,
        dimensions=(24, 60),
        env={**os.environ, "TERM": "xterm-256color"},
    )
    child.expect(pexpect.EOF)
    rows = child.before.replace("\r\n", "\n").splitlines()
    assert rows[0].split() == ["ID", "TENANT", "NAME", "PREFIX", "CREATED", "REVOKED"]
    assert [r.split()[:2] for r in rows[1:]] == [[k["id"], k["tenant"]] for k in keys]
    revoked = sprig("keys", "revoke", rows[2].split()[0], "--data-dir", str(tmp_path))
    assert revoked.returncode == 0 and "Revoked 1" in revoked.stderr
    after = json.loads(sprig("keys", "list", "--json", "--data-dir", str(tmp_path)).stdout)
    assert [k["revoked_at"] is not None for k in after] == [False, True]
    shown = sprig("keys", "list", "--data-dir", str(tmp_path)).stdout.splitlines()
    assert shown[2].split()[-1] == after[1]["revoked_at"] and len(shown[1].split()) == 5


def commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command of the `sprig` tree, as its words (``("docs", "add")``)."""
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        sub = getattr(command, "commands", None)
        found += commands(command, (*path, name)) if sub else [(*path, name)]
    return found


def all_commands() -> list[tuple[str, ...]]:
    import typer

    from sprig.cli.main import app

    return commands(typer.main.get_command(app))


def test_help_is_clean() -> None:
    """No typer type column (`<str>`, `<bool>`, `<list[Path]>`) nor `{paths}...` usage."""
    env = {**os.environ, "COLUMNS": "120", "TERMINAL_WIDTH": "120"}
    for words in [(), ("docs",), ("keys",), *all_commands()]:
        shown = subprocess.run(
            [sys.executable, "-m", "sprig.cli.main", *words, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=True,
        ).stdout
        assert "Usage:" in shown and "--help" in shown, words
        assert not re.search(r"<[a-zA-Z][^>]*>|\{\w+\}|list\[", shown), (words, shown)
    shown = sprig("docs", "add", "--help").stdout
    assert "docs add [OPTIONS] PATH..." in shown
    assert re.search(r"--agent\s+NAME\|ID", shown) and re.search(r"--url\s+URL", shown)


def test_docs_cli_md_names_every_command_and_option() -> None:
    """docs/cli.md has a row per command naming each of its options (in its first row)."""
    import typer

    from sprig.cli.main import app

    text = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    root = typer.main.get_command(app)
    for words in all_commands():
        rows = [
            line for line in text.splitlines() if line.startswith(f"| `sprig {' '.join(words)}")
        ]
        assert rows, f"docs/cli.md has no row for sprig {' '.join(words)}"
        command: Any = root
        for word in words:
            command = command.commands[word]
        for param in command.params:
            for opt in param.opts:  # (a flag's --no- form is not listed)
                if opt.startswith("--"):
                    assert opt in rows[0], f"docs/cli.md: sprig {' '.join(words)} lacks {opt}"
