"""One pooled HTTP client for every direct model: JSON posts, retries, server-sent events.

Retries follow the OpenAI SDK's rules: connection failures, timeouts, 408, 409, 429 and 5xx
are retried up to ``max_retries`` times, after the provider's ``retry-after-ms`` /
``retry-after`` when it gives one (at most ``MAX_RETRY_AFTER`` seconds: a provider asking
for longer gets its 429 passed on at once), else after an exponential backoff with jitter.
A stream is retried only before its first byte. Cancelling the calling task (the client
went away) closes the connection, which stops the provider's generation.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from sprig.server.models.provider_errors import BrokenReplyError
from sprig.server.observability import tracing

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0
CONNECT_TIMEOUT = 10.0
MAX_ERROR_BODY = 64 * 1024


class ProviderHTTPError(Exception):
    """The provider answered an error status (or an error event in a stream)."""

    def __init__(self, status_code: int | None, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.retry_after = retry_after


class Transport:
    """The shared ``httpx.AsyncClient`` (made on first use in the running event loop)."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
            self._client = httpx.AsyncClient(limits=limits, follow_redirects=False)
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None

    async def post_json(self, call: Call) -> Any:
        """POST and parse the JSON reply, retrying as the module says."""
        for attempt in range(call.max_retries + 1):
            try:
                response = await self.client().post(
                    call.url, content=call.body, headers=call.headers, timeout=call.timeout
                )
            except httpx.TransportError:
                if attempt >= call.max_retries:
                    raise
                await asyncio.sleep(backoff(attempt))
                continue
            if response.is_success:
                return _json(response.content)
            error = error_of(response.status_code, response.headers, response.content)
            await self._wait_or_raise(error, attempt, call.max_retries)
        raise AssertionError("unreachable")  # pragma: no cover

    @asynccontextmanager
    async def stream(self, call: Call) -> AsyncIterator[httpx.Response]:
        """An open streaming response with a 2xx status (retried before the first byte)."""
        for attempt in range(call.max_retries + 1):
            request = self.client().build_request(
                "POST", call.url, content=call.body, headers=call.headers, timeout=call.timeout
            )
            try:
                response = await self.client().send(request, stream=True)
            except httpx.TransportError:
                if attempt >= call.max_retries:
                    raise
                await asyncio.sleep(backoff(attempt))
                continue
            try:
                if response.is_success:
                    yield response
                    return
                body = await _read_capped(response)
            finally:
                await response.aclose()
            error = error_of(response.status_code, response.headers, body)
            await self._wait_or_raise(error, attempt, call.max_retries)

    async def _wait_or_raise(self, error: ProviderHTTPError, attempt: int, retries: int) -> None:
        if attempt >= retries or error.status_code not in RETRY_STATUSES:
            raise error
        if error.retry_after is not None and error.retry_after > MAX_RETRY_AFTER:
            raise error
        wait = error.retry_after
        await asyncio.sleep(backoff(attempt) if wait is None else wait)


class Call:
    """One provider request: where, the encoded body, headers, limits."""

    __slots__ = ("body", "headers", "max_retries", "timeout", "url")

    def __init__(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float, max_retries: int
    ) -> None:
        self.url = url
        self.body = body
        self.headers = {"Content-Type": "application/json", **headers}
        tracing.inject(self.headers)  # traced: the current span's traceparent
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT))
        self.max_retries = max_retries


def backoff(attempt: int) -> float:
    """OpenAI's schedule: 0.5 s doubling to 8 s, less up to a quarter of jitter."""
    delay = min(INITIAL_BACKOFF * 2.0**attempt, MAX_BACKOFF)
    return delay * (1 - 0.25 * random.random())  # noqa: S311 - jitter, not security


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the provider asks to wait (``retry-after-ms``, or ``retry-after`` as seconds
    or an HTTP date); None when it says nothing usable."""
    if (ms := _number(headers.get("retry-after-ms"))) is not None:
        return max(ms / 1000, 0.0)
    value = headers.get("retry-after")
    if value is None or (seconds := _number(value)) is not None:
        return None if value is None else max(seconds or 0.0, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def error_of(status: int, headers: Mapping[str, str], content: bytes) -> ProviderHTTPError:
    """The error an OpenAI-style error body describes (its ``error.message``)."""
    return ProviderHTTPError(status, error_message(content), retry_after(headers))


def error_message(content: bytes) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return content[:300].decode("utf-8", "replace").strip()
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or "")
    if isinstance(error, str):
        return error
    return str(data.get("message") or "") if isinstance(data, dict) else ""


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError as exc:
        raise BrokenReplyError("the reply is not JSON") from exc


async def _read_capped(response: httpx.Response) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for part in response.aiter_bytes():
        parts.append(part)
        size += len(part)
        if size >= MAX_ERROR_BODY:
            break
    return b"".join(parts)


async def sse_data(response: httpx.Response) -> AsyncIterator[Any]:
    """The JSON payloads of a server-sent event stream, up to ``[DONE]``.

    An ``error`` payload (how OpenAI reports a failure after the stream started) raises
    ``ProviderHTTPError``; a payload that is not JSON raises ``BrokenReplyError``.
    """
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue  # blank separators, comments, ``event:`` / ``id:`` fields
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise BrokenReplyError("an event of the reply is not JSON") from exc
        if isinstance(data, dict) and data.get("error"):
            error = data["error"]
            message = error.get("message", "") if isinstance(error, dict) else str(error)
            raise ProviderHTTPError(None, str(message))
        yield data
