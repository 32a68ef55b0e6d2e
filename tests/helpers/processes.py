"""`sprig serve` and `sprig keys` as real subprocesses, for the end-to-end tests."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.helpers.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_DEADLINE_S = 60.0
STOP_DEADLINE_S = 15.0


def sprig_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sprig.cli.main", *args]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JULEP_", "SPRIG_"))}
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    """One `sprig serve` subprocess; its output goes to files so it can never block on a pipe."""

    data_dir: Path
    api_key: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # extra SPRIG_* settings
    log_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_dir = self.data_dir.parent / f"{self.data_dir.name}-logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr_text(self) -> str:
        path = self.log_dir / f"stderr-{self.port}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> ServerProcess:
        for _attempt in range(3):
            self.port = free_port()
            self._spawn()
            if self._wait_ready():
                return self
            if "already in use" not in self.stderr_text.lower():
                break
        self._fail("did not become ready")
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        cmd = sprig_command(
            "serve", "--host", "127.0.0.1", "--port", str(self.port),
            "--data-dir", str(self.data_dir),
        )  # fmt: skip
        out = (self.log_dir / f"stdout-{self.port}.log").open("wb")
        err = (self.log_dir / f"stderr-{self.port}.log").open("wb")
        env = clean_env(SPRIG_API_KEY=self.api_key, **self.env)
        self.process = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=err)
        out.close()
        err.close()

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        """Terminate politely, then kill; returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_DEADLINE_S)
        return self.process.returncode

    def _fail(self, what: str) -> None:
        code = self.process.poll() if self.process else None
        pytest.fail(
            f"sprig serve on port {self.port} {what} (exit code {code}).\n"
            f"--- stderr ---\n{self.stderr_text[-8000:]}",
            pytrace=False,
        )

    def create_key(self, name: str) -> str:
        """`sprig keys create`: a new tenant; its key is alone on the last stdout line."""
        cmd = sprig_command("keys", "create", "--name", name, "--data-dir", str(self.data_dir))
        done = subprocess.run(
            cmd, cwd=REPO_ROOT, env=clean_env(), capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            pytest.fail(f"sprig keys create failed ({done.returncode}):\n{done.stderr}")
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        assert lines, f"sprig keys create printed nothing; stderr:\n{done.stderr}"
        return lines[-1]


def new_key() -> str:
    return "sk-e2e-" + secrets.token_urlsafe(24)
