"""End-to-end fixtures: real `sprig serve` subprocesses and the legacy julep SDK virtualenvs."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LEGACY_SCRIPTS = Path(__file__).resolve().parent / "legacy_scripts"
STARTUP_DEADLINE_S = 60.0
STOP_DEADLINE_S = 15.0
SCRIPT_DEADLINE_S = 180.0

# name -> pip requirements; a change here rebuilds the cached virtualenv.
LEGACY_VENVS: dict[str, tuple[str, ...]] = {
    "julep-0.2.14": ("julep==0.2.14", "marshmallow<4"),
    "julep-0.3.9": ("julep==0.3.9", "marshmallow<4", "beartype<0.19"),
}


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sprig-tests"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sprig_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sprig.cli.main", *args]


def _clean_env(**extra: str) -> dict[str, str]:
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
            self.port = _free_port()
            self._spawn()
            if self._wait_ready():
                return self
            if "already in use" not in self.stderr_text.lower():
                break
        self._fail("did not become ready")
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        cmd = _sprig_command(
            "serve", "--host", "127.0.0.1", "--port", str(self.port),
            "--data-dir", str(self.data_dir),
        )  # fmt: skip
        out = (self.log_dir / f"stdout-{self.port}.log").open("wb")
        err = (self.log_dir / f"stderr-{self.port}.log").open("wb")
        env = _clean_env(SPRIG_API_KEY=self.api_key, **self.env)
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
        cmd = _sprig_command("keys", "create", "--name", name, "--data-dir", str(self.data_dir))
        done = subprocess.run(
            cmd, cwd=REPO_ROOT, env=_clean_env(), capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            pytest.fail(f"sprig keys create failed ({done.returncode}):\n{done.stderr}")
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        assert lines, f"sprig keys create printed nothing; stderr:\n{done.stderr}"
        return lines[-1]


def _new_key() -> str:
    return "sk-e2e-" + secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A `sprig serve` subprocess shared by the session (fresh data dir, free port)."""
    data_dir = tmp_path_factory.mktemp("live") / "data"
    server = ServerProcess(data_dir=data_dir, api_key=_new_key()).start()
    yield server
    died = not server.alive()
    code = server.stop()
    if died or code not in (0, -signal.SIGTERM):
        server._fail("died during the test session")


@pytest.fixture(scope="session")
def stub_model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A `sprig serve` whose model ``stub`` is a local OpenAI-compatible stub
    (tests/models/fake_openai.py: ``tool:<name>`` makes it call a tool)."""
    from tests.models.fake_openai import FakeOpenAI

    stub = FakeOpenAI(_free_port())
    stub.start()
    model = {"name": "stub", "model": "openai/stub", "api_base": stub.api_base, "api_key": "x"}
    data_dir = tmp_path_factory.mktemp("stubbed") / "data"
    env = {"SPRIG_MODELS": json.dumps([model])}
    server = ServerProcess(data_dir=data_dir, api_key=_new_key(), env=env).start()
    yield server
    server.stop()
    stub.stop()


@pytest.fixture
def server_factory(
    tmp_path: Path,
) -> Iterator[Callable[[Path | None, str | None], ServerProcess]]:
    """Start extra servers (e.g. restart tests); every one is stopped at teardown."""
    started: list[ServerProcess] = []

    def start(data_dir: Path | None = None, api_key: str | None = None) -> ServerProcess:
        server = ServerProcess(
            data_dir=data_dir or tmp_path / "data", api_key=api_key or _new_key()
        )
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


# ---------------------------------------------------------------- legacy SDK virtualenvs


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _venv_stamp(pins: tuple[str, ...]) -> str:
    return json.dumps({"pins": list(pins), "python": sys.version.split()[0]}, sort_keys=True)


def _build_venv(target: Path, pins: tuple[str, ...]) -> None:
    """`python -m venv` without ensurepip, then the main pip installs into it (faster)."""
    staging = target.with_name(f"{target.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(staging)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(_venv_python(staging)), "install"]
    opts = ["--quiet", "--disable-pip-version-check", "--cache-dir", str(_cache_root() / "pip")]
    done = subprocess.run([*pip, *opts, *pins], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(f"building venv {target.name} failed:\n{done.stdout}\n{done.stderr}")
    (staging / "sprig-pins.json").write_text(_venv_stamp(pins))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def ensure_legacy_venv(name: str) -> Path:
    """The cached virtualenv for `name`, built (under a file lock) if missing or stale."""
    pins = LEGACY_VENVS[name]
    root = _cache_root() / "venvs"
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = target / "sprig-pins.json"
        fresh = stamp.exists() and stamp.read_text() == _venv_stamp(pins)
        if not (fresh and _venv_python(target).exists()):
            _build_venv(target, pins)
    return target


@dataclass(frozen=True)
class LegacySdk:
    """A legacy julep SDK in its own virtualenv; runs scripts from legacy_scripts/."""

    name: str
    venv: Path

    def run(
        self,
        script: str,
        base_url: str,
        api_key: str,
        workdir: Path,
        inputs: dict[str, object] | None = None,
    ) -> dict[str, object]:
        """Run legacy_scripts/<script>; `inputs` reaches it as --input JSON; returns --out."""
        stem = f"{self.name}-{Path(script).stem}"
        out = workdir / f"{stem}.out.json"
        cmd = [
            str(_venv_python(self.venv)), str(LEGACY_SCRIPTS / script),
            "--base-url", base_url, "--api-key", api_key, "--out", str(out),
        ]  # fmt: skip
        if inputs is not None:
            (workdir / f"{stem}.in.json").write_text(json.dumps(inputs))
            cmd += ["--input", str(workdir / f"{stem}.in.json")]
        done = subprocess.run(
            cmd, cwd=workdir, env=_clean_env(), capture_output=True, text=True,
            timeout=SCRIPT_DEADLINE_S,
        )  # fmt: skip
        if done.returncode != 0 or not out.exists():
            pytest.fail(
                f"{script} under {self.name} exited {done.returncode}:\n"
                f"--- stdout ---\n{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-8000:]}"
            )
        result: dict[str, object] = json.loads(out.read_text())
        return result


@pytest.fixture(scope="session")
def legacy_sdk() -> Callable[[str], LegacySdk]:
    """Factory: legacy_sdk("julep-0.2.14") -> LegacySdk (venv cached across runs)."""
    built: dict[str, LegacySdk] = {}

    def get(name: str) -> LegacySdk:
        if name not in built:
            built[name] = LegacySdk(name=name, venv=ensure_legacy_venv(name))
        return built[name]

    return get
