"""Run a blocking producer in a worker thread and consume its items asynchronously.

The producer gets an `emit` function and a `threading.Event` it must check between items.
Closing the consumer (``aclose()``, task cancellation, an exception) sets the event and
waits for the producer to return, so generation has stopped when the close completes.
A job still queued behind another one is withdrawn without ever running.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import Executor, Future
from typing import Generic, TypeVar

T = TypeVar("T")
Emit = Callable[[T], None]
Producer = Callable[[Emit[T], threading.Event], None]


class _End:
    pass


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Channel(Generic[T]):
    """Thread-to-loop hand-off of items, the end mark and errors."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[T | _End | _Failure] = asyncio.Queue()

    def put(self, item: T | _End | _Failure) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def run(self, produce: Producer[T], cancel: threading.Event) -> None:
        end: _End | _Failure = _End()
        try:
            produce(self.put, cancel)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            end = _Failure(exc)
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody listens any more
            self.put(end)


async def stream_from_thread(executor: Executor, produce: Producer[T]) -> AsyncGenerator[T, None]:
    channel: _Channel[T] = _Channel(asyncio.get_running_loop())
    cancel = threading.Event()
    future = executor.submit(channel.run, produce, cancel)
    try:
        while True:
            item = await channel.queue.get()
            if isinstance(item, _End):
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        cancel.set()
        await _settle(future)


async def _settle(future: Future[None]) -> None:
    """Wait for a started job to notice the cancel flag; withdraw one not yet started."""
    if future.cancel():
        return
    await asyncio.shield(asyncio.wrap_future(future))
