"""The one request builder and the retry policy, shared by the sync and async clients.

Retry policy (`RetryPolicy`, default ``max_retries=2``):

- retried: connection errors and timeouts; statuses 408, 409, 429 and every 5xx but 501
  (Not Implemented never changes on retry);
- never retried: any other status, and any response carrying ``x-should-retry: false``
  (Sprig sends it on every 4xx); ``x-should-retry: true`` forces a retry;
- the wait is the server's ``Retry-After`` (seconds or an HTTP date, or ``retry-after-ms``)
  when it is between 0 and 60 s, else exponential backoff from 0.5 s doubling up to 8 s,
  with up to 25 % jitter.
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from sprig.client._call import Call, ListCall
from sprig.client.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    JulepError,
    make_status_error,
)
from sprig.client.pagination import AsyncPage, SyncPage

T = TypeVar("T")
X = TypeVar("X")

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 300.0
USER_AGENT = "sprig-python/0.1.0"


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before retrying after failed try number `attempt` (0-based)."""
        if attempt >= self.max_retries:
            return None
        if response is not None and not should_retry(response):
            return None
        hinted = retry_after(response) if response is not None else None
        if hinted is not None and 0 <= hinted <= self.max_retry_after:
            return hinted
        backoff = min(self.initial_delay * 2.0**attempt, self.max_delay)
        return backoff * (1 - 0.25 * random.random())  # noqa: S311 (jitter, not crypto)


def should_retry(response: httpx.Response) -> bool:
    """``x-should-retry`` decides when present; else 408, 409, 429 and 5xx (not 501)."""
    header = str(response.headers.get("x-should-retry", "")).strip().lower()
    if header in ("true", "false"):
        return header == "true"
    status = response.status_code
    return status in (408, 409, 429) or (status >= 500 and status != 501)


def retry_after(response: httpx.Response) -> float | None:
    """The wait the server asks for, in seconds (``retry-after-ms`` or ``retry-after``)."""
    millis = response.headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return float(email.utils.mktime_tz(parsed) - time.time())


@dataclass(frozen=True)
class ClientConfig:
    """Connection settings; arguments win over ``SPRIG_API_KEY`` / ``SPRIG_BASE_URL``."""

    api_key: str
    base_url: str
    timeout: float | httpx.Timeout
    retry: RetryPolicy
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        headers: Mapping[str, str] | None,
    ) -> ClientConfig:
        key = api_key or os.environ.get("SPRIG_API_KEY")
        if not key:
            raise JulepError("No API key: pass api_key=... or set SPRIG_API_KEY")
        if max_retries < 0:
            raise JulepError("max_retries must be >= 0")
        url = base_url or os.environ.get("SPRIG_BASE_URL") or DEFAULT_BASE_URL
        return cls(
            api_key=key,
            base_url=url.rstrip("/"),
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            retry=RetryPolicy(max_retries=max_retries),
            headers=dict(headers or {}),
        )


def build_request(
    http: httpx.Client | httpx.AsyncClient, config: ClientConfig, call: Call[Any], stream: bool
) -> httpx.Request:
    """The one place a `Call` becomes an HTTP request (auth, headers, URL, query, body)."""
    headers = {
        "Authorization": f"Bearer {config.api_key}",
        "Accept": "text/event-stream" if stream else "application/json",
        "User-Agent": USER_AGENT,
        **config.headers,
        **call.headers,
    }
    return http.build_request(
        call.method,
        config.base_url + call.path,
        params=dict(call.params) or None,
        json=call.json,
        headers=headers,
        timeout=config.timeout,
    )


def parse(call: Call[T], response: httpx.Response) -> T:
    """The call's result from a successful response."""
    try:
        return call.parse(read_json(response))
    except ValidationError as err:
        raise APIResponseValidationError(response, str(err)) from err


def read_json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise APIResponseValidationError(response, "not valid JSON") from None


def _transport_error(request: httpx.Request, exc: httpx.TransportError) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(request)
    return APIConnectionError(request, f"Connection error: {exc}")


class SyncTransport:
    """Runs calls over an `httpx.Client` with the retry policy."""

    def __init__(self, config: ClientConfig, http: httpx.Client | None) -> None:
        self.config = config
        self._owns_http = http is None
        self.http = http if http is not None else httpx.Client()

    def run(self, call: Call[T]) -> T:
        return parse(call, self.send(call))

    def page(self, call: ListCall[X]) -> SyncPage[X]:
        return SyncPage(self.run(call.as_call()), call, self.page)

    def send(self, call: Call[Any], stream: bool = False) -> httpx.Response:
        """Send with retries; a success is returned (unread if `stream`), a failure raised."""
        attempt = 0
        while True:
            request = build_request(self.http, self.config, call, stream)
            response: httpx.Response | None = None
            try:
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error: APIError = _transport_error(request, exc)
            else:
                if response.is_success:
                    return response
                response.read()
                response.close()
                error = make_status_error(response)
            wait = self.config.retry.delay(attempt, response)
            if wait is None:
                raise error
            _sync_sleep(wait)
            attempt += 1

    def close(self) -> None:
        if self._owns_http:
            self.http.close()


class AsyncTransport:
    """Runs calls over an `httpx.AsyncClient` with the retry policy (twin of SyncTransport)."""

    def __init__(self, config: ClientConfig, http: httpx.AsyncClient | None) -> None:
        self.config = config
        self._owns_http = http is None
        self.http = http if http is not None else httpx.AsyncClient()

    async def run(self, call: Call[T]) -> T:
        return parse(call, await self.send(call))

    async def page(self, call: ListCall[X]) -> AsyncPage[X]:
        return AsyncPage(await self.run(call.as_call()), call, self.page)

    async def send(self, call: Call[Any], stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            request = build_request(self.http, self.config, call, stream)
            response: httpx.Response | None = None
            try:
                response = await self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error: APIError = _transport_error(request, exc)
            else:
                if response.is_success:
                    return response
                await response.aread()
                await response.aclose()
                error = make_status_error(response)
            wait = self.config.retry.delay(attempt, response)
            if wait is None:
                raise error
            await _async_sleep(wait)
            attempt += 1

    async def close(self) -> None:
        if self._owns_http:
            await self.http.aclose()


def _sync_sleep(seconds: float) -> None:
    time.sleep(seconds)


async def _async_sleep(seconds: float) -> None:
    import asyncio  # imported here: `import sprig` stays light for sync users

    await asyncio.sleep(seconds)
