"""The FastAPI application: routes at / and /api, one error shape, lifespan-managed runtime."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sprig import __version__
from sprig.server.api.deps import RuntimeDep
from sprig.server.api.responses import Health, documented
from sprig.server.auth import routes as auth
from sprig.server.chat import routes as chat
from sprig.server.console.routes import mount_console
from sprig.server.docs import routes as docs
from sprig.server.docs_pages import add_docs_pages
from sprig.server.errors import PayloadTooLargeError, SprigError
from sprig.server.history import routes as history
from sprig.server.jobs import routes as jobs
from sprig.server.mcp import routes as mcp
from sprig.server.memory import routes as memory
from sprig.server.observability import logs, metrics, timeline, trace_routes, tracing
from sprig.server.observability import routes as observability
from sprig.server.observability.redact import redact_query
from sprig.server.openai import conversations_routes as openai_conversations
from sprig.server.openai import errors as openai_errors
from sprig.server.openai import responses_routes as openai_responses
from sprig.server.openai import responses_socket as openai_socket
from sprig.server.openai import routes as openai_routes
from sprig.server.openai import vector_store_routes as openai_stores
from sprig.server.openapi import build_openapi
from sprig.server.resources import routes as resources
from sprig.server.resources import tool_routes as tools
from sprig.server.routing import MethodTable
from sprig.server.runtime import Runtime
from sprig.server.search import routes as search
from sprig.server.settings import Settings
from sprig.server.usage import routes as usage

log = logging.getLogger("sprig.server")


def error_body(
    status: int,
    message: str,
    code: str,
    type_: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"error": {"message": message, "code": code, "type": type_, **extra}, "detail": message}
    return JSONResponse(
        body, status_code=status, headers={**_retry_header(status), **(headers or {})}
    )


def _retry_header(status: int) -> dict[str, str]:
    """4xx and 501 are deterministic: tell the SDKs (2.x and openai retry >= 500) not to
    retry; 408 and 429 (a provider's rate limit) may succeed later."""
    retryable = status in (408, 429) or (status >= 500 and status != 501)
    return {"x-should-retry": "true" if retryable else "false"} if status >= 400 else {}


def openai_error(status: int, payload: dict[str, Any], headers: Mapping[str, str]) -> Response:
    return JSONResponse(payload, status_code=status, headers=dict(headers))


async def _sprig_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SprigError)
    headers = exc.response_headers()
    if openai_errors.is_openai(request.scope):
        payload = openai_errors.error_payload(exc.message, exc.type, exc.code, exc.param)
        return openai_error(exc.status_code, payload, {**_retry_header(exc.status_code), **headers})
    extra: dict[str, Any] = {"details": exc.details} if exc.details else {}
    return error_body(exc.status_code, exc.message, exc.code, exc.type, headers=headers, **extra)


def _describe(err: dict[str, Any]) -> dict[str, Any]:
    loc = [str(p) for p in err.get("loc", ())]
    return {"loc": loc, "msg": err.get("msg", ""), "type": err.get("type", "")}


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if openai_errors.is_openai(request.scope):
        payload = openai_errors.validation_payload(list(exc.errors()))
        return openai_error(400, payload, _retry_header(400))
    details = [_describe(e) for e in exc.errors()]
    fields = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details[:5])
    message = f"Validation error: {fields}" if fields else "Validation error"
    return error_body(422, message, "validation_error", "invalid_request_error", details=details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    message = str(exc.detail) if exc.detail else "Error"
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, f"http_{status}")
    if openai_errors.is_openai(request.scope):
        type_ = "invalid_request_error" if status < 500 else "server_error"
        payload = openai_errors.error_payload(message, type_, code)
        return openai_error(status, payload, {**_retry_header(status), **(exc.headers or {})})
    response = error_body(status, message, code, "http_error", headers=exc.headers)
    if status == 405:  # Allow: every method of the path (Starlette names one route's)
        allowed = ", ".join(request.app.state.methods.allowed(request.scope))
        message = f"Method {request.method} is not allowed here; allowed: {allowed}"
        response = error_body(status, message, code, "http_error", headers={"allow": allowed})
    return response


async def _database_error(request: Request, exc: Exception) -> Response:
    """SQLSTATE class 22 (a value the database refuses: too long, out of range, bad bytes)
    that validation let through is the caller's 400; anything else is a real fault."""
    sqlstate = str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "")
    if isinstance(exc, DataError) or sqlstate.startswith("22"):
        log.warning("database refused a value: %s", type(exc).__name__)
        message = "A value is out of range, too long or not valid text"
        if openai_errors.is_openai(request.scope):
            payload = openai_errors.error_payload(message, "invalid_request_error", "invalid_data")
            return openai_error(400, payload, _retry_header(400))
        return error_body(400, message, "invalid_data", "invalid_request_error")
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    if openai_errors.is_openai(request.scope):
        payload = openai_errors.error_payload("Internal server error", "server_error", None)
        return openai_error(500, payload, _retry_header(500))
    return error_body(500, "Internal server error", "internal_error", "server_error")


class EdgeMiddleware:
    """Pure ASGI (cheaper than ``@app.middleware``): serves ``/api/...`` as ``/...`` (the
    2.x SDKs' base URL ends in ``/api``; one route table is half the matching of two),
    holds request bodies to the size limit, and adds ``Server-Timing: app;dur=<ms>`` (time
    until the response starts) and ``x-request-id`` (the caller's, or a new one) to every
    response. It binds the request's log context (its id; ``current_developer`` adds the
    tenant's) and logs one access line per request (`_Exchange`).

    A body whose Content-Length is over the limit is refused before it is read. A body
    without one (``Transfer-Encoding: chunked``, or HTTP/2) is counted as it arrives
    (`_BodyGuard`)."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = _under_api(scope)
        headers = dict(scope["headers"])
        exchange = _Exchange(scope, _request_id(headers.get(b"x-request-id")), send)
        token = logs.bind(request_id=exchange.request_id.decode())
        try:
            with _request_span(scope, headers) as exchange.span:
                await self._serve(scope, headers, receive, exchange.send)
        except Exception:
            exchange.log()
            raise  # the context stays bound: the error's own lines carry the request id
        exchange.log()
        logs.unbind(token)

    async def _serve(
        self, scope: Scope, headers: dict[bytes, bytes], receive: Receive, send: Send
    ) -> None:
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body:
            await _too_large(self.max_body, scope)(scope, receive, send)
        elif length.isdigit() or _no_body(scope, headers):
            await self.app(scope, receive, send)  # the server holds it to its length
        else:
            await _BodyGuard(scope, receive, send, self.max_body).run(self.app)


class _Exchange:
    """One HTTP request's response start (``Server-Timing`` with its turn's phases,
    ``x-sprig-overhead-ms``, ``x-request-id``, metrics, its span when tracing) and its
    access line (``sprig.access``: once the response is sent, or the app failed)."""

    __slots__ = ("_send", "request_id", "scope", "span", "start", "status", "times")

    def __init__(self, scope: Scope, request_id: bytes, send: Send) -> None:
        self.scope, self.request_id, self._send = scope, request_id, send
        self.start = time.perf_counter()
        self.times = timeline.begin_request(self.start)
        self.span: Any = None
        self.status = 500  # until the response starts (an unhandled error is answered so)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            now = time.perf_counter()
            headers = [*message.get("headers", []), *self.times.headers(now)]
            headers.append((b"x-request-id", self.request_id))
            message = {**message, "headers": headers}
            self.status = message["status"]
            route = metrics.route_label(self.scope)
            method = self.scope["method"]
            metrics.observe_request(method, route, self.status, now - self.start)
            _span_answered(self.span, method, route, self.status)
        await self._send(message)

    def log(self) -> None:
        if access_log.isEnabledFor(logging.INFO):
            milliseconds = (time.perf_counter() - self.start) * 1000
            logs.event(
                access_log, "request", method=self.scope["method"],
                route=metrics.route_label(self.scope), path=_logged_path(self.scope),
                status=self.status, duration_ms=round(milliseconds, 3),
            )  # fmt: skip


access_log = logging.getLogger("sprig.access")


def _logged_path(scope: Scope) -> str:
    """The path, with its query's credential-like values masked (never the query as sent)."""
    query: bytes = scope.get("query_string", b"")
    if not query:
        return str(scope["path"])
    return redact_query(f"{scope['path']}?{query.decode('latin-1')}")


def _request_span(scope: Scope, headers: dict[bytes, bytes]) -> Any:
    """The request's SERVER span (continuing the caller's ``traceparent``), tracing on."""
    if not tracing.enabled():
        return contextlib.nullcontext()
    carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers.items()}
    attributes = {"http.request.method": scope["method"], "url.path": scope["path"]}
    return tracing.continued(carrier, scope["method"], attributes)


def _span_answered(span: Any, method: str, route: str, status: int) -> None:
    if span is None:
        return
    span.update_name(f"{method} {route}")
    attributes: dict[str, Any] = {"http.route": route, "http.response.status_code": status}
    if status >= 500:
        attributes["error.type"] = str(status)
    tracing.set_attributes(span, attributes)


_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def _request_id(given: bytes | None) -> bytes:
    """The caller's ``x-request-id`` when it is a sane token, else a new ``req_<hex>``."""
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return b"req_" + uuid.uuid4().hex.encode()


def _no_body(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    """HTTP/1.x: a request with neither Content-Length nor Transfer-Encoding has no body."""
    return b"transfer-encoding" not in headers and scope.get("http_version") in _HTTP_1


_HTTP_1 = ("1.1", "1.0")


def _too_large(limit: int, scope: Scope) -> Response:
    err = PayloadTooLargeError(f"Request body larger than {limit} bytes")
    if openai_errors.is_openai(scope):
        payload = openai_errors.error_payload(err.message, err.type, err.code)
        return openai_error(err.status_code, payload, _retry_header(err.status_code))
    return error_body(err.status_code, err.message, err.code, err.type)


class _BodyTooLarge(Exception):
    """Raised by `_BodyGuard.receive` past the limit (a route's body parsing fails with it)."""


class _BodyGuard:
    """The receive and send of one request without a Content-Length.

    Past the limit, ``receive`` raises instead of returning more (nothing more is read, so
    nothing more is buffered; a route's body parsing fails before its handler runs) and the
    response, unless it had started, is the 413 in place of whatever the app answers."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        self._scope, self._receive, self._send, self._limit = scope, receive, send, limit
        self._seen = 0
        self._exceeded = self._started = self._replaced = False

    async def run(self, app: ASGIApp) -> None:
        try:
            await app(self._scope, self.receive, self.send)
        except _BodyTooLarge:
            if self._started:
                raise
            await self._refuse()

    async def receive(self) -> Message:
        if self._exceeded:
            raise _BodyTooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self._limit:
                self._exceeded = True
                raise _BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        if self._replaced:
            return  # the rest of the app's answer to the failed read
        if message["type"] == "http.response.start":
            if self._exceeded:
                await self._refuse()
                return
            self._started = True
        await self._send(message)

    async def _refuse(self) -> None:
        if not self._replaced:
            self._replaced = True
            await _too_large(self._limit, self._scope)(self._scope, self._receive, self._send)


def _under_api(scope: Scope) -> Scope:
    """A request under ``/api`` is routed as if the app were mounted there (``root_path``):
    routing sees ``/agents``, while URLs the app builds (redirects, docs) keep ``/api``."""
    root: str = scope.get("root_path", "")
    path: str = scope["path"]
    relative = path[len(root) :] if root and path.startswith(root) else path
    if relative == API_PREFIX or relative.startswith(API_PREFIX + "/"):
        return {**scope, "root_path": root + API_PREFIX}
    return scope


API_PREFIX = "/api"


def api_routers() -> list[APIRouter]:
    """The API's routers, each included in the app itself (FastAPI matches a request again
    at every level of included routers: one level is the least matching)."""
    health = APIRouter()

    @health.get("/healthz", tags=["health"], response_model=documented(Health))
    async def healthz(runtime: RuntimeDep) -> dict[str, Any]:
        revision = await runtime.db.current_revision()
        return {"status": "ok", "version": __version__, "schema": revision}

    return [
        chat.router,  # the hot path first: its paths clash with no other router's
        resources.router,
        tools.router,
        mcp.router,
        docs.router,
        history.router,
        jobs.router,
        search.router,
        memory.router,
        usage.router,
        openai_responses.router,
        openai_conversations.router,
        openai_socket.router,
        openai_stores.router,
        openai_routes.router,
        observability.router,
        trace_routes.router,
        auth.router,
        health,
    ]


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    on_started: Callable[[Runtime], None] | None = None,
) -> FastAPI:
    """Build the app. The runtime starts (migrates, ensures a key) in the lifespan."""
    settings = settings or Settings()
    logs.configure_in_process(settings)
    metrics.record(settings.metrics)
    runtime = runtime or Runtime.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if on_started is not None:
            on_started(runtime)
        try:
            yield
        finally:
            if mcp_server is not None:
                await mcp_server.close()
            await runtime.close()

    app = FastAPI(
        title="Sprig", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    add_docs_pages(app, app.title)  # offline: assets installed with Sprig, not a CDN
    app.openapi = functools.partial(build_openapi, app, chat.DOCUMENTED_MODELS)  # type: ignore[method-assign]
    app.state.runtime = runtime
    routers = api_routers()
    app.state.methods = MethodTable(routers)
    for router in [app.state.methods.guards(), *routers]:  # and at /api: see EdgeMiddleware
        app.include_router(router)
    app.add_exception_handler(SprigError, _sprig_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(EdgeMiddleware, max_body=settings.max_request_bytes)
    mcp_server = mcp.mount_server(app, runtime) if settings.mcp_server else None
    if settings.console:
        mount_console(app)
    return app


def app_from_env() -> FastAPI:
    """App factory for multi-process serving (``uvicorn --factory``): settings from env."""
    return create_app(Settings())
