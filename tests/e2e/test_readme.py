"""The README's examples, run as a newcomer would: a real `sprig serve` started fresh in a
folder (it makes the key and `.sprig/api_key`), then every shell block in order in one bash,
then every Python block, from that folder; then docs/api.md's examples against the same
server. The model is the built-in `echo` (the examples
are about the API; tests/e2e/test_chat_local.py chats with the bundled model)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.processes import ServerProcess

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
API_PAGE = README.parent / "docs" / "api.md"
DEFAULT_URL = "http://127.0.0.1:8080"
SETUP = ("pip install", "sprig serve")  # the set-up commands: CI runs those itself


def blocks(language: str, page: Path = README) -> list[str]:
    pattern = re.compile(rf"^```{language}\n(.*?)^```", re.S | re.M)
    return pattern.findall(page.read_text())


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ServerProcess]]:
    folder = tmp_path_factory.mktemp("newcomer")
    env = {"SPRIG_DEFAULT_MODEL": "echo"}
    server = ServerProcess(data_dir=folder / ".sprig", api_key="", env=env).start()
    yield folder, server
    server.stop()


def _env(server: ServerProcess) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPRIG_", "JULEP_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SPRIG_BASE_URL"] = server.base_url
    return env


def test_the_first_start_wrote_the_key(newcomer: tuple[Path, ServerProcess]) -> None:
    folder, _ = newcomer
    key_file = folder / ".sprig" / "api_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text().strip()


def test_the_shell_examples_run(newcomer: tuple[Path, ServerProcess]) -> None:
    folder, server = newcomer
    runnable = [b for b in blocks("bash") if not b.lstrip().startswith(SETUP)]
    assert len(runnable) >= 3
    script = "\n".join(runnable).replace(DEFAULT_URL, server.base_url)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder, env=_env(server), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert '"title":"plant"' in out  # the notes were recalled into the chat
    assert "When is the office plant watered?" in out  # echo: the reply repeats the question
    assert "data: [DONE]" in out and '"delta"' in out  # the streamed chat


@pytest.mark.parametrize("number", range(len(blocks("python"))))
def test_the_python_examples_run(newcomer: tuple[Path, ServerProcess], number: int) -> None:
    folder, server = newcomer
    code = blocks("python")[number].replace(DEFAULT_URL, server.base_url)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=folder, env=_env(server), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "Hello!"  # the echo model's reply


def test_the_api_page_examples_run(newcomer: tuple[Path, ServerProcess]) -> None:
    folder, server = newcomer
    key = (folder / ".sprig" / "api_key").read_text().strip()
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}) as c:
        agent = c.post("/agents", json={"name": "Docs", "about": "api.md"}).json()["id"]
        session = c.post("/sessions", json={"agent": agent}).json()["id"]
        missing = c.get(f"/agents/{uuid.uuid4()}").json()
    env = {**_env(server), "KEY": key, "SESSION": session}
    for block in blocks("bash", API_PAGE):
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.replace(DEFAULT_URL, server.base_url)],
            cwd=folder, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert "data: [DONE]" in done.stdout and '"delta"' in done.stdout
    errors = [json.loads(b) for b in blocks("json", API_PAGE) if '"error"' in b]
    assert errors  # the page shows the error shape ...
    for shown in errors:  # ... as the server sends it
        assert shown.keys() == missing.keys() and shown["error"].keys() == missing["error"].keys()
        assert shown["error"]["code"] == missing["error"]["code"]
        assert (
            re.sub(r"[0-9a-f-]{36}", "0191…", missing["error"]["message"])
            == shown["error"]["message"]
        )


def test_ci_runs_the_readmes_test_command() -> None:
    """``.ci/run`` ends with the README's install-and-test command, word for word."""
    commands = [line for b in blocks("bash") for line in b.splitlines() if "pytest" in line]
    ci = (README.parent / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert commands == [ci], (commands, ci)
    assert "--cov-fail-under=" in ci
