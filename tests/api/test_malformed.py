"""No input, however malformed, produces a 500: every route, bad ids, junk bodies and queries."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from tests.helpers.resources import seed_every_kind
from tests.helpers.routes import body_for, fill, has_body, routes

JUNK: list[Any] = [
    None,
    0,
    -1,
    10**40,
    1.5e308,
    "",
    "x" * 5000,
    "\x00\ud7ff",
    [],
    {},
    [1, "a"],
    {"a": {"b": []}},
    True,
]
BAD_IDS = ["nope", "1234", "00000000-0000-0000-0000-00000000000g", "%00", "a%2Fb"]


@pytest.fixture
def model() -> ScriptedModel:
    """Answers every turn a junk-but-valid body starts (the sweep tests the edges, not the
    model)."""
    return ScriptedModel(name="scripted", fallback="ok")


def _assert_error_shape(r: httpx.Response, context: object) -> None:
    assert 400 <= r.status_code < 500 or r.status_code == 501, (
        context,
        r.status_code,
        r.text[:300],
    )
    body = r.json()
    if "/v1/" in str(r.request.url):  # OpenAI's shape
        assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    else:
        assert set(body) >= {"error", "detail"}, context
        assert {"message", "code", "type"} <= set(body["error"]), context
    assert r.headers["x-should-retry"] == "false"


async def test_bad_path_ids_are_422(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    ids = await seed_every_kind(client, runtime)
    for method, template, _ in routes(app):
        if "{" not in template:
            continue
        for bad in BAD_IDS:
            url = fill(template, {k: bad for k in ids})
            r = await client.request(method, url, json=body_for(method, template, ids))
            assert r.status_code in (404, 405, 422), (method, url, r.status_code)
            _assert_error_shape(r, (method, url))


async def test_junk_bodies_never_500(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    ids = await seed_every_kind(client, runtime)
    sent = 0
    for method, template, op in routes(app):
        if not has_body(op):
            continue
        url = fill(template, ids)
        base = body_for(method, template, ids) or {}
        fields = _fields(app, op) | set(base)
        for junk in JUNK:
            for payload in ([junk], *({**base, f: junk} for f in sorted(fields))):
                r = await client.request(method, url, json=payload)
                sent += 1
                if r.status_code >= 400:
                    _assert_error_shape(r, (method, url, payload))
                else:
                    assert r.status_code < 300, (method, url, payload)
        optional = not op["requestBody"].get("required", False)
        for raw in (b"{not json", b"\xff\xfe", b"null", b"[" * 10000):
            r = await client.request(
                method, url, content=raw, headers={"content-type": "application/json"}
            )
            if raw == b"null" and optional:  # no body, where none is needed
                assert r.status_code < 300, (method, url)
            else:
                _assert_error_shape(r, (method, url, raw[:20]))
    assert sent > 500


async def test_oversized_body_is_413(client: httpx.AsyncClient, runtime: Runtime) -> None:
    limit = runtime.settings.max_request_bytes
    r = await client.post(
        "/agents", content=b"x" * (limit + 1), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    _assert_error_shape(r, "413")


async def test_junk_queries_never_500(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    ids = await seed_every_kind(client, runtime)
    params = [
        {"limit": "abc"},
        {"offset": "1e9999"},
        {"metadata_filter": json.dumps({"a": {"b": [1, {"c": None}]}})},
        {"metadata_filter.": "x"},
        {"metadata_filter.a.b": "1"},
        {"before": "yesterday"},
        {"include_embeddings": "maybe"},
        {"agent_id": "not-a-uuid"},
    ]
    for method, template, _ in routes(app):
        if method != "GET":
            continue
        for p in params:
            r = await client.get(fill(template, ids), params=p)
            if r.status_code >= 400:
                _assert_error_shape(r, (template, p))


def _fields(app: FastAPI, op: dict[str, Any]) -> set[str]:
    content = op["requestBody"]["content"]  # JSON, or a form (an upload)
    schema = (content.get("application/json") or next(iter(content.values())))["schema"]
    resolved = _resolve(app, schema)
    return set(resolved.get("properties", {}))


def _resolve(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return dict(app.openapi()["components"]["schemas"][name])
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []):
            if "$ref" in option:
                return _resolve(app, option)
    return schema


async def test_integer_parameters_are_bounded(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """An offset past 64 bits once overflowed SQLite (500) and reset the connection."""
    ids = await seed_every_kind(client, runtime)
    paths = [
        "/agents",
        "/users",
        "/sessions",
        f"/sessions/{ids['session']}/history",
        f"/agents/{ids['agent']}/docs",
        f"/agents/{ids['agent']}/tools",
        f"/agents/{ids['agent']}/memories",
    ]
    for path in paths:
        for params in ({"offset": 2**63}, {"offset": -1}, {"limit": 2**63}, {"limit": 0}):
            r = await client.get(path, params=params)
            assert r.status_code == 422, (path, params, r.text)
            _assert_error_shape(r, (path, params))
            assert next(iter(params)) in r.json()["error"]["message"]
        assert (await client.get(path, params={"offset": 10**6})).status_code == 200
    r = await client.get("/agents", params={"limit": 101})
    assert r.status_code == 422 and "query.limit" in r.json()["error"]["message"]
    assert "100" in r.json()["error"]["message"]


async def test_malformed_messages_are_422_before_anything_else(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    ids = await seed_every_kind(client, runtime)
    history = f"/sessions/{ids['session']}/history"
    seeded = (await client.get(history)).json()["entries"]  # the seeded turn's
    missing = "00000000-0000-4000-8000-000000000000"
    bad_messages = [
        {"role": {"x": 1}, "content": "hi"},
        {"role": ["user"], "content": "hi"},
        {"role": "user", "content": [{"type": "image_url", "image_url": {}}]},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": ""}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "", "content": "x"}]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t", "content": [None]}],
        },
        {"role": "user", "content": [{"type": "audio", "data": "x"}]},
        {"role": "tool", "content": "no call named"},
    ]
    for session in (ids["session"], missing):
        for route in ("chat", "render"):
            for message in bad_messages:
                r = await client.post(f"/sessions/{session}/{route}", json={"messages": [message]})
                assert r.status_code == 422, (route, message, r.text)
                _assert_error_shape(r, message)
    assert (await client.get(history)).json()["entries"] == seeded  # nothing added


async def test_json_schema_format_without_a_schema_is_400(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    ids = await seed_every_kind(client, runtime)
    history = f"/sessions/{ids['session']}/history"
    seeded = (await client.get(history)).json()["entries"]  # the seeded turn's
    user = {"role": "user", "content": "hi"}
    for fmt in ({"type": "json_schema"}, {"type": "json_schema", "json_schema": {}}):
        for body in (
            {"messages": [user], "response_format": fmt},
            {"messages": [user], "settings": {"response_format": fmt}},
        ):
            r = await client.post(f"/sessions/{ids['session']}/chat", json=body)
            assert r.status_code == 400, (body, r.text)  # schema-valid, but asks for nothing
            assert "json_schema.schema" in r.json()["error"]["message"]
    assert (await client.get(history)).json()["entries"] == seeded  # nothing added
    r = await client.post(
        f"/sessions/{ids['session']}/chat",
        json={"messages": [user], "response_format": {"type": "json_schema", "schema": {}}},
    )
    assert r.status_code == 400, r.text


async def test_an_empty_tool_type_is_a_400(client: httpx.AsyncClient) -> None:
    """Found by the OpenAPI fuzz test: ``type: ""`` was stored, and its view broke the
    document's enum of tool types."""
    agent = (await client.post("/agents", json={"name": "Typed"})).json()
    r = await client.post(f"/agents/{agent['id']}/tools", json={"name": "a", "type": ""})
    assert r.status_code == 400 and "Unknown tool type ''" in r.json()["error"]["message"]
    _assert_error_shape(r, "empty type")
