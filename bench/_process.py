"""A real ``sprig serve`` process for the benches that measure Sprig as a user's client sees it.

The server runs from this checkout (``python -m sprig.cli.main serve``) on a free loopback
port, with a data dir of the bench, its own API key and none of the caller's ``SPRIG_*`` or
``JULEP_*`` settings (only those given); its output goes to ``<data dir>.log``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sprig_serve(
    data_dir: Path, env: dict[str, str], args: Sequence[str] = ()
) -> Iterator[httpx.Client]:
    """A `sprig serve` on a free port (with ``args``, e.g. ``--workers 2``); a client with
    its key, closed and stopped on exit."""
    key, port = "sk-bench-" + secrets.token_hex(16), free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SPRIG_", "JULEP_"))}
    cmd = [sys.executable, "-m", "sprig.cli.main", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--data-dir", str(data_dir), *args]
    log_path = data_dir.parent / f"{data_dir.name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            cmd, cwd=ROOT, env={**clean, "SPRIG_API_KEY": key, **env}, stdout=log, stderr=log
        )
        headers = {"Authorization": f"Bearer {key}"}
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600
            ) as client:
                _wait_ready(client, process, log_path)
                yield client
        finally:
            process.terminate()
            process.wait(30)


def _wait_ready(client: httpx.Client, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace")
            raise RuntimeError(f"sprig serve exited ({process.returncode}):\n{text[-3000:]}")
        try:
            if client.get("/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("sprig serve did not become ready")


def call(client: httpx.Client, method: str, path: str, body: Any = None) -> Any:
    """One request; its JSON body, or an error naming the route and the answer."""
    response = client.request(method, path, json=body)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
    return response.json()
