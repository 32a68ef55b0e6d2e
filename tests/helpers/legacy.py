"""The legacy julep 0.x SDKs, each in a cached virtualenv of its own, running the scripts of
tests/e2e/legacy_scripts/."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.processes import REPO_ROOT, clean_env

LEGACY_SCRIPTS = REPO_ROOT / "tests" / "e2e" / "legacy_scripts"
SCRIPT_DEADLINE_S = 180.0

# name -> pip requirements; a change here rebuilds the cached virtualenv.
LEGACY_VENVS: dict[str, tuple[str, ...]] = {
    "julep-0.2.14": ("julep==0.2.14", "marshmallow<4"),
    "julep-0.3.9": ("julep==0.3.9", "marshmallow<4", "beartype<0.19"),
}


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sprig-tests"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _venv_stamp(pins: tuple[str, ...]) -> str:
    return json.dumps({"pins": list(pins), "python": sys.version.split()[0]}, sort_keys=True)


def _build_venv(target: Path, pins: tuple[str, ...]) -> None:
    """`python -m venv` without ensurepip, then the main pip installs into it (faster)."""
    staging = target.with_name(f"{target.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(staging)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv_python(staging)), "install"]
    opts = ["--quiet", "--disable-pip-version-check", "--cache-dir", str(cache_root() / "pip")]
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
    root = cache_root() / "venvs"
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = target / "sprig-pins.json"
        fresh = stamp.exists() and stamp.read_text() == _venv_stamp(pins)
        if not (fresh and venv_python(target).exists()):
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
            str(venv_python(self.venv)), str(LEGACY_SCRIPTS / script),
            "--base-url", base_url, "--api-key", api_key, "--out", str(out),
        ]  # fmt: skip
        if inputs is not None:
            (workdir / f"{stem}.in.json").write_text(json.dumps(inputs))
            cmd += ["--input", str(workdir / f"{stem}.in.json")]
        done = subprocess.run(
            cmd, cwd=workdir, env=clean_env(), capture_output=True, text=True,
            timeout=SCRIPT_DEADLINE_S,
        )  # fmt: skip
        if done.returncode != 0 or not out.exists():
            pytest.fail(
                f"{script} under {self.name} exited {done.returncode}:\n"
                f"--- stdout ---\n{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-8000:]}"
            )
        result: dict[str, object] = json.loads(out.read_text())
        return result
