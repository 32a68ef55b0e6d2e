"""Usage per tenant, day and model: what chat turns, server-run tools, raw model calls and
embeddings record, and ``GET /usage`` reading it back (scoped to the caller, bad input 422)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from sprig.server.usage import store
from sprig.server.usage.store import Counts
from tests.helpers.chat import user_msg
from tests.helpers.quotas import default_tenant, other_tenant

MATH = {"name": "calc", "type": "integration", "integration": {"provider": "math"}}


def TODAY() -> str:
    return datetime.now(UTC).date().isoformat()


async def _session(client: httpx.AsyncClient, *tools: dict[str, Any]) -> str:
    agent = (await client.post("/agents", json={"name": "Counted"})).json()
    for tool in tools:
        assert (await client.post(f"/agents/{agent['id']}/tools", json=tool)).status_code == 201
    r = await client.post("/sessions", json={"agent": agent["id"], "auto_run_tools": True})
    return str(r.json()["id"])


async def _usage(client: httpx.AsyncClient, **query: str) -> dict[str, Any]:
    r = await client.get("/usage", params=query)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_chat_turns_count_tokens_turns_and_tool_calls(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    sid = await _session(client, MATH)
    model.push([ToolCall("c1", "calc", '{"expression": "6 * 7"}')], "It is 42.", "Fine.")
    first = (await client.post(f"/sessions/{sid}/chat", json=user_msg("compute"))).json()
    second = await client.post(
        f"/sessions/{sid}/chat", json={**user_msg("again"), "save": False}
    )  # not saved: recorded right after, still in the report
    assert second.status_code == 201
    by_model = await _usage(client, group_by="model")
    [row] = by_model["data"]
    assert row["model"] == "scripted" and row["day"] is None
    assert row["turns"] == 2 and row["tool_calls"] == 1 and row["embedded_chunks"] == 0
    # the tool loop's first model call counts too: more than the last call's usage
    assert (
        row["tokens_in"] > first["usage"]["prompt_tokens"] + second.json()["usage"]["prompt_tokens"]
    )
    assert row["tokens_out"] >= first["usage"]["completion_tokens"]
    assert row["cost"] == 0.0  # a model the server runs itself costs nothing
    assert by_model["total"] == {k: v for k, v in row.items() if k not in ("model", "day")}
    by_day = await _usage(client)
    assert by_day["group_by"] == "day" and by_day["to"] == TODAY()
    assert by_day["from"] == TODAY()[:8] + "01"
    assert [r["day"] for r in by_day["data"]] == [TODAY()]
    assert by_day["data"][0]["turns"] == 2


async def test_streamed_and_raw_model_turns_are_counted(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    sid = await _session(client)
    model.push("one two three", "raw reply", "streamed raw")
    body = {**user_msg("stream it"), "stream": True}
    async with client.stream("POST", f"/sessions/{sid}/chat", json=body) as r:
        assert r.status_code == 201
        _ = [line async for line in r.aiter_lines()]
    raw = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}]}
    assert (await client.post("/v1/chat/completions", json=raw)).status_code == 200
    async with client.stream("POST", "/v1/chat/completions", json={**raw, "stream": True}) as r:
        _ = [line async for line in r.aiter_lines()]
    [row] = (await _usage(client, group_by="model"))["data"]
    assert row["turns"] == 3 and row["tokens_out"] == 3 + 2 + 2


async def test_embedded_chunks_are_counted_under_the_embedding_model(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    agent = (await client.post("/agents", json={"name": "Reader"})).json()
    doc = {"title": "Plants", "content": "Water the fern on Mondays. " * 40}
    assert (await client.post(f"/agents/{agent['id']}/docs", json=doc)).status_code == 201
    r = await client.post("/v1/embeddings", json={"model": "default", "input": ["a", "b"]})
    assert r.status_code == 200
    [row] = (await _usage(client, group_by="model"))["data"]
    assert row["model"] == runtime.indexer.embedder.name and row["turns"] == 0
    assert row["embedded_chunks"] >= 3  # the doc's chunks (at least one) and the two inputs
    assert row["cost"] == 0.0


async def test_usage_is_the_callers_own(
    client: httpx.AsyncClient, runtime: Runtime, model: ScriptedModel
) -> None:
    sid = await _session(client)
    model.push("mine")
    await client.post(f"/sessions/{sid}/chat", json=user_msg("hello"))
    _, other = await other_tenant(runtime, "tenant-b")
    theirs = (await client.get("/usage", params={"group_by": "model"}, headers=other)).json()
    assert theirs["data"] == [] and theirs["total"]["turns"] == 0
    assert theirs["total"]["cost"] is None
    assert (await _usage(client))["total"]["turns"] == 1


async def test_a_period_without_usage_and_the_limits_are_shown(client: httpx.AsyncClient) -> None:
    shown = await _usage(client, **{"from": "2020-01-01", "to": "2020-01-31"})
    assert shown["from"] == "2020-01-01" and shown["to"] == "2020-01-31"
    assert shown["data"] == []
    assert shown["limits"] == {
        "requests_per_minute": None,
        "tokens_per_minute": None,
        "tokens_per_day": None,
        "cost_per_month": None,
        "concurrent_streams": None,
    }
    only_to = await _usage(client, to="2021-03-09")
    assert only_to["from"] == "2021-03-01"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2024-02-30"}, "to"),
        ({"group_by": "week"}, "group_by"),
    ],
)
async def test_bad_queries_are_422_in_the_error_shape(
    client: httpx.AsyncClient, query: dict[str, str], field: str
) -> None:
    r = await client.get("/usage", params=query)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error" and r.json()["detail"] == error["message"]
    assert ["query", field] in [d["loc"] for d in error["details"]]


async def test_days_are_utc_and_grouped(client: httpx.AsyncClient, runtime: Runtime) -> None:
    today = datetime.now(UTC).date()
    dev = default_tenant(runtime)
    async with runtime.db.write() as conn:
        for back, model_name in ((0, "a"), (0, "b"), (1, "a"), (40, "a")):
            day = today - timedelta(days=back)
            await store.add_usage(conn, dev, day, model_name, Counts(1, 2, 1, 0, 0, 0.5))
    start = (today - timedelta(days=1)).isoformat()
    by_day = await _usage(client, **{"from": start})
    assert [(r["day"], r["turns"]) for r in by_day["data"]] == [(start, 1), (TODAY(), 2)]
    assert by_day["total"]["cost"] == 1.5
    by_model = await _usage(client, **{"from": start, "group_by": "model"})
    assert [(r["model"], r["tokens_out"]) for r in by_model["data"]] == [("a", 4), ("b", 2)]


async def test_from_after_to_is_400(client: httpx.AsyncClient) -> None:
    r = await client.get("/usage", params={"from": "2024-05-02", "to": "2024-05-01"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_request"
    assert "after" in r.json()["detail"]
