"""Structured logs in process: the formatters, one access line per request with its request
id and tenant, the context on any line logged during a request or a job, job start / finish /
fail lines, and no key or message text anywhere. (tests/e2e/test_logs_e2e.py: `sprig serve` and
`sprig worker` as processes.)"""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sprig.server.jobs.service import enqueue
from sprig.server.jobs.worker import Worker
from sprig.server.models.scripted import ScriptedModel
from sprig.server.observability import logs
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, auth, make_settings

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No in-process worker: the job tests run the jobs themselves."""
    return make_settings(tmp_path / "data", in_process_worker=False)


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    """Sprig's JSON formatter on a root handler, as `sprig serve` has it (formatted when
    logged, in the context of the code that logs); the lines so far, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root, sprig = logging.getLogger(), logging.getLogger("sprig")
    level = sprig.level
    root.addHandler(handler)
    sprig.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        sprig.setLevel(level)


def access(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "sprig.access"]


def tenant_of(runtime: Runtime) -> str:
    assert runtime.startup_key is not None
    return str(runtime.startup_key.developer_id)


async def test_one_access_line_per_request(
    client: httpx.AsyncClient, runtime: Runtime, json_lines: Lines
) -> None:
    r = await client.get("/agents", params={"limit": 5, "X-Auth-Key": API_KEY})
    assert r.status_code == 200
    missing = await client.get("/agents", headers={"authorization": ""})
    assert missing.status_code == 401
    ok, refused = access(json_lines())
    assert ok["request_id"] == r.headers["x-request-id"] and ok["tenant_id"] == tenant_of(runtime)
    assert (ok["method"], ok["route"], ok["status"]) == ("GET", "/agents", 200)
    assert ok["path"] == "/agents?limit=5&X-Auth-Key=***"  # a query key is masked
    assert 0 < ok["duration_ms"] < 10_000 and ok["level"] == "info" and ok["msg"] == "request"
    assert ok["ts"].endswith("Z")
    assert refused["status"] == 401 and "tenant_id" not in refused  # no tenant without a key
    assert refused["request_id"] == missing.headers["x-request-id"]
    assert API_KEY not in json.dumps(json_lines())


async def test_the_callers_request_id_and_the_route_template(
    client: httpx.AsyncClient, json_lines: Lines
) -> None:
    agent = (await client.post("/agents", json={"name": "a"})).json()["id"]
    r = await client.get(f"/api/agents/{agent}", headers={"x-request-id": "abc-123"})
    assert r.status_code == 200
    line = access(json_lines())[-1]
    assert (line["request_id"], line["route"]) == ("abc-123", "/agents/{id}")
    unmatched = await client.get("/nowhere")
    assert unmatched.status_code == 404
    assert access(json_lines())[-1]["route"] == "unmatched"


async def test_a_chat_turn_logs_no_message_text_nor_key(
    client: httpx.AsyncClient, model: ScriptedModel, json_lines: Lines
) -> None:
    agent = (await client.post("/agents", json={"name": "m", "model": "scripted"})).json()
    session = (await client.post("/sessions", json={"agent": agent["id"]})).json()["id"]
    model.push("the reply is tangerine-7781")
    ask = {"messages": [{"role": "user", "content": "my secret word is marmalade-4402"}]}
    assert (await client.post(f"/sessions/{session}/chat", json=ask)).status_code == 201
    text = json.dumps(json_lines())
    assert "/sessions/{session_id}/chat" in text
    for secret in ("marmalade-4402", "tangerine-7781", API_KEY):
        assert secret not in text


async def test_an_unhandled_error_is_a_500_line_and_its_trace_has_the_context(
    app: FastAPI, model: ScriptedModel, runtime: Runtime, json_lines: Lines
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sprig.test", headers=auth(API_KEY)
    ) as client:
        agent = (await client.post("/agents", json={"name": "m", "model": "scripted"})).json()
        session = (await client.post("/sessions", json={"agent": agent["id"]})).json()["id"]
        model.push(KeyError("boom"))
        ask = {"messages": [{"role": "user", "content": "hello"}]}
        r = await client.post(f"/sessions/{session}/chat", json=ask)
    assert r.status_code == 500
    lines = json_lines()
    line = access(lines)[-1]
    assert (line["status"], line["route"]) == (500, "/sessions/{session_id}/chat")
    (error,) = [x for x in lines if x["msg"] == "unhandled error"]
    assert error["exc_type"] == "KeyError" and "Traceback" in error["exc"]
    assert error["request_id"] == line["request_id"] and error["tenant_id"] == tenant_of(runtime)


async def _job(runtime: Runtime, kind: str, payload: dict[str, Any], **kw: Any) -> str:
    async with runtime.db.write() as conn:
        job = await enqueue(conn, uuid.UUID(tenant_of(runtime)), kind, payload, **kw)
    return str(job["id"])


async def test_job_lines(runtime: Runtime, json_lines: Lines) -> None:
    inner = logging.getLogger("sprig.test")

    async def fine(_: uuid.UUID, payload: dict[str, Any]) -> None:
        inner.info("working")  # any line in a job has its id and tenant

    async def broken(_: uuid.UUID, payload: dict[str, Any]) -> None:
        raise ValueError("bad value")

    worker = Worker(runtime.db, {"fine": fine, "broken": broken}, backoff_seconds=0.0)
    payload = {"text": "payload-content-5512"}
    ok = await _job(runtime, "fine", payload)
    bad = await _job(runtime, "broken", payload, max_attempts=2)
    while await worker.run_once():
        pass
    lines = [x for x in json_lines() if "job_id" in x]
    tenant = tenant_of(runtime)
    assert all(x["tenant_id"] == tenant for x in lines)
    mine = [(x["msg"], x.get("attempt")) for x in lines if x["job_id"] == ok]
    assert mine == [("job.start", 1), ("working", None), ("job.finish", 1)]
    finish = lines[2]
    assert finish["kind"] == "fine" and finish["state"] == "succeeded" and finish["duration_ms"] > 0
    fails = [x for x in lines if x["job_id"] == bad and x["msg"] == "job.fail"]
    assert [(x["attempt"], x["state"], x["level"]) for x in fails] == [
        (1, "retrying", "warning"),
        (2, "failed", "error"),
    ]
    assert fails[0]["error_type"] == "ValueError" and fails[0]["error"] == "bad value"
    assert "Traceback" in fails[0]["exc"]  # an unexpected error's trace
    assert "payload-content-5512" not in json.dumps(lines)


def test_text_format() -> None:
    record = logging.LogRecord("sprig.access", logging.INFO, __file__, 1, "request", (), None)
    setattr(record, logs.FIELDS, {"route": "/agents", "status": 200, "note": "two words"})
    line = logs.TextFormatter().format(record)
    assert line.endswith('INFO    sprig.access: request route=/agents status=200 note="two words"')


def test_exceptions_are_fields() -> None:
    try:
        raise RuntimeError("kaput")
    except RuntimeError:
        info = sys.exc_info()
    record = logging.LogRecord("sprig.x", logging.ERROR, __file__, 1, "failed %s", ("x",), info)
    line = json.loads(logs.JsonFormatter().format(record))
    assert (line["msg"], line["level"], line["exc_type"]) == ("failed x", "error", "RuntimeError")
    assert "kaput" in line["exc"] and "\n" not in logs.JsonFormatter().format(record)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_text_on_a_terminal_json_otherwise() -> None:
    assert logs.resolve_format("auto", _Tty()) == "text"
    assert logs.resolve_format("auto", io.StringIO()) == "json"
    assert logs.resolve_format("text", io.StringIO()) == "text"
    config = logs.logging_config("debug", "json")
    assert config["formatters"]["sprig"]["()"].endswith("JsonFormatter")
    assert config["loggers"]["sprig"]["level"] == "DEBUG"
    assert config["root"]["level"] == "WARNING"  # other libraries: warnings only


def test_an_app_in_process_leaves_configured_logging_alone(settings: Settings) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    assert before  # pytest's capture
    assert logs.configure_in_process(settings) is False
    assert root.handlers == before
