"""Worker processes that render untrusted templates, each owned by one thread of a small
executor (the event loop only awaits). A worker late by more than the time limit (plus a
grace for the clean in-process stop) is killed and replaced; so is one that died."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jinja2 import TemplateError

from .limits import TemplateLimits, time_limit_error
from .worker import write_frame

GRACE_SECONDS = 0.5  # the sandbox stops itself at the time limit; the kill is the backstop
STARTUP_SECONDS = 30.0
PACKAGE_DIR = Path(__file__).resolve().parent

# Load this package by path under another name: the worker imports jinja2 and the standard
# library only, not Sprig (whose SDK import alone takes ~0.7 s). It runs niced: on a busy
# machine the server's own requests come before untrusted templates.
_BOOT = """\
import importlib.util, os, sys
os.nice(10)
sys.path.pop(0)
spec = importlib.util.spec_from_file_location(
    "sprig_templating", sys.argv[1] + "/__init__.py", submodule_search_locations=[sys.argv[1]]
)
module = importlib.util.module_from_spec(spec)
sys.modules["sprig_templating"] = module
spec.loader.exec_module(module)
from sprig_templating.worker import serve
serve(int(sys.argv[2]))
"""


class _Late(Exception):
    pass


class _Died(Exception):
    pass


class _Process:
    def __init__(self, memory_mb: int) -> None:
        self.popen = subprocess.Popen(  # noqa: S603 (this Python, a fixed program)
            [sys.executable, "-c", _BOOT, str(PACKAGE_DIR), str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert self.popen.stdin is not None
        assert self.popen.stdout is not None
        self.to_fd, self.from_fd = self.popen.stdin.fileno(), self.popen.stdout.fileno()
        self.ready = False

    def alive(self) -> bool:
        return self.popen.poll() is None

    def request(self, payload: bytes, timeout: float) -> bytes:
        if not self.ready:
            if self._read(time.monotonic() + STARTUP_SECONDS) != b"ready":
                raise _Died
            self.ready = True
        try:
            write_frame(self.to_fd, payload)
        except OSError as err:
            raise _Died from err
        return self._read(time.monotonic() + timeout)

    def _read(self, deadline: float) -> bytes:
        header = self._read_exact(4, deadline)
        return self._read_exact(int.from_bytes(header, "big"), deadline)

    def _read_exact(self, n: int, deadline: float) -> bytes:
        parts: list[bytes] = []
        while n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_fd], [], [], left)[0]:
                raise _Late
            chunk = os.read(self.from_fd, min(n, 1 << 20))
            if not chunk:
                raise _Died
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()
        self.popen.wait()
        for pipe in (self.popen.stdin, self.popen.stdout):
            if pipe is not None:
                pipe.close()


class WorkerPool:
    """``workers`` processes at most, started when first needed."""

    def __init__(self, workers: int = 2, memory_mb: int = 512) -> None:
        self.memory_mb = memory_mb
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="sprig-templates")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._processes: set[_Process] = set()
        self._closed = False

    async def render(
        self, sources: Sequence[str], variables: dict[str, Any], limits: TemplateLimits
    ) -> list[str]:
        """Raises ``TemplateError`` (its message for the template's author)."""
        request = {"sources": list(sources), "variables": variables, "limits": limits.as_dict()}
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, payload, limits)

    def _call(self, payload: bytes, limits: TemplateLimits) -> list[str]:
        process = self._process()
        try:
            reply = process.request(payload, limits.time_limit + GRACE_SECONDS)
        except _Late:
            self._replace(process)
            raise time_limit_error(limits) from None
        except _Died:
            code = process.popen.poll()
            self._replace(process)
            raise TemplateError(f"the template worker stopped (exit status {code})") from None
        answer = json.loads(reply)
        if answer.get("stopping"):
            self._replace(process)
        if "error" in answer:
            raise TemplateError(answer["error"])
        return list(answer["texts"])

    def _process(self) -> _Process:
        process: _Process | None = getattr(self._local, "process", None)
        if process is None or not process.alive():
            if process is not None:
                self._forget(process)
            process = self._start()
        return process

    def _start(self) -> _Process:
        with self._lock:
            if self._closed:
                raise TemplateError("the server is shutting down")
            process = _Process(self.memory_mb)
            self._processes.add(process)
        self._local.process = process
        return process

    def _forget(self, process: _Process) -> None:
        process.kill()
        with self._lock:
            self._processes.discard(process)

    def _replace(self, process: _Process) -> None:
        """Kill it and start its successor now, so it is ready for the next request."""
        self._forget(process)
        self._local.process = None
        self._start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            processes, self._processes = list(self._processes), set()
        for process in processes:
            process.kill()
        self._executor.shutdown(wait=False, cancel_futures=True)
