"""The official SDKs against a tenant's limit, unmodified: ``openai`` (its error shape under
``/v1``), ``julep`` 2.x and Sprig's own wait for ``retry-after-ms`` and retry, then
succeed; with no retries left each raises its rate-limit error. The per-minute period is
shortened to 8 s (two requests, one back every 4 s; long enough that a busy machine's
pause between two requests does not refill the bucket): the waits are real."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI
from julep import AsyncJulep
from julep import RateLimitError as JulepRateLimitError

from sprig import AsyncClient
from sprig import RateLimitError as SprigRateLimitError
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, make_settings
from tests.helpers.quotas import default_tenant, limit

BASE = "http://sprig.test"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", quota_minute_seconds=8.0)


@pytest.fixture
async def limited(runtime: Runtime) -> Runtime:
    await limit(runtime, default_tenant(runtime), requests_per_minute=2)
    return runtime


Seen = list[tuple[str, int, float]]  # (path, status, retry-after-ms or 0)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, Seen]]:
    """An httpx client on the app that notes every response the SDK got."""
    seen: Seen = []

    async def note(response: httpx.Response) -> None:
        wait = float(response.headers.get("retry-after-ms", 0))
        seen.append((response.request.url.path, response.status_code, wait))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, event_hooks={"response": [note]}) as c:
        yield c, seen


async def _use_up(http: httpx.AsyncClient, seen: Seen) -> None:
    """Take what the bucket holds (two requests at most), until a request is refused."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    statuses = [(await http.get(f"{BASE}/agents", headers=headers)).status_code]
    while statuses[-1] == 200:
        statuses.append((await http.get(f"{BASE}/agents", headers=headers)).status_code)
    assert statuses[-1] == 429 and len(statuses) <= 3, statuses
    seen.clear()


def _retried(seen: Seen) -> None:
    """One 429 (a wait of at most 4 s asked for), then a success."""
    assert [status for _, status, _ in seen] == [429, 200], seen
    assert 0 < seen[0][2] <= 4000


async def test_openai_sdk_waits_and_retries(
    limited: Runtime, http: tuple[httpx.AsyncClient, Seen]
) -> None:
    client, seen = http
    sdk = openai.AsyncOpenAI(api_key=API_KEY, base_url=f"{BASE}/v1", http_client=client)
    await _use_up(client, seen)
    models = await sdk.models.list()
    assert models.data
    _retried(seen)
    await _use_up(client, seen)
    with pytest.raises(openai.RateLimitError) as caught:
        await sdk.with_options(max_retries=0).models.list()
    assert caught.value.status_code == 429
    assert caught.value.code == "rate_limit_exceeded" and caught.value.type == "requests"
    assert "requests per minute" in caught.value.message


async def test_julep_sdk_waits_and_retries(
    limited: Runtime, http: tuple[httpx.AsyncClient, Seen]
) -> None:
    client, seen = http
    sdk = AsyncJulep(api_key=API_KEY, base_url=BASE, http_client=client)
    await _use_up(client, seen)
    page = await sdk.agents.list()
    assert page.items == []
    _retried(seen)
    await _use_up(client, seen)
    with pytest.raises(JulepRateLimitError) as caught:
        await sdk.with_options(max_retries=0).agents.list()
    assert caught.value.status_code == 429


async def test_sprig_sdk_waits_and_retries(
    limited: Runtime, http: tuple[httpx.AsyncClient, Seen]
) -> None:
    client, seen = http
    sdk = AsyncClient(api_key=API_KEY, base_url=f"{BASE}/api", httpx_client=client)
    await _use_up(client, seen)
    assert (await sdk.agents.list()).items == []
    _retried(seen)
    await _use_up(client, seen)
    with pytest.raises(SprigRateLimitError):
        await AsyncClient(
            api_key=API_KEY, base_url=f"{BASE}/api", httpx_client=client, max_retries=0
        ).agents.list()


MESSAGES = [{"role": "user", "content": "hi"}]


async def _openai_turn(c: httpx.AsyncClient) -> Any:
    sdk = openai.AsyncOpenAI(api_key=API_KEY, base_url=f"{BASE}/v1", http_client=c)
    return await sdk.chat.completions.create(model="scripted", messages=MESSAGES)  # type: ignore[arg-type]


async def _julep_turn(c: httpx.AsyncClient) -> Any:
    sdk = AsyncJulep(api_key=API_KEY, base_url=BASE, http_client=c)
    return await sdk.sessions.chat(str(uuid.uuid4()), messages=MESSAGES)  # type: ignore[arg-type]


@pytest.mark.parametrize("turn", [_openai_turn, _julep_turn], ids=["openai", "julep"])
async def test_a_wait_beyond_a_minute_is_not_retried(
    runtime: Runtime,
    http: tuple[httpx.AsyncClient, Seen],
    turn: Callable[[httpx.AsyncClient], Awaitable[Any]],
) -> None:
    """A tokens-per-day refusal asks for hours: ``x-should-retry: false``, sent once."""
    from sprig.server.usage import store
    from sprig.server.usage.quotas import utc_day

    client, seen = http
    dev = default_tenant(runtime)
    await limit(runtime, dev, tokens_per_day=1)
    async with runtime.db.write() as conn:
        used = store.Counts(tokens_in=5, turns=1)
        await store.add_usage(conn, dev, utc_day(runtime.quotas.clock()), "scripted", used)
    with pytest.raises((openai.RateLimitError, JulepRateLimitError)):
        await turn(client)  # (julep: refused before its session is looked up)
    assert [status for _, status, _ in seen] == [429]
    assert seen[0][2] > 60_000
