"""OpenTelemetry traces, received by a real OTLP/HTTP listener (protobuf decoded): a chat
turn's spans with their GenAI attributes and parent links, the caller's ``traceparent``
continued, the context carried into a tool's HTTP call, a provider call and a queued job;
contents only when opted into; nothing when no endpoint is set."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from sprig.server.models.base import ToolCall
from sprig.server.models.scripted import ScriptedModel
from sprig.server.observability import tracing
from sprig.server.runtime import Runtime
from sprig.server.settings import Settings
from tests.helpers.app import make_settings
from tests.helpers.chat import user_msg
from tests.helpers.fake_openai import FakeOpenAI
from tests.helpers.otlp import OtlpReceiver, Span
from tests.helpers.servers import free_port

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
CALLER = {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
SERVER, CLIENT = 2, 3  # OTLP span kinds


class _Service:
    """A loopback HTTP service an ``api_call`` tool calls; keeps each ``traceparent``."""

    def __init__(self) -> None:
        seen: list[str | None] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.headers.get("traceparent"))
                body = b'{"temp": 21}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as r:
        yield r


@pytest.fixture
def service() -> Iterator[_Service]:
    s = _Service()
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def stub() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, receiver: OtlpReceiver, stub: FakeOpenAI) -> Settings:
    stub_model = {"name": "stub", "model": "openai/stub", "api_base": stub.api_base}
    return make_settings(
        tmp_path / "data",
        otel_endpoint=receiver.url,
        tool_http_allow=["127.0.0.1"],
        models=[{**stub_model, "api_key": "sk-stub-" + "s" * 32, "max_retries": 0}],
    )


def _weather(url: str) -> dict[str, Any]:
    return {
        "name": "weather",
        "type": "api_call",
        "api_call": {"method": "GET", "url": url + "/weather", "params_schema": {}},
    }


async def _traced_turn(client: httpx.AsyncClient, model: ScriptedModel, tool_url: str) -> str:
    """A turn with recall (a doc and a memory) and a server-run tool; the session id."""
    agent = (await client.post("/agents", json={"name": "Tracer"})).json()["id"]
    user = (await client.post("/users", json={"name": "Ana"})).json()["id"]
    assert (await client.post(f"/agents/{agent}/tools", json=_weather(tool_url))).status_code
    doc = {"title": "tides", "content": "High tide at Porto is at 06:12."}
    assert (await client.post(f"/agents/{agent}/docs", json=doc)).status_code == 201
    memory = {"content": "Ana sails at dawn", "user_id": user}
    assert (await client.post(f"/agents/{agent}/memories", json=memory)).status_code == 201
    body = {"agent": agent, "user": user, "auto_run_tools": True}
    session = str((await client.post("/sessions", json=body)).json()["id"])
    model.push([ToolCall("c1", "weather", "{}")], "Sunny, and high tide at 06:12.")
    r = await client.post(
        f"/sessions/{session}/chat", json=user_msg("When is high tide?"), headers=CALLER
    )
    assert r.status_code == 201, r.text
    tracing.force_flush()
    return session


def _one(spans: list[Span]) -> Span:
    assert len(spans) == 1, spans
    return spans[0]


async def test_a_turns_spans_follow_the_genai_conventions(
    client: httpx.AsyncClient,
    model: ScriptedModel,
    receiver: OtlpReceiver,
    service: _Service,
    runtime: Runtime,
) -> None:
    session = await _traced_turn(client, model, service.url)
    receiver.wait_for("execute_tool")
    request = _one(receiver.named("POST /sessions/{session_id}/chat"))
    assert (request.trace_id, request.parent_id, request.kind) == (TRACE_ID, PARENT_ID, SERVER)
    assert request.attributes["http.response.status_code"] == 201
    assert request.service == "sprig"
    agent = _one(receiver.named("invoke_agent"))
    assert agent.name == "invoke_agent Tracer" and agent.child_of(request)
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent.attributes["gen_ai.agent.name"] == "Tracer"
    assert agent.attributes["gen_ai.conversation.id"] == session
    assert agent.attributes["gen_ai.usage.output_tokens"] > 0
    calls = receiver.named("chat scripted")
    assert len(calls) == 2 and all(c.child_of(agent) and c.kind == CLIENT for c in calls)
    finish = [c.attributes["gen_ai.response.finish_reasons"] for c in calls]
    assert finish == [["tool_calls"], ["stop"]]
    assert calls[0].attributes["gen_ai.request.model"] == "scripted"
    tool = _one(receiver.named("execute_tool weather"))
    assert tool.child_of(agent)
    assert tool.attributes["gen_ai.tool.call.id"] == "c1"
    assert tool.attributes["gen_ai.tool.name"] == "weather"
    retrieval = _one(receiver.named("retrieval"))
    assert retrieval.child_of(agent) and retrieval.attributes["gen_ai.retrieval.top_k"] > 0
    embedding = receiver.named("embeddings")
    assert embedding and any(e.child_of(retrieval) for e in embedding)
    # the tool's HTTP call carried the tool span's context
    assert service.seen == [f"00-{TRACE_ID}-{tool.span_id}-01"]
    # no message contents unless opted into
    assert not any(
        "messages" in k or "query.text" in k for s in receiver.spans for k in s.attributes
    )


async def test_contents_only_when_opted_into(
    client: httpx.AsyncClient,
    model: ScriptedModel,
    receiver: OtlpReceiver,
    service: _Service,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tracing, "_capture_content", True)
    await _traced_turn(client, model, service.url)
    first = receiver.wait_for("chat scripted", 2)[0]
    assert "When is high tide?" in first.attributes["gen_ai.input.messages"]
    tool = _one(receiver.named("execute_tool"))
    assert "21" in tool.attributes["gen_ai.tool.call.result"]


async def test_provider_calls_and_jobs_continue_the_trace(
    client: httpx.AsyncClient, receiver: OtlpReceiver, stub: FakeOpenAI, model: ScriptedModel
) -> None:
    agent = (await client.post("/agents", json={"name": "Remote", "model": "stub"})).json()["id"]
    session = (await client.post("/sessions", json={"agent": agent})).json()["id"]
    r = await client.post(f"/sessions/{session}/chat", json=user_msg("hello"), headers=CALLER)
    assert r.status_code == 201, r.text
    tracing.force_flush()
    call = _one(receiver.wait_for("chat stub"))
    assert stub.recorder.traceparents == [f"00-{TRACE_ID}-{call.span_id}-01"]
    # a background response: its job's span belongs to the request that queued it
    model.push("later")
    background = {"model": "agent:" + agent, "input": "hi", "background": True}
    queued = await client.post("/v1/responses", json=background, headers=CALLER)
    assert queued.status_code == 200, queued.text
    for _ in range(200):  # the in-process worker runs it
        done = await client.get(f"/v1/responses/{queued.json()['id']}")
        if done.json()["status"] == "completed":
            break
        await asyncio.sleep(0.05)
    assert done.json()["status"] == "completed", done.text
    job = _one(receiver.wait_for("job openai_response"))
    request = _one(receiver.named("POST /v1/responses"))
    assert job.trace_id == TRACE_ID and job.kind == 5  # CONSUMER
    assert job.parent_id in {s.span_id for s in receiver.spans if s.trace_id == TRACE_ID}
    assert request.trace_id == TRACE_ID


def test_off_without_an_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in tracing.STANDARD_ENDPOINTS:
        monkeypatch.delenv(name, raising=False)
    settings = make_settings(tmp_path / "d")
    assert tracing.endpoint(settings) is None
    assert tracing.configure(settings) is False and not tracing.enabled()
    headers: dict[str, str] = {}
    tracing.inject(headers)
    assert headers == {} and tracing.traceparent() is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert tracing.endpoint(settings) == "http://collector:4318/v1/traces"
    assert tracing.endpoint(make_settings(tmp_path / "e", otel=False)) is not None
    assert tracing.configure(make_settings(tmp_path / "e", otel=False)) is False


async def test_a_streamed_turn_is_one_agent_span_with_its_model_call(
    client: httpx.AsyncClient, model: ScriptedModel, receiver: OtlpReceiver
) -> None:
    agent = (await client.post("/agents", json={"name": "Streamer"})).json()["id"]
    session = (await client.post("/sessions", json={"agent": agent})).json()["id"]
    model.push("one two three")
    ask = {**user_msg("count"), "stream": True}
    r = await client.post(f"/sessions/{session}/chat", json=ask, headers=CALLER)
    assert r.status_code == 201 and "three" in r.text
    turn = _one(receiver.wait_for("invoke_agent Streamer"))
    request = _one(receiver.named("POST /sessions/{session_id}/chat"))
    assert turn.child_of(request) and turn.attributes["gen_ai.usage.output_tokens"] > 0
    call = _one(receiver.named("chat scripted"))
    assert call.child_of(turn) and call.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert _one(receiver.named("sprig.persist")).child_of(turn)
