"""No input, however malformed, produces a 500: every route, bad ids, junk bodies and queries."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI

from sprig.server.runtime import Runtime
from tests.api.routes import body_for, fill, has_body, routes
from tests.api.test_isolation import _seed

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


def _assert_error_shape(r: httpx.Response, context: object) -> None:
    assert 400 <= r.status_code < 500 or r.status_code == 501, (
        context,
        r.status_code,
        r.text[:300],
    )
    body = r.json()
    assert set(body) >= {"error", "detail"}, context
    assert {"message", "code", "type"} <= set(body["error"]), context
    assert r.headers["x-should-retry"] == "false"


async def test_bad_path_ids_are_422(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    ids = await _seed(client, runtime)
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
    ids = await _seed(client, runtime)
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
    ids = await _seed(client, runtime)
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
    schema = op["requestBody"]["content"]["application/json"]["schema"]
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
