"""Auth: both headers, 401 vs 403, revoked keys, keys stored hashed, /healthz open."""

from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from sprig.server.auth.keys import create_tenant, legacy_hash, revoke
from sprig.server.runtime import Runtime
from sprig.server.store import tables


def _client(app: FastAPI, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers
    )


async def test_header_forms(app: FastAPI, api_key: str) -> None:
    for headers in (
        {"Authorization": f"Bearer {api_key}"},
        {"Authorization": f"bearer {api_key}"},
        {"X-Auth-Key": api_key},
        {"X-Auth-Key": f"Bearer {api_key}"},
    ):
        async with _client(app, headers) as c:
            assert (await c.get("/agents")).status_code == 200, headers


async def test_missing_and_wrong_keys(app: FastAPI) -> None:
    async with _client(app, {}) as c:
        r = await c.get("/api/agents")
        assert r.status_code == 401
        assert r.json()["error"]["type"] == "authentication_error"
        assert r.headers["x-should-retry"] == "false"
        assert (await c.get("/healthz")).json()["status"] == "ok"
    async with _client(app, {"Authorization": "Bearer wrong"}) as c:
        assert (await c.get("/agents")).status_code == 403


async def test_revoked_key_stops_working_within_the_cache_ttl(
    app: FastAPI, runtime: Runtime
) -> None:
    runtime.key_cache.ttl = 0.3
    _, key = await create_tenant(runtime.db, "temp", runtime.secret)
    async with _client(app, {"Authorization": f"Bearer {key}"}) as c:
        assert (await c.get("/agents")).status_code == 200
        await revoke(runtime.db, "temp")  # as `sprig keys revoke` does, from outside
        await asyncio.sleep(0.4)
        assert (await c.get("/agents")).status_code == 403


async def test_keys_are_stored_hashed(runtime: Runtime, api_key: str) -> None:
    async with runtime.db.read() as conn:
        stored = [r.key_hash for r in await conn.execute(sa.select(tables.api_keys.c.key_hash))]
    assert runtime.secret.key_digest(api_key) in stored  # keyed: HMAC under the secret
    assert legacy_hash(api_key) not in stored
    assert all(api_key not in h for h in stored)


async def test_every_route_is_served_under_api_too(app: FastAPI, api_key: str) -> None:
    async with _client(app, {"Authorization": f"Bearer {api_key}"}) as c:
        agent = (await c.post("/api/agents", json={"name": "Ada"})).json()
        assert (await c.get(f"/agents/{agent['id']}")).json()["name"] == "Ada"
        assert (await c.get(f"/api/agents/{agent['id']}")).json()["name"] == "Ada"
        assert (await c.get("/api/healthz")).json()["status"] == "ok"
        assert (await c.get("/api/openapi.json")).status_code == 200
        missing = await c.get("/apiagents")  # only the /api segment is a prefix
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        assert (await c.get("/api/api/agents")).status_code == 404  # stripped once
        redirect = await c.get("/api/agents/")  # URLs the app builds keep the prefix
        assert redirect.headers["location"] == "http://t/api/agents"


async def test_api_prefix_behind_a_proxy_root_path(app: FastAPI, api_key: str) -> None:
    transport = httpx.ASGITransport(app=app, root_path="/sprig")  # uvicorn --root-path /sprig
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        assert (await c.get("/sprig/api/agents")).status_code == 200
        assert (await c.get("/sprig/agents")).status_code == 200
