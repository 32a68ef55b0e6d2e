"""Tool secrets at rest (issue 13, item 17), on SQLite and PostgreSQL: stored encrypted, never
returned by the API, kept by a GET-then-PUT, still sent by the server-run api_call tool."""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from sprig.server.ids import new_id, utcnow
from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel
from sprig.server.resources.tools import SEALED_MARK, tool_values
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from sprig.server.store import crud, tables
from sprig.server.store.db import Database
from tests.helpers.database import backend_settings, backends

TOKEN = "tok-8c1f0e6a9b"
API_KEY_HEADER = "xk-3d5e7f9a1b"
BRAVE = "brave-5a6b7c8d"
FERN = {"X-Fern-Language": "Python"}


@pytest.fixture(params=backends())
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Tool HTTP may reach the loopback stub (and nothing else is ever contacted)."""
    return backend_settings(request, tmp_path, tool_http_allow=["127.0.0.1"])


@pytest.fixture
def stub() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An HTTP service on 127.0.0.1 recording the headers each request carried."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers.items()))
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


def api_tool(url: str) -> dict[str, Any]:
    return {
        "name": "weather",
        "type": "api_call",
        "description": "Weather",
        "api_call": {
            "method": "GET",
            "url": url + "/weather",
            "headers": {"Authorization": f"Bearer {TOKEN}", "X-Api-Key": API_KEY_HEADER},
            "params_schema": {"type": "object", "properties": {}},
        },
    }


BRAVE_TOOL = {
    "name": "search",
    "type": "integration",
    "integration": {"provider": "brave", "setup": {"brave_api_key": BRAVE}},
}


def no_secret(text: str) -> bool:
    return not any(s in text for s in (TOKEN, API_KEY_HEADER, BRAVE))


async def stored_specs(runtime: Runtime) -> str:
    async with runtime.db.read() as conn:
        rows = (await conn.execute(sa.select(tables.tools.c.spec))).scalars().all()
    return json.dumps(rows)


async def run_weather(client: httpx.AsyncClient, model: ScriptedModel, agent_id: str) -> Any:
    sid = (await client.post("/sessions", json={"agent": agent_id})).json()["id"]
    model.push([ToolCall("c1", "weather", "{}")], "done")
    body = {"messages": [{"role": "user", "content": "weather?"}], "auto_run_tools": True}
    r = await client.post(f"/sessions/{sid}/chat", json=body)
    assert r.status_code == 201, r.text
    tool_message = next(m for m in model.requests[-1].messages if m.role == "tool")
    return json.loads(tool_message.text()), (await client.get(f"/sessions/{sid}/history")).text


async def test_secrets_stored_encrypted_never_returned_and_still_sent(
    client: httpx.AsyncClient,
    runtime: Runtime,
    model: ScriptedModel,
    stub: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = stub
    agent = (await client.post("/agents", json={"name": "a"})).json()
    base = f"/agents/{agent['id']}/tools"
    created = await client.post(base, json=api_tool(url))
    assert created.status_code == 201, created.text
    integration = await client.post(base, json=BRAVE_TOOL)
    shown = created.json()["api_call"]["headers"]
    assert shown == {"Authorization": "Bearer ***", "X-Api-Key": "***"}
    assert integration.json()["integration"]["setup"] == {"brave_api_key": "***"}
    listed = await client.get(base)
    one_legacy = await client.post(base, json={**BRAVE_TOOL, "name": "s2"}, headers=FERN)
    for text in (created.text, integration.text, listed.text, one_legacy.text):
        assert no_secret(text)
    assert no_secret(await stored_specs(runtime))  # the row holds ciphertext only

    result, history = await run_weather(client, model, agent["id"])
    assert result["status_code"] == 200
    assert seen[-1]["Authorization"] == f"Bearer {TOKEN}"
    assert seen[-1]["X-Api-Key"] == API_KEY_HEADER
    assert no_secret(json.dumps(result)) and no_secret(history)


async def test_inline_agent_tools_are_sealed_too(
    client: httpx.AsyncClient, runtime: Runtime, stub: tuple[str, list[dict[str, str]]]
) -> None:
    r = await client.post("/agents", json={"name": "a", "tools": [api_tool(stub[0])]})
    assert r.status_code == 201, r.text
    assert no_secret(r.text)
    listed = await client.get(f"/agents/{r.json()['id']}/tools")
    assert listed.json()["items"][0]["api_call"]["headers"]["X-Api-Key"] == "***"
    assert no_secret(await stored_specs(runtime))


async def test_get_then_put_keeps_the_secret_and_a_new_value_replaces_it(
    client: httpx.AsyncClient,
    runtime: Runtime,
    model: ScriptedModel,
    stub: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = stub
    agent = (await client.post("/agents", json={"name": "a"})).json()
    base = f"/agents/{agent['id']}/tools"
    tool = (await client.post(base, json=api_tool(url))).json()
    got = (await client.get(base)).json()["items"][0]
    body = {k: got[k] for k in ("name", "type", "api_call")} | {"description": "edited"}
    put = await client.put(f"{base}/{tool['id']}", json=body)
    assert put.status_code == 200 and no_secret(put.text)
    await run_weather(client, model, agent["id"])
    assert seen[-1]["Authorization"] == f"Bearer {TOKEN}"  # not "Bearer ***"

    patch = {"api_call": {"headers": {"Authorization": "Bearer ***", "X-Api-Key": "rotated-1"}}}
    r = await client.patch(f"{base}/{tool['id']}", json=patch)
    assert r.json()["api_call"]["headers"]["X-Api-Key"] == "***"
    assert "rotated-1" not in await stored_specs(runtime)
    await run_weather(client, model, agent["id"])
    assert seen[-1]["Authorization"] == f"Bearer {TOKEN}"
    assert seen[-1]["X-Api-Key"] == "rotated-1"


async def test_tools_stored_in_clear_before_are_sealed_at_start(
    client: httpx.AsyncClient,
    runtime: Runtime,
    model: ScriptedModel,
    stub: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = stub
    agent = (await client.post("/agents", json={"name": "a"})).json()
    now, developer = utcnow(), runtime.startup_key.developer_id if runtime.startup_key else None
    row = {"id": new_id(), "developer_id": developer, "agent_id": uuid.UUID(agent["id"])}
    row |= {"created_at": now, "updated_at": now, **tool_values(api_tool(url))}
    async with runtime.db.write() as conn:  # as an earlier version stored it
        await crud.insert(conn, tables.tools, row)
        meta = tables.store_meta
        await conn.execute(sa.delete(meta).where(meta.c.key == SEALED_MARK))
    assert TOKEN in await stored_specs(runtime)
    listed = await client.get(f"/agents/{agent['id']}/tools")
    assert no_secret(listed.text)  # redacted even before sealing

    assert await runtime.tools.seal_stored() == 1
    assert await runtime.tools.seal_stored() == 0  # once per database
    assert no_secret(await stored_specs(runtime))
    await run_weather(client, model, agent["id"])
    assert seen[-1]["Authorization"] == f"Bearer {TOKEN}"


async def test_processes_starting_together_seal_once(runtime: Runtime) -> None:
    """A process starts while another, starting too, holds the seal's claim in its open
    transaction: it waits for that one, then skips the task (it used to seal again and
    fail on the other's mark)."""
    async with runtime.db.write() as conn:
        meta = tables.store_meta
        await conn.execute(sa.delete(meta).where(meta.c.key == SEALED_MARK))
    other = copy.copy(runtime.tools)  # the second process: its own engine
    other.db = Database.from_settings(runtime.settings)
    try:
        async with runtime.db.write() as conn:
            assert await crud.claim_meta(conn, SEALED_MARK, {"done": True})
            starting = asyncio.create_task(other.seal_stored())
            await asyncio.sleep(0.3)
            assert not starting.done()  # waits for the first one's transaction
        assert await starting == 0
    finally:
        await other.db.dispose()
