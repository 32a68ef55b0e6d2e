"""SDK test helpers: clients over a recording mock transport, and a spy that records which
methods a test called."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sprig import AsyncClient, AsyncJulepApi, Client, JulepApi

KEY = "sk-sdk-test"
BASE = "http://sprig.test/api"
Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    """A mock server: answers with `handler` and keeps every request it got."""

    handler: Handler
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def sync(self, **kwargs: Any) -> Client:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return Client(api_key=KEY, base_url=BASE, httpx_client=http, **kwargs)

    def async_(self, **kwargs: Any) -> AsyncClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))
        return AsyncClient(api_key=KEY, base_url=BASE, httpx_client=http, **kwargs)

    def flat(self, **kwargs: Any) -> JulepApi:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return JulepApi(api_key=KEY, base_url=BASE, httpx_client=http, **kwargs)

    def flat_async(self, **kwargs: Any) -> AsyncJulepApi:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))
        return AsyncJulepApi(api_key=KEY, base_url=BASE, httpx_client=http, **kwargs)


def ok(body: Any = None, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {}, headers=headers)


@dataclass
class Spy:
    """Wraps a client: records ``"manager.method"`` for every method called through it."""

    target: Any
    calls: set[str] = field(default_factory=set)
    prefix: str = ""

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.target, name)
        if hasattr(value, "_transport") and not callable(value):
            return Spy(value, self.calls, f"{self.prefix}{name}.")
        if callable(value) and not name.startswith("_"):
            self.calls.add(self.prefix + name)
        return value


def public_calls(client: Any, prefix: str = "") -> set[str]:
    """Every public method reachable from `client` through its managers."""
    names: set[str] = set()
    for name in dir(client):
        if name.startswith("_"):
            continue
        value = getattr(client, name)
        if hasattr(value, "_transport") and not callable(value):
            names |= public_calls(value, f"{prefix}{name}.")
        elif callable(value) and name not in ("close",):
            names.add(prefix + name)
    return names
