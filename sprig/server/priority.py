"""Background work yields the CPU to requests.

Jobs (a document's embeddings, memory extraction) run inside ``background_work()``; blocking
work they hand to ``run_blocking`` then runs on one thread with a lower scheduling priority
(10 nicer than the server, on Linux), so a chat turn or a search answering at the same time
gets the cores first, and the job takes whatever is left. Outside a job, ``run_blocking``
is ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import TypeVar

BACKGROUND_NICE = 10  # CFS weight 110 against 1024 at nice 0: about a tenth of a contended core

T = TypeVar("T")
_background: ContextVar[bool] = ContextVar("sprig_background_work", default=False)


@contextlib.contextmanager
def background_work() -> Iterator[None]:
    """Blocking work handed to ``run_blocking`` inside runs at a low priority."""
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


def _lower_priority() -> None:
    if sys.platform.startswith("linux"):  # per-thread there; elsewhere it would be the process
        thread = threading.get_native_id()
        with contextlib.suppress(OSError):
            nice = os.getpriority(os.PRIO_PROCESS, thread) + BACKGROUND_NICE
            os.setpriority(os.PRIO_PROCESS, thread, min(nice, 19))


@functools.cache
def _background_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(1, "sprig-background", initializer=_lower_priority)


async def run_blocking(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` off the event loop: on the low-priority thread inside a job."""
    if not _background.get():
        return await asyncio.to_thread(fn, *args)
    return await asyncio.get_running_loop().run_in_executor(_background_pool(), fn, *args)
