"""Limits per tenant, in process on both backends: requests and tokens per minute, tokens per
day, cost per month, concurrent streams. Over a limit: 429 in the route's error shape with
``retry-after``, ``retry-after-ms`` and ``x-ratelimit-*``; nothing saved; other tenants
unaffected; the limit whole again as documented (the quotas' clock moved by hand)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sprig.server.errors import RateLimitError
from sprig.server.models.base import Usage
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from sprig.server.store.db import Database
from sprig.server.usage.limits import LimitsCache
from sprig.server.usage.quotas import Quotas
from tests.helpers.chat import user_msg
from tests.helpers.quotas import default_tenant, frozen, limit, other_tenant

RAW = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}]}


def assert_refused(r: httpx.Response, type_: str = "requests") -> dict[str, Any]:
    """A 429 of a tenant limit, in Sprig's shape (or OpenAI's under /v1)."""
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and error["type"] == type_
    if r.url.path.startswith("/v1"):
        assert set(r.json()) == {"error"} and error["param"] is None
    else:
        assert r.json()["detail"] == error["message"]
    wait = float(r.headers["retry-after-ms"]) / 1000
    assert int(r.headers["retry-after"]) == max(1, -(-wait // 1))
    assert r.headers[f"x-ratelimit-remaining-{type_}"] == "0"
    return dict(error)


async def _agents(client: httpx.AsyncClient) -> int:
    return len((await client.get("/agents")).json()["items"])


async def _chat_session(client: httpx.AsyncClient) -> str:
    agent = (await client.post("/agents", json={"name": "Limited"})).json()
    return str((await client.post("/sessions", json={"agent": agent["id"]})).json()["id"])


async def test_requests_per_minute_across_routes_then_refill(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    clock = frozen(runtime)
    await limit(runtime, default_tenant(runtime), requests_per_minute=4)
    _, other = await other_tenant(runtime, "unlimited")
    for path in ("/agents", "/users", "/v1/models", "/usage"):
        assert (await client.get(path)).status_code == 200
    refused = await client.post("/agents", json={"name": "never"})
    error = assert_refused(refused)
    assert "requests per minute" in error["message"] and "limit 4" in error["message"]
    h = refused.headers
    assert h["x-ratelimit-limit-requests"] == "4" and h["x-should-retry"] == "true"
    assert h["retry-after-ms"] == "15000" and h["x-ratelimit-reset-requests"] == "1m0s"
    assert_refused(await client.get("/v1/models"))  # OpenAI's shape under /v1
    assert_refused(await client.get("/api/agents"))
    for _ in range(3):  # another tenant is not limited by this one's limit
        assert (await client.get("/agents", headers=other)).status_code == 200
    clock.advance(14.9)
    assert_refused(await client.get("/agents"))
    clock.advance(0.2)  # one request refilled (60 s / 4)
    assert await _agents(client) == 0  # and the refused create saved nothing
    assert_refused(await client.get("/agents"))
    clock.advance(60)  # the whole bucket again
    for _ in range(4):
        assert (await client.get("/agents")).status_code == 200
    assert_refused(await client.get("/agents"))


async def test_tokens_per_minute_refuse_the_next_turn_until_they_drain(
    client: httpx.AsyncClient, runtime: Runtime, model: ScriptedModel
) -> None:
    clock = frozen(runtime)
    await limit(runtime, default_tenant(runtime), tokens_per_minute=20)
    sid = await _chat_session(client)
    model.push("one two three four five six seven eight")
    first = await client.post(f"/sessions/{sid}/chat", json=user_msg("count to eight"))
    assert first.status_code == 201
    spent = first.json()["usage"]["total_tokens"]
    assert spent > 20
    history = (await client.get(f"/sessions/{sid}/history")).json()["entries"]
    refused = await client.post(f"/sessions/{sid}/chat", json=user_msg("more"))
    error = assert_refused(refused, "tokens")
    assert "tokens per minute" in error["message"]
    assert refused.headers["x-ratelimit-limit-tokens"] == "20"
    wait = float(refused.headers["retry-after-ms"]) / 1000
    assert wait == pytest.approx((spent - 20) * 60 / 20, abs=0.01)
    assert_refused(await client.post("/v1/chat/completions", json=RAW), "tokens")
    assert_refused(
        await client.post("/v1/responses", json={"model": "scripted", "input": "x"}), "tokens"
    )
    assert (await client.get(f"/sessions/{sid}/history")).json()["entries"] == history
    assert (await client.get("/agents")).status_code == 200  # only model turns are refused
    clock.advance(wait + 0.01)
    model.push("ok")
    assert (await client.post(f"/sessions/{sid}/chat", json=user_msg("more"))).status_code == 201


async def test_tokens_per_day_refuse_until_midnight_utc(
    client: httpx.AsyncClient, runtime: Runtime, model: ScriptedModel
) -> None:
    clock = frozen(runtime)
    dev = default_tenant(runtime)
    await limit(runtime, dev, tokens_per_day=10)
    model.push("one two three four five six seven eight nine ten")
    assert (await client.post("/v1/chat/completions", json=RAW)).status_code == 200
    refused = await client.post("/v1/chat/completions", json=RAW)
    error = assert_refused(refused, "tokens")
    assert "tokens per day" in error["message"]
    now = datetime.fromtimestamp(clock(), UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC).timestamp() + 86400
    assert float(refused.headers["retry-after-ms"]) / 1000 == pytest.approx(
        midnight - clock(), abs=0.01
    )
    assert refused.headers["x-should-retry"] == ("true" if midnight - clock() <= 60 else "false")
    clock.now = midnight + 1  # a new UTC day
    model.push("ok")
    assert (await client.post("/v1/chat/completions", json=RAW)).status_code == 200


class PricedModel(ScriptedModel):
    """A hosted model's price: $1 per 1,000 prompt tokens, $2 per 1,000 completion tokens."""

    @property
    def token_prices(self) -> tuple[float, float] | None:
        return (0.001, 0.002)


async def test_cost_per_month_and_the_estimated_cost(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    priced = PricedModel(["a b c d e"], name="priced")
    runtime.models.register(priced)
    await limit(runtime, default_tenant(runtime), cost_per_month=0.01)
    body = {**RAW, "model": "priced"}
    done = (await client.post("/v1/chat/completions", json=body)).json()["usage"]
    [row] = (await client.get("/usage", params={"group_by": "model"})).json()["data"]
    expected = done["prompt_tokens"] * 0.001 + done["completion_tokens"] * 0.002
    assert row["model"] == "priced" and row["cost"] == pytest.approx(expected)
    assert expected >= 0.01
    refused = await client.post("/v1/chat/completions", json=body)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "insufficient_quota" and error["type"] == "insufficient_quota"
    assert refused.headers["x-should-retry"] == "false"  # not before next month
    assert int(refused.headers["retry-after"]) > 0


async def test_concurrent_streams_hold_slots_until_they_end(
    client: httpx.AsyncClient, runtime: Runtime, model: ScriptedModel
) -> None:
    dev = default_tenant(runtime)
    await limit(runtime, dev, concurrent_streams=1)
    sid = await _chat_session(client)
    held = await runtime.quotas.open_stream(dev)  # another stream, e.g. in another process
    before = (await client.get(f"/sessions/{sid}/history")).json()["entries"]
    stream = {**user_msg("hi"), "stream": True}
    refused = await client.post(f"/sessions/{sid}/chat", json=stream)
    assert refused.status_code == 429 and refused.json()["error"]["type"] == "requests"
    assert refused.headers["x-ratelimit-limit-streams"] == "1"
    assert (await client.get(f"/sessions/{sid}/history")).json()["entries"] == before
    sessions = (await client.get("/sessions")).json()["items"]
    stored = {"model": "Limited", **user_msg("hi"), "store": True, "stream": True}
    assert (await client.post("/v1/chat/completions", json=stored)).status_code == 429
    assert (await client.get("/sessions")).json()["items"] == sessions  # no session made
    model.push("fine")  # a reply that is not streamed needs no slot
    assert (await client.post(f"/sessions/{sid}/chat", json=user_msg("hi"))).status_code == 201
    await held.release()
    for reply in ("one", "two"):  # each stream gives its slot back when it ends
        model.push(reply)
        async with client.stream("POST", f"/sessions/{sid}/chat", json=stream) as r:
            assert r.status_code == 201
            _ = [line async for line in r.aiter_lines()]
    model.push("three")
    async with client.stream("POST", "/v1/chat/completions", json={**RAW, "stream": True}) as r:
        assert r.status_code == 200
        _ = [line async for line in r.aiter_lines()]


async def test_a_crashed_processs_slots_lapse(runtime: Runtime, settings: Settings) -> None:
    clock = frozen(runtime)
    dev = default_tenant(runtime)
    await limit(runtime, dev, concurrent_streams=2)
    slots = [await runtime.quotas.open_stream(dev) for _ in range(2)]  # never released
    with pytest.raises(RateLimitError):
        await runtime.quotas.open_stream(dev)
    clock.advance(settings.stream_lease_seconds + 1)  # their process stopped renewing them
    again = await runtime.quotas.open_stream(dev)
    await again.release()
    assert len(slots) == 2


async def test_unlimited_tenants_never_touch_the_limit_tables(
    client: httpx.AsyncClient, model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sprig.server.usage import store

    calls: list[str] = []
    for name in ("take", "tat_of", "open_lease", "tokens_since", "cost_since", "charge"):
        original = getattr(store, name)

        async def spy(*a: Any, _name: str = name, _f: Any = original, **k: Any) -> Any:
            calls.append(_name)
            return await _f(*a, **k)

        monkeypatch.setattr(store, name, spy)
    sid = await _chat_session(client)
    model.push("x", "y")
    assert (await client.post(f"/sessions/{sid}/chat", json=user_msg("a"))).status_code == 201
    body = {**user_msg("b"), "stream": True}
    async with client.stream("POST", f"/sessions/{sid}/chat", json=body) as r:
        _ = [line async for line in r.aiter_lines()]
    assert calls == []


async def test_limits_are_applied_with_usage_recorded_in_the_same_transaction(
    runtime: Runtime,
) -> None:
    """A saved turn's tokens charge the tokens-per-minute bucket in its own transaction."""
    from sprig.server.usage import store
    from sprig.server.usage.meter import model_counts

    dev = default_tenant(runtime)
    await limit(runtime, dev, tokens_per_minute=60)
    counts = model_counts(runtime.models.resolve(None), Usage(30, 30))
    async with runtime.db.write() as conn:
        await runtime.usage.meter.add(conn, dev, "scripted", counts)
    async with runtime.db.read() as conn:
        tat = await store.tat_of(conn, dev, "tokens")
    assert tat is not None and tat - runtime.quotas.clock() == pytest.approx(60, abs=1)


async def test_another_process_sees_the_same_buckets_and_slots(
    runtime: Runtime, settings: Settings
) -> None:
    """A second process's view of the database (its own engine and limits cache) shares
    the request bucket and the stream slots with this one."""
    clock = frozen(runtime)
    dev = default_tenant(runtime)
    await limit(runtime, dev, requests_per_minute=2, concurrent_streams=1)
    db = Database.from_settings(settings)
    twin = Quotas(db, LimitsCache(db, ttl=0), clock=clock)
    try:
        await runtime.quotas.admit(dev)
        await twin.admit(dev)
        for quotas in (runtime.quotas, twin):
            with pytest.raises(RateLimitError):
                await quotas.admit(dev)
        slot = await twin.open_stream(dev)
        with pytest.raises(RateLimitError):
            await runtime.quotas.open_stream(dev)
        await slot.release()
        await (await runtime.quotas.open_stream(dev)).release()
        clock.advance(30)  # 60 s / 2: one request back, taken by whichever asks first
        await twin.admit(dev)
        with pytest.raises(RateLimitError):
            await runtime.quotas.admit(dev)
    finally:
        await db.dispose()
