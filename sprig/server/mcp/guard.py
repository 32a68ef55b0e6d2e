"""The HTTP transport of MCP connections: tool HTTP's address rules on every request.

The ``mcp`` SDK speaks HTTP through ``httpx2``; every request it makes (the first POST, the
GET stream, an SSE server's message endpoint, a redirect it follows) goes through
`GuardedTransport`, which vets the host with `netguard.vet_host` (no loopback, private,
link-local… address unless ``tool_http_allow`` lists it) and connects to that vetted address
(the ``Host`` header and TLS name stay the server's), so DNS cannot answer differently
between check and connection. Environment proxies are ignored. A response body is cut off
past ``max_bytes`` (the connection then fails: an MCP message is never half read).

The URL of a request may carry a credential (``?token=``): the ``httpx2`` request log (INFO)
and the SDK's connection log (DEBUG) that print it whole are kept quiet.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx2

from sprig.server.errors import BadRequestError, SprigError, UpstreamError
from sprig.server.tools.netguard import AllowList, Resolver, vet_host

DEFAULT_PORTS = {"http": 80, "https": 443}
for _name in ("httpx2", "mcp.client.streamable_http"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class ResponseTooLargeError(UpstreamError):
    code = "mcp_response_too_large"


class GuardedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, allow: AllowList, max_bytes: int, resolver: Resolver | None = None) -> None:
        self._allow = allow
        self._max_bytes = max_bytes
        self._resolver = resolver
        self._inner = httpx2.AsyncHTTPTransport(trust_env=False, retries=0)
        # the refusal, kept: the SDK may report it only as a failed message
        self.refused: SprigError | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        try:
            address = await self._vetted(url)
        except SprigError as exc:
            self.refused = exc
            raise
        if url.scheme == "https" and address != url.host:
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        request.url = url.copy_with(host=address)
        response = await self._inner.handle_async_request(request)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        response.stream = _Capped(response.stream, self._max_bytes)
        return response

    async def _vetted(self, url: httpx2.URL) -> str:
        if url.scheme not in DEFAULT_PORTS or not url.host:
            raise BadRequestError("MCP servers are reached over http or https only")
        port = url.port or DEFAULT_PORTS[url.scheme]
        return await vet_host(url.host, port, self._allow, self._resolver)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Capped(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, max_bytes: int) -> None:
        self._stream = stream
        self._max_bytes = max_bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._stream:
            seen += len(chunk)
            if seen > self._max_bytes:
                raise ResponseTooLargeError(
                    f"The MCP server's response is larger than {self._max_bytes} bytes"
                )
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()
