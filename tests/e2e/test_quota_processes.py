"""Quotas across API processes, on SQLite and PostgreSQL: two `sprig serve` processes on one
database, limits set with `sprig keys limits`. A tenant over its limit gets 429 from both
processes; another tenant is unaffected; the limit comes back as documented (one request
per ``minute / limit``, all of them after a whole minute; tokens as they drain). The
servers' "minute" is shortened to 6 s (``SPRIG_QUOTA_MINUTE_SECONDS``)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.database import backends, postgres_url
from tests.helpers.processes import REPO_ROOT, ServerProcess, clean_env, new_key, sprig_command

pytestmark = pytest.mark.e2e
MINUTE = 6.0
RPM = 3  # one request back every 2 s
TPM = 60  # one token back every 0.1 s


@dataclass
class Cluster:
    servers: list[ServerProcess]
    keys: dict[str, str]  # tenant -> key ("default": unlimited)

    def client(self, server: int, tenant: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[tenant]}"}
        return httpx.Client(base_url=self.servers[server].base_url, headers=headers, timeout=30)


def _sprig(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        sprig_command(*args), cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(params=backends())
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    data_dir = tmp_path / "data"
    settings = {
        "SPRIG_DEFAULT_MODEL": "echo",
        "SPRIG_EMBEDDING_MODEL": "hashing",
        "SPRIG_IN_PROCESS_WORKER": "false",
        "SPRIG_QUOTA_CACHE_SECONDS": "0",
        "SPRIG_QUOTA_MINUTE_SECONDS": str(MINUTE),
    }
    if request.param == "postgres":
        settings["SPRIG_DATABASE_URL"] = postgres_url(request.getfixturevalue("pg_server"))
    env = clean_env(SPRIG_DATA_DIR=str(data_dir), **settings)
    _sprig(env, "migrate")  # as an operator would, before starting several processes
    keys = {"default": new_key()}
    for tenant in ("rpm", "tpm"):
        keys[tenant] = _sprig(env, "keys", "create", "--name", tenant).strip().splitlines()[-1]
    _sprig(env, "keys", "limits", "rpm", "--requests-per-minute", str(RPM))
    _sprig(env, "keys", "limits", "tpm", "--tokens-per-minute", str(TPM))
    servers = []
    try:
        for _ in range(2):  # one after the other: the second finds the first's start-up done
            servers.append(ServerProcess(data_dir, keys["default"], env=settings).start())
        yield Cluster(servers, keys)
    finally:
        for server in servers:
            server.stop()


def _refused(r: httpx.Response, type_: str) -> float:
    """A tenant limit's 429 in the route's shape; the wait it asks for, in seconds."""
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert (error["code"], error["type"]) == ("rate_limit_exceeded", type_)
    assert ("detail" in r.json()) != r.url.path.startswith("/v1")  # Sprig's or OpenAI's shape
    assert r.headers[f"x-ratelimit-remaining-{type_}"] == "0"
    assert int(r.headers["retry-after"]) >= 1
    return float(r.headers["retry-after-ms"]) / 1000


def test_requests_per_minute_hold_across_processes(cluster: Cluster) -> None:
    with (
        cluster.client(0, "rpm") as a,
        cluster.client(1, "rpm") as b,
        cluster.client(0, "default") as free_a,
        cluster.client(1, "default") as free_b,
    ):
        for c in (a, b, free_a, free_b):
            c.get("/healthz")  # connections up before the bucket's clock matters
        assert [c.get("/agents").status_code for c in (a, b, a)] == [200] * RPM
        _refused(a.get("/agents"), "requests")
        wait = _refused(b.get("/agents"), "requests")  # the other process knows it too
        _refused(b.get("/v1/models"), "requests")
        assert b.post("/agents", json={"name": "never"}).status_code == 429
        for c in (free_a, free_b):  # another tenant is not limited
            assert [c.get("/agents").status_code for _ in range(RPM + 2)] == [200] * (RPM + 2)
        time.sleep(wait + 0.05)  # one request comes back…
        assert b.get("/agents").status_code == 200
        _refused(a.get("/agents"), "requests")
        time.sleep(MINUTE)  # …and after a whole minute, all of them
        answers = [c.get("/agents") for c in (b, a, b)]
        assert [r.status_code for r in answers] == [200] * RPM
        assert answers[0].json()["items"] == []  # the refused create saved nothing
        _refused(a.get("/agents"), "requests")
        assert b.get("/agents").status_code == 429


def _session(c: httpx.Client) -> str:
    agent = c.post("/agents", json={"name": "Echo"}).json()
    return str(c.post("/sessions", json={"agent": agent["id"]}).json()["id"])


def _say(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def test_tokens_per_minute_hold_across_processes(cluster: Cluster) -> None:
    long = " ".join(f"word{i}" for i in range(40))  # ~100 tokens in and out: ~4 s of debt
    raw = {"model": "echo", **_say("hi")}
    with (
        cluster.client(0, "tpm") as a,
        cluster.client(1, "tpm") as b,
        cluster.client(1, "default") as free,
    ):
        sid = _session(a)
        turn = a.post(f"/sessions/{sid}/chat", json=_say(long))  # saved: charged as it is saved
        assert turn.status_code == 201, turn.text
        assert turn.json()["usage"]["total_tokens"] > TPM + 20  # over by 2 s at least
        history = b.get(f"/sessions/{sid}/history").json()["entries"]
        wait = _refused(b.post(f"/sessions/{sid}/chat", json=_say("more")), "tokens")
        _refused(b.post("/v1/chat/completions", json=raw), "tokens")
        _refused(a.post("/v1/chat/completions", json=raw), "tokens")
        assert b.get(f"/sessions/{sid}/history").json()["entries"] == history  # nothing saved
        assert free.post("/v1/chat/completions", json=raw).status_code == 200
        time.sleep(wait + 0.05)  # the tokens drained
        done = b.post("/v1/chat/completions", json={"model": "echo", **_say(long)})
        assert done.status_code == 200, done.text  # not saved: recorded before its answer
        _refused(a.post(f"/sessions/{sid}/chat", json=_say("more")), "tokens")
        usage = a.get("/usage", params={"group_by": "model"}).json()
        [row] = usage["data"]
        assert (row["model"], row["turns"], row["cost"]) == ("echo", 2, 0.0)
        assert usage["limits"]["tokens_per_minute"] == TPM
