"""Safe server-side HTTP for ``api_call`` tools.

Every hop (the first request and each redirect, followed here, at most ``max_redirects``) is
checked before it is made: the scheme must be http or https, and the host is resolved and
vetted by `netguard.vet_host`. The request then goes to that vetted address itself (the URL
carries the IP; the ``Host`` header and TLS SNI/certificate check keep the real name), so
DNS cannot answer differently between the check and the connection. Proxies from the
environment are ignored. A cross-origin redirect drops the template's headers and cookies.

Bodies are streamed and reading stops at ``max_bytes`` (raw bytes read and, for gzip/deflate,
bytes inflated); the whole exchange, redirects included, has one deadline.
Logs name the method, scheme, host and status only: never paths, queries, headers or bodies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from sprig.server.errors import BadRequestError, UpstreamError, UpstreamTimeoutError
from sprig.server.observability import tracing
from sprig.server.settings import Settings
from sprig.server.tools.netguard import AllowList, Resolver, vet_host

log = logging.getLogger("sprig.tools.http")

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """Limits for tool HTTP; ``allow`` lists hosts/IPs/CIDRs exempt from the address block."""

    allow: tuple[str, ...] = ()
    timeout: float = 10.0
    max_bytes: int = 1_000_000
    max_redirects: int = 5
    user_agent: str = "sprig-tools"

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpPolicy:
        """Read ``tool_http_*`` settings where the settings object has them."""
        base = cls()
        return cls(
            allow=tuple(getattr(settings, "tool_http_allow", base.allow)),
            timeout=float(getattr(settings, "tool_http_timeout", base.timeout)),
            max_bytes=int(getattr(settings, "tool_http_max_bytes", base.max_bytes)),
            max_redirects=int(getattr(settings, "tool_http_max_redirects", base.max_redirects)),
        )


@dataclass(slots=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    params: list[tuple[str, str]] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: dict[str, Any] | None = None
    content: bytes | None = None
    follow_redirects: bool = False
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status_code: int
    content_type: str
    body: bytes
    truncated: bool
    encoding: str = "utf-8"

    def text(self) -> str:
        return self.body.decode(self.encoding, errors="replace")


@dataclass(slots=True)
class _Hop:
    method: str
    url: httpx.URL
    headers: dict[str, str]
    json: Any
    data: dict[str, Any] | None
    content: bytes | None


class SafeHttpClient:
    """Makes tool HTTP requests under an `HttpPolicy`; one instance serves many requests."""

    def __init__(
        self,
        policy: HttpPolicy | None = None,
        *,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy or HttpPolicy()
        self.allow = AllowList.parse(self.policy.allow)
        self._resolver = resolver
        self._transport = transport

    async def send(self, request: HttpRequest) -> HttpResponse:
        limit = min(request.timeout or self.policy.timeout, self.policy.timeout)
        try:
            async with asyncio.timeout(limit), self._open_transport() as transport:
                return await self._follow(transport, request, httpx.Timeout(limit))
        except (TimeoutError, httpx.TimeoutException):
            raise UpstreamTimeoutError(f"HTTP request timed out after {limit:g}s") from None
        except httpx.HTTPError as exc:
            raise UpstreamError(f"HTTP request failed: {type(exc).__name__}") from None
        except httpx.InvalidURL:
            raise UpstreamError("Invalid URL in the request or a redirect") from None

    @contextlib.asynccontextmanager
    async def _open_transport(self) -> AsyncIterator[httpx.AsyncBaseTransport]:
        """A bare transport: no client means no environment proxies, no cookie jar, and no
        ``httpx`` request log line (it would carry the URL's query)."""
        if self._transport is not None:
            yield self._transport
            return
        async with httpx.AsyncHTTPTransport(retries=0) as transport:
            yield transport

    async def _follow(
        self, transport: httpx.AsyncBaseTransport, request: HttpRequest, limits: httpx.Timeout
    ) -> HttpResponse:
        hop = _first_hop(request, self.policy.user_agent)
        for _ in range(self.policy.max_redirects + 1):
            outcome = await self._exchange(transport, hop, limits, request.follow_redirects)
            if isinstance(outcome, HttpResponse):
                return outcome
            hop = _redirected(hop, *outcome, self.policy.user_agent)
        raise UpstreamError(f"Too many redirects (more than {self.policy.max_redirects})")

    async def _exchange(
        self, transport: httpx.AsyncBaseTransport, hop: _Hop, limits: httpx.Timeout, follow: bool
    ) -> HttpResponse | tuple[int, httpx.URL]:
        pinned, headers, extensions = await self._pin(hop)
        sent = httpx.Request(
            hop.method,
            pinned,
            headers=headers,
            json=hop.json,
            data=hop.data,
            content=hop.content,
            extensions={**extensions, "timeout": limits.as_dict()},
        )
        response = await transport.handle_async_request(sent)
        try:
            _log_hop(hop, response.status_code)
            location = response.headers.get("location")
            if follow and response.status_code in REDIRECT_CODES and location:
                return response.status_code, hop.url.join(location)
            return await self._read(response)
        finally:
            await response.aclose()

    async def _pin(self, hop: _Hop) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
        """The URL with the host replaced by its vetted address, and the headers to keep."""
        url = hop.url
        if url.scheme not in DEFAULT_PORTS:
            raise BadRequestError(f"Only http and https URLs are allowed, not {url.scheme!r}")
        if not url.host:
            raise BadRequestError("The tool URL has no host")
        port = url.port or DEFAULT_PORTS[url.scheme]
        address = await vet_host(url.host, port, self.allow, self._resolver)
        headers = {**hop.headers, "Host": _host_header(url)}
        extensions: dict[str, Any] = {}
        if url.scheme == "https" and address != url.host:
            extensions["sni_hostname"] = url.host
        return url.copy_with(host=address, username=None, password=None), headers, extensions

    async def _read(self, response: httpx.Response) -> HttpResponse:
        cap = self.policy.max_bytes
        chunks: list[bytes] = []
        size, truncated = 0, False
        async for chunk in response.aiter_raw():
            if size + len(chunk) > cap:
                chunks.append(chunk[: cap - size])
                truncated = True
                break
            chunks.append(chunk)
            size += len(chunk)
        encoding = response.headers.get("content-encoding", "")
        body, clipped = decode_body(b"".join(chunks), encoding, cap)
        return HttpResponse(
            status_code=response.status_code,
            content_type=response.headers.get("content-type", ""),
            body=body,
            truncated=truncated or clipped,
            encoding=response.charset_encoding or "utf-8",
        )


def decode_body(raw: bytes, content_encoding: str, cap: int) -> tuple[bytes, bool]:
    """Undo gzip/deflate with output bounded by ``cap`` (no decompression bombs)."""
    kind = content_encoding.strip().lower()
    if kind in ("", "identity"):
        return raw, False
    if kind not in ("gzip", "x-gzip", "deflate"):
        raise UpstreamError(f"Unsupported response content-encoding {kind!r}")
    for wbits in (47, -15):  # gzip or zlib header (auto-detected); then raw deflate
        inflater = zlib.decompressobj(wbits)
        try:
            body = inflater.decompress(raw, cap + 1)
        except zlib.error:
            continue
        return body[:cap], len(body) > cap or bool(inflater.unconsumed_tail)
    raise UpstreamError(f"Could not decode the {kind} response body")


def _first_hop(request: HttpRequest, user_agent: str) -> _Hop:
    url = httpx.URL(request.url)
    if request.params:
        pairs: list[tuple[str, str | int | float | bool | None]] = list(request.params)
        url = url.copy_merge_params(pairs)
    headers = {**_bare_headers(user_agent), **request.headers}
    tracing.inject(headers)  # traced: the tool's span's traceparent
    if url.username or url.password:
        token = base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
        headers.setdefault("Authorization", f"Basic {token}")
    if request.cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in request.cookies.items())
    return _Hop(request.method.upper(), url, headers, request.json, request.data, request.content)


def _redirected(hop: _Hop, status: int, target: httpx.URL, user_agent: str) -> _Hop:
    """The next hop: 303 (and 301/302 after POST) becomes a bodiless GET, as browsers do."""
    post_to_get = status in (301, 302) and hop.method == "POST"
    to_get = post_to_get or (status == 303 and hop.method != "HEAD")
    same_origin = _origin(target) == _origin(hop.url)
    headers = hop.headers if same_origin else _bare_headers(user_agent)
    if to_get:
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return _Hop("GET", target, headers, None, None, None)
    return _Hop(hop.method, target, headers, hop.json, hop.data, hop.content)


def _bare_headers(user_agent: str) -> dict[str, str]:
    return {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or DEFAULT_PORTS.get(url.scheme)


def _host_header(url: httpx.URL) -> str:
    host = f"[{url.host}]" if ":" in url.host else url.host
    return host if url.port in (None, DEFAULT_PORTS[url.scheme]) else f"{host}:{url.port}"


def _log_hop(hop: _Hop, status: int) -> None:
    log.info("tool http %s %s://%s -> %d", hop.method, hop.url.scheme, hop.url.host, status)
