"""The `sprig` command: fast help, keys create/list/revoke, migrate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


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
