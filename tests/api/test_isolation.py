"""Tenant isolation over the whole route table: tenant B never sees or touches A's data."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI

from sprig.server.runtime import Runtime
from tests.helpers.app import auth
from tests.helpers.resources import seed_every_kind
from tests.helpers.routes import BODIES, body_for, fill, has_body, routes


async def _snapshot(client: httpx.AsyncClient, ids: dict[str, str]) -> list[object]:
    paths = [
        f"/agents/{ids['agent']}",
        f"/users/{ids['user']}",
        f"/sessions/{ids['session']}",
        f"/agents/{ids['agent']}/tools",
        f"/jobs/{ids['job']}",
        f"/sessions/{ids['session']}/history",
        *(f"/docs/{ids[k + '_doc']}" for k in ("agent", "user", "session")),
    ]
    return [(await client.get(p)).json() for p in paths]


async def test_every_route_refuses_other_tenants_ids(
    app: FastAPI,
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant_key: Callable[[str], Awaitable[str]],
) -> None:
    ids = await seed_every_kind(client, runtime)
    before = await _snapshot(client, ids)
    other = auth(await tenant_key("tenant-b"))
    checked = 0
    for method, template, op in routes(app):
        if "{" not in template:
            continue
        if has_body(op) and (method, template) not in BODIES and method != "DELETE":
            raise AssertionError(f"add a minimal body for {method} {template} in routes.py")
        for prefix in ("", "/api"):
            url = prefix + fill(template, ids)
            body = body_for(method, template, ids)
            r = await client.request(method, url, json=body, headers=other)
            create_or_update = (
                method == "POST" and template.count("{") == 1 and template.endswith("{id}")
            )
            expected = 409 if create_or_update else 404
            assert r.status_code == expected, (method, url, r.status_code, r.text)
            assert r.json()["error"]["code"] in ("not_found", "conflict", "model_not_found"), (
                url,
                r.text,
            )
            checked += 1
    assert checked >= 40
    assert await _snapshot(client, ids) == before


async def test_lists_show_only_own_data(
    app: FastAPI,
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant_key: Callable[[str], Awaitable[str]],
) -> None:
    await seed_every_kind(client, runtime)
    other = auth(await tenant_key("tenant-b"))
    for method, template, _ in routes(app):
        if method == "GET" and "{" not in template and template not in ("/healthz",):
            r = await client.get(template, headers=other)
            assert r.status_code == 200, template
            body = r.json()
            if "items" in body:
                assert body["items"] == [], template
            if "data" in body:  # /v1/models: raw models only, none of A's agents
                assert all("agent_id" not in m for m in body["data"]), template
    agent = (await client.post("/agents", json={"name": "b"}, headers=other)).json()
    theirs = (await client.get("/users")).json()["items"][0]["id"]  # tenant A's user
    for user in (str(uuid.uuid4()), theirs):  # the same answer: nothing leaks
        body = {"agent": agent["id"], "user": user}
        r = await client.post("/sessions", json=body, headers=other)
        assert r.status_code == 400
        assert r.json()["error"]["message"] == f"User {user} not found"
