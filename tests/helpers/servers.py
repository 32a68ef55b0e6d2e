"""Servers on 127.0.0.1 for the tests: a free port, and an ASGI app under uvicorn in a
thread (the live app, fake providers)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

START_DEADLINE_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThreadedServer:
    """``app`` under uvicorn in a daemon thread with its own event loop; ``config`` goes to
    ``uvicorn.Config`` (``log_level`` is ``warning`` unless given)."""

    def __init__(self, app: Any, port: int | None = None, **config: Any) -> None:
        import uvicorn

        self.port = port or free_port()
        config.setdefault("log_level", "warning")
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, **config)
        )
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + START_DEADLINE_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def serve(app: Any, **config: Any) -> Iterator[str]:
    """Serve ``app`` (see ``ThreadedServer``) for the block; yields its base URL."""
    server = ThreadedServer(app, **config).start()
    try:
        yield server.url
    finally:
        server.stop()
