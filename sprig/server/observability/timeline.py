"""Where a request's time went: the phases of its chat turn, as they happen.

A chat turn keeps a `Timeline` (context read, recall, query embedding, search, each model
call and its first token, each tool call, persisting). Code deep in the turn (the search
service, the tool runner) records into the current one through a context variable, so no
timer is passed around. The timeline feeds the turn's metrics, its stored trace and the
response's ``Server-Timing`` and ``x-sprig-overhead-ms`` headers (`RequestTimes`).

`phase` also opens an OpenTelemetry span when tracing is on (`tracing`); off, it costs a
clock read and an append.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sprig.server.observability import tracing

# Phases a turn records (also the ``part`` label of the turn-duration histogram):
CONTEXT = "context"  # the session, its parties, tools and history window read
RECALL = "recall"  # docs and memories found for the system template (embed + search within)
EMBED = "embed"  # the query's embedding
SEARCH = "search"  # ranking the docs (after the embedding)
MODEL = "model"  # each model call, from request to its last token
TTFT = "ttft"  # a streamed model call's time to its first token
TOOL = "tool"  # each server-run tool call
PERSIST = "persist"  # the turn's entries (and its trace) written
PHASES = (CONTEXT, RECALL, EMBED, SEARCH, MODEL, TTFT, TOOL, PERSIST)


@dataclass(slots=True)
class Phase:
    name: str
    start: float  # seconds after the turn began
    seconds: float
    detail: str | None = None  # the tool's or model's name


@dataclass
class Timeline:
    """A turn's phases, in the order they ended."""

    started: float = field(default_factory=time.perf_counter)
    phases: list[Phase] = field(default_factory=list)

    def add(self, name: str, began: float, detail: str | None = None) -> float:
        """Records a phase that began at ``began`` (``perf_counter``) and ends now."""
        now = time.perf_counter()
        self.phases.append(Phase(name, began - self.started, now - began, detail))
        return now - began

    def total(self, name: str) -> float:
        return sum(p.seconds for p in self.phases if p.name == name)

    def sums(self) -> dict[str, float]:
        """Seconds per phase name over the turn; ``ttft``: the first model call's."""
        out: dict[str, float] = {}
        for p in self.phases:
            if p.name == TTFT and TTFT in out:
                continue
            out[p.name] = out.get(p.name, 0.0) + p.seconds
        return out

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def as_list(self) -> list[dict[str, Any]]:
        """The phases in milliseconds, for a stored trace."""
        return [
            {
                "name": p.name,
                "start_ms": round(p.start * 1000, 3),
                "duration_ms": round(p.seconds * 1000, 3),
                **({"detail": p.detail} if p.detail else {}),
            }
            for p in self.phases
        ]


_CURRENT: ContextVar[Timeline | None] = ContextVar("sprig_timeline", default=None)


def current() -> Timeline | None:
    return _CURRENT.get()


def begin_turn() -> Timeline:
    """A new timeline, current from here on in this context and shown in the response's
    headers (when the request has `RequestTimes`)."""
    timeline = Timeline()
    _CURRENT.set(timeline)
    times = _REQUEST.get()
    if times is not None:
        times.turn = timeline
    return timeline


def use(timeline: Timeline) -> None:
    """Makes ``timeline`` current (a streamed turn's generator runs in another task)."""
    _CURRENT.set(timeline)


@contextmanager
def phase(
    name: str,
    span: str | None = None,
    attributes: dict[str, Any] | None = None,
    *,
    detail: str | None = None,
    kind: str = "INTERNAL",
) -> Iterator[Any]:
    """Times ``name`` into the current timeline (if any); with tracing on, also a span
    named ``span`` (default ``sprig.<name>``). Yields the span (or None) for attributes."""
    began = time.perf_counter()
    timeline = _CURRENT.get()
    with tracing.span(span or f"sprig.{name}", attributes, kind) as opened:
        try:
            yield opened
        finally:
            if timeline is not None:
                timeline.add(name, began, detail)


# -- the request's headers ------------------------------------------------------------------


@dataclass(slots=True)
class RequestTimes:
    """Set by the edge middleware for each HTTP request; a turn in it registers here."""

    started: float
    turn: Timeline | None = None

    def headers(self, now: float) -> list[tuple[bytes, bytes]]:
        """``Server-Timing`` (``app``: until the response started; then the turn's phases
        so far, summed by name) and ``x-sprig-overhead-ms`` (``app`` minus model time)."""
        app = (now - self.started) * 1000
        parts = [f"app;dur={app:.3f}"]
        model = 0.0
        if self.turn is not None:
            sums = self.turn.sums()
            parts += [f"{name};dur={seconds * 1000:.3f}" for name, seconds in sums.items()]
            model = sums.get(MODEL, 0.0) * 1000
        overhead = max(app - model, 0.0)
        return [
            (b"server-timing", ", ".join(parts).encode()),
            (b"x-sprig-overhead-ms", f"{overhead:.3f}".encode()),
        ]


_REQUEST: ContextVar[RequestTimes | None] = ContextVar("sprig_request_times", default=None)


def begin_request(started: float) -> RequestTimes:
    times = RequestTimes(started)
    _REQUEST.set(times)
    return times
