"""`sprig serve` and `sprig worker` log JSON lines (or text, on request) on stderr: one
access line per request with its id, tenant, route, status and time; job start and finish
lines; never the key, the provider's key or what was said."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.fake_openai import FakeOpenAI
from tests.helpers.processes import REPO_ROOT, ServerProcess, clean_env, new_key, sprig_command

pytestmark = pytest.mark.e2e

PROVIDER_KEY = "sk-provider-" + "p" * 40
SAID = "my secret word is marmalade-4402"
DOC_TEXT = "The vault code is quince-9931. " * 20


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenAI]:
    stub = FakeOpenAI()
    stub.start()
    yield stub
    stub.stop()


def settings_env(stub: FakeOpenAI, **extra: str) -> dict[str, str]:
    model = {"name": "stub", "model": "openai/stub", "api_base": stub.api_base}
    return {
        "SPRIG_MODELS": json.dumps([{**model, "api_key": PROVIDER_KEY}]),
        "SPRIG_DEFAULT_MODEL": "stub",
        "SPRIG_EMBEDDING_MODEL": "hashing",
        "SPRIG_EMBED_INLINE_MAX_CHUNKS": "0",  # every document is embedded by a job
        "SPRIG_JOB_POLL_SECONDS": "0.05",
        **extra,
    }


def wait_for(read: Any, text: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while text not in read():
        assert time.monotonic() < deadline, f"never logged {text!r}:\n{read()[-4000:]}"
        time.sleep(0.1)


def converse(server: ServerProcess) -> None:
    """Requests of every kind: unauthenticated, a query key, chat turns (plain and
    streamed), a document embedded by a job; the ids the lines should name."""
    with httpx.Client(base_url=server.base_url, timeout=60) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/agents", params={"X-Auth-Key": server.api_key}).status_code == 401
        c.headers["Authorization"] = f"Bearer {server.api_key}"
        agent = c.post("/agents", json={"name": "logged"}).json()["id"]
        session = c.post("/sessions", json={"agent": agent}).json()["id"]
        ask = {"messages": [{"role": "user", "content": SAID}]}
        turn = c.post(f"/sessions/{session}/chat", json=ask, headers={"x-request-id": "turn-1"})
        assert turn.status_code == 201 and "marmalade" in turn.text
        with c.stream("POST", f"/sessions/{session}/chat", json={**ask, "stream": True}) as s:
            assert s.status_code == 201 and "marmalade" in "".join(s.iter_text())
        doc = c.post(f"/agents/{agent}/docs", json={"title": "vault", "content": DOC_TEXT})
        assert doc.status_code == 201


def assert_no_secrets(text: str, *keys: str) -> None:
    for secret in (*keys, PROVIDER_KEY, "marmalade", "quince"):
        assert secret not in text, secret


def test_json_lines_from_sprig_serve(tmp_path: Path, provider: FakeOpenAI) -> None:
    env = settings_env(provider, SPRIG_LOG_FORMAT="json")
    server = ServerProcess(data_dir=tmp_path / "data", api_key=new_key(), env=env).start()
    try:
        converse(server)
        wait_for(lambda: server.stderr_text, '"msg":"job.finish"')
    finally:
        assert server.stop() in (0, -signal.SIGTERM)
    text = server.stderr_text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # JSON only
    assert all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    requests = [line for line in lines if line["logger"] == "sprig.access"]
    ready = len(requests) - 7  # the start-up probes of /healthz
    assert ready >= 1 and requests[ready - 1]["route"] == "/healthz"  # uvicorn's line is off
    health, refused, agent, _session, turn, stream, doc = requests[ready:]
    assert (health["route"], health["status"], health["method"]) == ("/healthz", 200, "GET")
    assert "tenant_id" not in health and health["request_id"].startswith("req_")
    assert refused["status"] == 401 and refused["path"] == "/agents?X-Auth-Key=***"
    tenant = agent["tenant_id"]
    assert turn["request_id"] == "turn-1" and turn["tenant_id"] == tenant
    assert (turn["route"], turn["status"]) == ("/sessions/{session_id}/chat", 201)
    assert stream["status"] == 201 and stream["duration_ms"] > 0
    assert doc["route"] == "/agents/{owner_id}/docs" and doc["tenant_id"] == tenant
    jobs = [line for line in lines if line["msg"].startswith("job.")]
    assert [j["msg"] for j in jobs][:2] == ["job.start", "job.finish"]
    finish = jobs[1]
    assert finish["tenant_id"] == tenant and finish["attempt"] == 1 and finish["duration_ms"] > 0
    assert finish["job_id"] == jobs[0]["job_id"] and finish["kind"] == jobs[0]["kind"]
    assert any("Application startup complete" in line["msg"] for line in lines)
    assert any(line["msg"].startswith("Sprig is serving at") for line in lines)
    assert any(line["msg"].startswith(f"Console: {server.base_url}/console/") for line in lines)
    assert_no_secrets(text, server.api_key)


def test_text_lines_on_request_and_a_separate_worker(tmp_path: Path, provider: FakeOpenAI) -> None:
    env = settings_env(provider, SPRIG_LOG_FORMAT="text", SPRIG_IN_PROCESS_WORKER="false")
    server = ServerProcess(data_dir=tmp_path / "data", api_key=new_key(), env=env).start()
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            sprig_command("worker", "--data-dir", str(server.data_dir)),
            cwd=REPO_ROOT, env=clean_env(**env), stdout=out, stderr=out,
        )  # fmt: skip
    try:
        converse(server)
        wait_for(lambda: log.read_text(errors="replace"), "job.finish")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
        server.stop()
    served = server.stderr_text
    assert "sprig.access: request method=GET route=/healthz path=/healthz status=200" in served
    assert " route=/sessions/{session_id}/chat " in served and " request_id=turn-1 " in served
    assert not any(line.startswith("{") for line in served.splitlines())
    worked = log.read_text(errors="replace")
    assert "sprig.jobs: job.start kind=" in worked and " attempt=1 " in worked
    assert "Sprig worker " in worked
    assert_no_secrets(served + worked, server.api_key)
