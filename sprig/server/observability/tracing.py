"""OpenTelemetry traces, exported over OTLP/HTTP when an endpoint is configured.

On when ``SPRIG_OTEL_ENDPOINT`` (or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set; off otherwise, and then nothing of the SDK
is imported and `span` hands back a shared no-op context. Spans follow the GenAI semantic
conventions: ``invoke_agent`` for a chat turn, ``chat`` per model call, ``execute_tool``
per tool call, ``retrieval`` for recall, ``embeddings`` for a query's embedding. The
tracer is Sprig's own (not the global provider), so an embedding application's tracing
is left alone; the context (W3C ``traceparent``) is the API's, shared with everything.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

    from sprig.server.settings import Settings

log = logging.getLogger("sprig.server")

_tracer: Tracer | None = None
_provider: TracerProvider | None = None
_capture_content = False
_OFF = contextlib.nullcontext()
STANDARD_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def endpoint(settings: Settings) -> str | None:
    """Where spans go: Sprig's setting, else the standard variables (``…/v1/traces`` is
    appended to the generic ``OTEL_EXPORTER_OTLP_ENDPOINT``, as the SDK does)."""
    if settings.otel_endpoint:
        return _traces_url(settings.otel_endpoint)
    if os.environ.get(STANDARD_ENDPOINTS[0]):
        return os.environ[STANDARD_ENDPOINTS[0]]
    generic = os.environ.get(STANDARD_ENDPOINTS[1])
    return _traces_url(generic) if generic else None


def _traces_url(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/v1/traces") else base + "/v1/traces"


def configure(settings: Settings) -> bool:
    """Starts exporting spans when an endpoint is configured; True when tracing is on."""
    global _tracer, _provider, _capture_content
    url = endpoint(settings)
    if url is None or not settings.otel:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    shutdown()
    resource = Resource.create({"service.name": settings.otel_service_name})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    _provider, _tracer = provider, provider.get_tracer("sprig")
    _capture_content = settings.otel_capture_content
    log.info("tracing: spans exported to %s", url)
    return True


def shutdown() -> None:
    """Flushes and stops the exporter (at the server's shutdown)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


def enabled() -> bool:
    return _tracer is not None


def captures_content() -> bool:
    return _tracer is not None and _capture_content


def span(
    name: str, attributes: Mapping[str, Any] | None = None, kind: str = "INTERNAL"
) -> contextlib.AbstractContextManager[Any]:
    """A span, current while the block runs (exceptions recorded); a no-op when off."""
    if _tracer is None:
        return _OFF
    from opentelemetry.trace import SpanKind

    return _tracer.start_as_current_span(name, kind=SpanKind[kind], attributes=_clean(attributes))


def set_attributes(opened: Span | None, attributes: Mapping[str, Any]) -> None:
    if opened is not None:
        opened.set_attributes(_clean(attributes))


def set_content(opened: Span | None, key: str, value: Any) -> None:
    """A message-content attribute, only when capturing content is opted into."""
    if opened is not None and _capture_content:
        opened.set_attribute(key, json.dumps(value, ensure_ascii=False, default=str))


def _clean(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """OpenTelemetry takes no None values; ids as strings."""
    if not attributes:
        return {}
    return {k: _value(v) for k, v in attributes.items() if v is not None}


def _value(v: Any) -> Any:
    if isinstance(v, str | bool | int | float):
        return v
    if isinstance(v, list | tuple):
        return [str(x) for x in v]
    return str(v)


# -- context across processes (W3C trace context) --------------------------------------------


def inject(headers: MutableMapping[str, str]) -> None:
    """Adds ``traceparent`` (and ``tracestate``) of the current span to outgoing headers."""
    if _tracer is not None:
        from opentelemetry import propagate

        propagate.inject(headers)


def traceparent() -> str | None:
    """The current span's ``traceparent`` (a job queued now carries it), None when off."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def continued(
    carrier: Mapping[str, str], name: str, attributes: dict[str, Any], kind: str = "SERVER"
) -> Iterator[Any]:
    """A span continuing the trace in ``carrier``'s ``traceparent`` (a request's headers,
    a job's stored context), current while the block runs."""
    if _tracer is None:
        yield None
        return
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    parent = propagate.extract(dict(carrier))
    with _tracer.start_as_current_span(
        name, context=parent, kind=SpanKind[kind], attributes=_clean(attributes)
    ) as opened:
        yield opened


def start(name: str, attributes: Mapping[str, Any] | None = None) -> Span | None:
    """A span that outlives one block (a streamed turn: prepared in the request, run in the
    response's generator); make it current with `within`, finish it with `end`."""
    if _tracer is None:
        return None
    return _tracer.start_span(name, attributes=_clean(attributes))


def within(opened: Span | None) -> contextlib.AbstractContextManager[Any]:
    """``opened`` current while the block runs (exceptions recorded on it, not ended)."""
    if opened is None:
        return _OFF
    from opentelemetry.trace import use_span

    return use_span(opened, end_on_exit=False, record_exception=True)


def end(opened: Span | None, error: BaseException | None = None) -> None:
    if opened is None:
        return
    if error is not None:
        from opentelemetry.trace import Status, StatusCode

        opened.set_attribute("error.type", type(error).__name__)
        opened.set_status(Status(StatusCode.ERROR, str(error)[:200]))
    opened.end()


def force_flush() -> None:
    """Sends what is batched now (tests; the server flushes at shutdown)."""
    if _provider is not None:
        _provider.force_flush()
