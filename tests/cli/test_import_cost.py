"""`import sprig` and `sprig --help` load only what they need (the figures are in
docs/performance.md, from bench/startup_time.py): checked by what a fresh interpreter has
imported, which does not depend on the machine's load."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import sprig
import sprig.client

_LOADED = "import json, sys; {run}; print(json.dumps(sorted(sys.modules)))"


def _modules_after(run: str) -> set[str]:
    code = _LOADED.format(run=run)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_import_sprig_loads_no_sdk_until_a_name_is_used() -> None:
    loaded = _modules_after("import sprig")
    assert not loaded & {"sprig.client", "httpx", "pydantic"}
    used = _modules_after("from sprig import Client")
    assert {"sprig.client", "httpx", "pydantic"} <= used


def test_sprig_help_loads_no_sdk_server_or_event_loop() -> None:
    run = "sys.argv = ['sprig', '--help']\ntry:\n    import sprig.cli.main as m; m.main()\nexcept SystemExit:\n    pass"
    loaded = _modules_after(f"exec({run!r})")
    assert "typer" in loaded  # the help itself ran
    heavy = {"sprig.client", "sprig.server.app", "httpx", "pydantic", "sqlalchemy", "asyncio"}
    assert not loaded & heavy, loaded & heavy


def test_public_names_are_the_sdks() -> None:
    assert sprig.__all__ == sprig.client.__all__
    for name in sprig.__all__:
        assert getattr(sprig, name) is getattr(sprig.client, name)
    assert sprig.__version__ == version("sprig")
    assert "Client" in dir(sprig)
