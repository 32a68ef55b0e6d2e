"""``GET /metrics``: parsed with Prometheus' own text parser, the series move as requests,
chat turns and jobs happen; several API processes add up."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from sprig.server.errors import UpstreamError
from sprig.server.jobs.service import enqueue
from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel
from sprig.server.observability import metrics
from sprig.server.runtime import Runtime
from sprig.server.store import tables
from tests.helpers.app import API_KEY, auth, make_settings
from tests.helpers.processes import clean_env, sprig_command
from tests.helpers.servers import free_port


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> str:
    r = await client.get("/metrics")  # with the client's key (this module requires one)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return r.text


async def test_series_move_with_requests_turns_and_jobs(
    client: httpx.AsyncClient,
    model: ScriptedModel,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the suite's earlier apps named 100 tenants in this process already: start afresh
    monkeypatch.setattr(metrics, "_tenants", {})
    assert runtime.startup_key is not None
    metrics.name_tenant(runtime.startup_key.developer_id, await _tenant_name(runtime))
    agent = (await client.post("/agents", json={"name": "m", "model": "scripted"})).json()
    session = (await client.post("/sessions", json={"agent": agent["id"]})).json()["id"]
    before = await scrape(client)
    model.push("one two three", UpstreamError("down"))
    ask = {"messages": [{"role": "user", "content": "count"}]}
    assert (await client.post(f"/sessions/{session}/chat", json=ask)).status_code == 201
    assert (await client.post(f"/sessions/{session}/chat", json=ask)).status_code == 502
    assert runtime.startup_key is not None
    async with runtime.db.write() as conn:
        await enqueue(conn, runtime.startup_key.developer_id, "noop", {}, delay_seconds=3600)
    after = await scrape(client)
    route = {"method": "POST", "route": "/sessions/{session_id}/chat"}
    for status in ("201", "502"):
        name = "sprig_http_requests_total"
        assert (
            value(after, name, **route, status=status) - value(before, name, **route, status=status)
            == 1
        )
    turns = "sprig_chat_turns_total"
    for outcome in ("ok", "error"):
        delta = value(after, turns, model="scripted", outcome=outcome) - value(
            before, turns, model="scripted", outcome=outcome
        )
        assert delta == 1, outcome
    tenant = await _tenant_name(runtime)
    out = {"model": "scripted", "tenant": tenant, "direction": "out"}
    assert value(after, "sprig_tokens_total", **out) > value(before, "sprig_tokens_total", **out)
    phases = "sprig_chat_turn_duration_seconds_count"
    for part in ("turn", "sprig", "context", "recall", "model"):  # both turns
        assert value(after, phases, part=part) - value(before, phases, part=part) == 2, part
    assert value(after, phases, part="persist") - value(before, phases, part="persist") == 1
    assert value(after, "sprig_jobs", kind="noop", state="pending") == 1
    assert value(after, "sprig_jobs_oldest_pending_age_seconds") >= 0
    assert not any('session_id="' in line for line in after.splitlines())  # no ids as labels


async def _tenant_name(runtime: Runtime) -> str:
    assert runtime.startup_key is not None
    async with runtime.db.read() as conn:
        d = tables.developers
        stmt = sa.select(d.c.name).where(d.c.id == runtime.startup_key.developer_id)
        return str((await conn.execute(stmt)).scalar())


async def test_tenant_label_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``metrics_tenants`` tenants, tokens are counted as ``other``: a label's values
    stay few however many tenants there are."""
    monkeypatch.setattr(metrics, "_tenants", {})
    monkeypatch.setattr(metrics, "_tenant_bound", [2])
    ids = [uuid.uuid4() for _ in range(4)]
    for i, developer in enumerate(ids):
        metrics.name_tenant(developer, f"t{i}")
    assert [metrics._tenants[d] for d in ids] == ["t0", "t1", "other", "other"]
    metrics.count_tokens("m-bound", ids[3], 5, 7)
    text = metrics.exposition()[0].decode()
    assert value(text, "sprig_tokens_total", model="m-bound", tenant="other", direction="out") == 7


async def test_tool_series_move_with_server_run_calls(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    agent = (await client.post("/agents", json={"name": "t"})).json()["id"]
    calc = {"name": "calc", "type": "integration", "integration": {"provider": "math"}}
    assert (await client.post(f"/agents/{agent}/tools", json=calc)).status_code == 201
    body = {"agent": agent, "auto_run_tools": True}
    session = (await client.post("/sessions", json=body)).json()["id"]
    before = await scrape(client)
    model.push(
        [ToolCall("c1", "calc", '{"expression": "6 * 7"}')],
        [ToolCall("c2", "calc", '{"expression": "__import__(1)"}')],
        "42",
    )
    ask = {"messages": [{"role": "user", "content": "6 * 7?"}]}
    assert (await client.post(f"/sessions/{session}/chat", json=ask)).status_code == 201
    after = await scrape(client)
    calls = "sprig_tool_calls_total"
    for outcome in ("ok", "error"):
        labels = {"type": "integration", "outcome": outcome}
        assert value(after, calls, **labels) - value(before, calls, **labels) == 1, outcome
    tool = {"part": "tool"}  # one observation a turn: its tool calls' time summed
    count = "sprig_chat_turn_duration_seconds_count"
    assert value(after, count, **tool) - value(before, count, **tool) == 1


async def test_search_and_embedding_series(client: httpx.AsyncClient) -> None:
    agent = (await client.post("/agents", json={"name": "s"})).json()["id"]
    before = await scrape(client)
    doc = {"title": "tides", "content": "High tide at Porto is at 06:12."}
    assert (await client.post(f"/agents/{agent}/docs", json=doc)).status_code == 201
    found = await client.post(f"/agents/{agent}/search", json={"text": "high tide"})
    assert found.status_code == 200 and found.json()["docs"]
    after = await scrape(client)
    embedded = "sprig_embedded_texts_total"
    name = "hashing-384"  # the test embedder
    assert value(after, embedded, model=name) > value(before, embedded, model=name)
    searches = "sprig_search_duration_seconds_count"
    labels = {"backend": "sqlite", "mode": "hybrid"}
    assert value(after, searches, **labels) - value(before, searches, **labels) == 1


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    """This module's apps ask for a key at /metrics (the default is open: the e2e test)."""
    return make_settings(tmp_path / "data", metrics_require_key=True)


async def test_a_key_can_be_required(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics", headers={"authorization": ""})).status_code == 401
    assert (await client.get("/metrics", headers=auth(API_KEY))).status_code == 200


@pytest.mark.e2e
def test_several_api_processes_add_up(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(SPRIG_API_KEY=API_KEY, SPRIG_DEFAULT_MODEL="echo")
    command = sprig_command(
        "serve", "--port", str(port), "--workers", "2", "--data-dir", str(tmp_path / "data")
    )
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url)
        with httpx.Client(base_url=url) as c:
            for _ in range(40):  # new connections: both processes take some
                httpx.get(f"{url}/healthz")
            text = c.get("/metrics").text
        healthz = {"method": "GET", "route": "/healthz", "status": "200"}
        assert value(text, "sprig_http_requests_total", **healthz) >= 40
        assert len(list((tmp_path / "data" / "metrics").glob("*.db"))) >= 2  # both wrote
    finally:
        process.terminate()
        process.wait(15)
        log.close()


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("sprig serve --workers 2 did not start")
