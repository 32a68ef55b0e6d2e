"""Prometheus metrics (``prometheus-client``), one set per process.

With several API processes (``sprig serve --workers N``) each writes its samples under
``PROMETHEUS_MULTIPROC_DIR`` (set by ``serve`` before the processes start) and
``/metrics`` merges them. Labels are bounded: route templates, never paths; model names;
job kinds and states; outcomes. No ids.
"""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Latency buckets (seconds) from a millisecond to a minute: API calls and model turns alike.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

HTTP_REQUESTS = Counter(
    "sprig_http_requests", "HTTP requests answered.", ["method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "sprig_http_request_duration_seconds",
    "Time until the response started.",
    ["method", "route"],
    buckets=BUCKETS,
)
CHAT_TURNS = Counter("sprig_chat_turns", "Chat turns run.", ["model", "outcome"])
CHAT_SECONDS = Histogram(
    "sprig_chat_turn_duration_seconds",
    "Chat turn time by part: the whole turn, the model's calls, Sprig's own (the rest).",
    ["part"],
    buckets=BUCKETS,
)
TOKENS = Counter(
    "sprig_tokens",
    "Tokens of chat turns, by model and tenant (its name; `other` past the bound).",
    ["model", "tenant", "direction"],
)
JOBS = Gauge(
    "sprig_jobs", "Background jobs by kind and state.", ["kind", "state"],
    multiprocess_mode="mostrecent",
)  # fmt: skip
OLDEST_PENDING = Gauge(
    "sprig_jobs_oldest_pending_age_seconds",
    "Age of the oldest job waiting to run (0: none).",
    multiprocess_mode="mostrecent",
)
TOOL_CALLS = Counter(
    "sprig_tool_calls", "Tool calls run by the server, by tool type.", ["type", "outcome"]
)
SEARCH_SECONDS = Histogram(
    "sprig_search_duration_seconds",
    "Document searches (and chat recall), by backend and mode.",
    ["backend", "mode"],
    buckets=BUCKETS,
)
EMBEDDED = Counter("sprig_embedded_texts", "Texts embedded, by embedding model.", ["model"])
EMBED_SECONDS = Histogram(
    "sprig_embedding_duration_seconds", "Time per embedding batch.", ["model"], buckets=BUCKETS
)
UNMATCHED = "unmatched"


def route_label(scope: Any) -> str:
    """The matched route's template (``/sessions/{session_id}/chat``), never the path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else UNMATCHED


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_SECONDS.labels(method, route).observe(seconds)


def observe_turn(model: str, outcome: str, seconds: float, phases: dict[str, float]) -> None:
    """A turn: its whole time, each phase's (summed over the turn: ``model`` is all its
    model calls, ``ttft`` the first call's first token) and Sprig's own (the whole less the
    model's)."""
    CHAT_TURNS.labels(model, outcome).inc()
    CHAT_SECONDS.labels("turn").observe(seconds)
    for part, spent in phases.items():
        CHAT_SECONDS.labels(part).observe(spent)
    CHAT_SECONDS.labels("sprig").observe(max(seconds - phases.get("model", 0.0), 0.0))


def observe_tool(tool_type: str, is_error: bool) -> None:
    TOOL_CALLS.labels(tool_type, "error" if is_error else "ok").inc()


def observe_search(backend: str, mode: str, seconds: float) -> None:
    SEARCH_SECONDS.labels(backend, mode).observe(seconds)


def observe_embedding(model: str, texts: int, seconds: float) -> None:
    EMBEDDED.labels(model).inc(texts)
    EMBED_SECONDS.labels(model).observe(seconds)


def count_tokens(model: str, developer_id: UUID, prompt: int, completion: int) -> None:
    tenant = _tenants.get(developer_id, OTHER)
    TOKENS.labels(model, tenant, "in").inc(prompt)
    TOKENS.labels(model, tenant, "out").inc(completion)


OTHER = "other"
_tenants: dict[UUID, str] = {}
_tenant_bound = [100]


def bound_tenants(most: int) -> None:
    """How many tenants may be named in labels (``metrics_tenants``)."""
    _tenant_bound[0] = most


def name_tenant(developer_id: UUID, name: str) -> None:
    """Learns a tenant's name (when its key is verified) for the ``tenant`` label: the
    first ``metrics_tenants`` tenants seen by this process are named, the rest ``other``."""
    if developer_id not in _tenants:
        _tenants[developer_id] = name if len(_tenants) < _tenant_bound[0] else OTHER


def set_jobs(counts: dict[tuple[str, str], int], oldest_pending: float) -> None:
    JOBS.clear()
    for (kind, state), n in counts.items():
        JOBS.labels(kind, state).set(n)
    OLDEST_PENDING.set(oldest_pending)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format (merged over processes when multi-process)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class _Off:
    """A metric that records nothing (every metric of this module, ``SPRIG_METRICS=false``)."""

    def labels(self, *values: str) -> _Off:
        return self

    def inc(self, amount: float = 1) -> None:
        return None

    def observe(self, amount: float) -> None:
        return None

    def set(self, value: float) -> None:
        return None

    def clear(self) -> None:
        return None


_OFF = _Off()
_REAL: dict[str, MetricWrapperBase] = {}


def record(enabled: bool) -> None:
    """Record metrics, or not (``SPRIG_METRICS=false``: no label lookup, lock or sample on
    the request path). Off, this module's metrics are swapped for `_Off` (its functions
    read them at each call); on again, the real ones are back. Set by `create_app`, for the
    whole process."""
    module = globals()
    if not _REAL:
        _REAL.update({k: v for k, v in module.items() if isinstance(v, MetricWrapperBase)})
    for name, metric in _REAL.items():
        module[name] = metric if enabled else _OFF
