"""Sprig's overhead on a chat turn to a hosted-style model, measured from outside.

An instant OpenAI-compatible stub (``bench/_openai_stub.py``, its own process) stands in
for the provider; ``sprig serve`` runs as a real process with ``stub`` (Sprig's direct
gateway), and a second one with ``stub-litellm`` (the same endpoint through LiteLLM: its own
process, so that its garbage is not collected during the direct turns). Per
history size (entries in the session, built through the API in one saved chat request;
``context_overflow: truncate`` and a context window large enough that the whole history is
sent), timed at the client, interleaved round-robin so load hits all alike:

- direct: one POST of the very messages Sprig sends (from ``/render``) to the stub;
- sprig: ``POST /sessions/{id}/chat`` (``save: false``, so the history keeps its size);
- litellm: the same through the LiteLLM gateway.

Also the server's own time of the sprig turns (its ``Server-Timing`` header: from the
request reaching the app to the response starting, the model call included).

Overhead = sprig p50 - direct p50 (goal: ≤ 5 ms at every size, and flat: the largest
size's within 2x of the empty session's). First chat: a fresh ``sprig serve`` with only the
direct model; the wall time of its first chat turn once ``/healthz`` answers (goal ≤ 1 s).

``--concurrency N``: N clients, each on its own session, chatting (saved turns) at once
for ``--seconds``; turns per second and p99, on one API process (SQLite) and, with
``--postgres``, on ``sprig serve --workers 2`` over PostgreSQL (pgserver). Afterwards each
session's history is checked: every turn's question and answer, in order, nothing lost.

``--observability``: instead, what metrics and tracing cost a turn. The same saved chat
turns (direct gateway, a short session: a new one every 50 turns) against four `sprig
serve` processes, interleaved round-robin: (1) everything off (``SPRIG_METRICS=false``,
``SPRIG_TURN_TRACES=false``), (2) metrics on, (3) metrics and stored turn traces
(``SPRIG_TURN_TRACES=true``), (4) those and OpenTelemetry (``SPRIG_OTEL_ENDPOINT``, a local
sink in this process that answers ``POST /v1/traces`` with 200). p50 per variant and what
each adds over (1) (goal: metrics on, tracing off, ≤ 0.3 ms). Logs are on (``info``) in all.

    python bench/gateway_overhead.py [--sizes 0,200,2000] [--turns 100] [--concurrency 32]
                                     [--seconds 20] [--postgres] [--quick]
    python bench/gateway_overhead.py --observability [--turns 500] [--quick]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from _common import load_average, percentiles, server_ms
from _process import ROOT, call, free_port, sprig_serve

TARGET_OVERHEAD_MS = 5.0
TARGET_FLATNESS = 2.0
TARGET_FIRST_CHAT_S = 1.0
CONTEXT = 1_000_000
WARM_UP = 5


@contextlib.contextmanager
def stub() -> Iterator[str]:
    """The instant provider, on a free port; its base URL."""
    port = free_port()
    script = str(ROOT / "bench" / "_openai_stub.py")
    process = subprocess.Popen([sys.executable, script, str(port)])
    base = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_for(f"{base}/chat/completions", process)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(url, json={"messages": []}, timeout=1)
            return
        time.sleep(0.1)
    raise RuntimeError("the stub did not start")


def models_env(base: str, *, litellm: bool = True) -> dict[str, str]:
    entry = {"model": "openai/stub", "api_base": base, "api_key": "sk-stub"}
    entries = [{**entry, "name": "stub", "context_window": CONTEXT}]
    if litellm:
        entries.append({**entry, "name": "stub-litellm", "context_window": CONTEXT})
        entries[-1]["gateway"] = "litellm"
    return {"SPRIG_MODELS": json.dumps(entries), "SPRIG_DEFAULT_MODEL": "stub"}


def session_with_history(client: httpx.Client, model: str, size: int) -> str:
    agent = call(client, "POST", "/agents", {"name": f"bench-{model}", "model": model})
    body = {"agent": agent["id"], "context_overflow": "truncate", "token_budget": CONTEXT}
    session = call(client, "POST", "/sessions", body)["id"]
    if size:
        roles = ("user", "assistant")
        messages = [
            {"role": roles[i % 2], "content": f"history entry {i}: a sentence of about twenty "
             "tokens, as a chat turn in a long session would have it."}
            for i in range(size - 1)
        ]  # fmt: skip
        messages[-1]["role"] = "user"
        call(client, "POST", f"/sessions/{session}/chat", {"messages": messages})
    return session


def pct(samples: list[float]) -> dict[str, float]:
    p50, p99 = percentiles(samples)
    return {"p50": round(p50, 2), "p99": round(p99, 2)}


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def measure_size(
    clients: dict[str, httpx.Client], base: str, size: int, turns: int
) -> dict[str, Any]:
    """``clients``: the server of each gateway (``sprig``: the direct one; ``litellm``)."""
    sessions = {g: session_with_history(clients[g], m, size) for g, m in GATEWAYS.items()}
    ask = {"messages": [{"role": "user", "content": "How are you today?"}], "save": False}
    client = clients["sprig"]
    rendered = call(client, "POST", f"/sessions/{sessions['sprig']}/render", ask)["messages"]
    direct_body = json.dumps({"model": "stub", "messages": rendered}).encode()
    provider = httpx.Client(timeout=60)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-stub"}

    def direct() -> None:
        r = provider.post(f"{base}/chat/completions", content=direct_body, headers=headers)
        r.raise_for_status()

    server: list[float] = []

    def chat(gateway: str) -> None:
        r = clients[gateway].post(f"/sessions/{sessions[gateway]}/chat", json=ask)
        if r.status_code != 201:
            raise RuntimeError(f"chat via {gateway}: {r.status_code} {r.text[:300]}")
        if gateway == "sprig":
            server.append(server_ms(r))

    runs: dict[str, list[float]] = {"direct": [], "sprig": [], "litellm": []}
    plan = [
        ("direct", direct),
        ("sprig", lambda: chat("sprig")),
        ("litellm", lambda: chat("litellm")),
    ]
    for turn in range(turns + WARM_UP):
        for name, fn in plan[turn % 3 :] + plan[: turn % 3]:
            ms = timed(fn)
            if turn >= WARM_UP:
                runs[name].append(ms)
    provider.close()
    out: dict[str, Any] = {name: pct(times) for name, times in runs.items()}
    out["sprig_server"] = pct(server[WARM_UP:])  # Server-Timing: in the server, model call too
    out["messages_sent"] = len(rendered)
    out["overhead_p50_ms"] = out["sprig"]["p50"] - out["direct"]["p50"]
    out["litellm_overhead_p50_ms"] = out["litellm"]["p50"] - out["direct"]["p50"]
    return out


GATEWAYS = {"sprig": "stub", "litellm": "stub-litellm"}


def first_chat(base: str, data: Path) -> float:
    """Seconds of the first chat turn of a fresh server (direct model only)."""
    with sprig_serve(data / "first", models_env(base, litellm=False)) as client:
        agent = call(client, "POST", "/agents", {"name": "first", "model": "stub"})
        session = call(client, "POST", "/sessions", {"agent": agent["id"]})["id"]
        body = {"messages": [{"role": "user", "content": "hello"}]}
        return timed(lambda: call(client, "POST", f"/sessions/{session}/chat", body)) / 1000


# -- concurrency ------------------------------------------------------------------------------
async def storm(url: str, key: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` sessions chatting at once for ``seconds``; then their histories checked."""
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as c:
        agent = (await c.post("/agents", json={"name": "storm", "model": "stub"})).json()
        sessions = [
            (await c.post("/sessions", json={"agent": agent["id"]})).json()["id"]
            for _ in range(clients)
        ]
        times: list[float] = []
        errors: list[str] = []
        sent: dict[str, list[str]] = {s: [] for s in sessions}
        end = time.monotonic() + seconds

        async def chatter(session: str) -> None:
            while time.monotonic() < end:
                text = f"{session[-6:]}-{len(sent[session])}"
                started = time.perf_counter()
                body = {"messages": [{"role": "user", "content": text}]}
                r = await c.post(f"/sessions/{session}/chat", json=body)
                times.append((time.perf_counter() - started) * 1000)
                if r.status_code != 201:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    return
                sent[session].append(text)

        started = time.monotonic()
        await asyncio.gather(*(chatter(s) for s in sessions))
        elapsed = time.monotonic() - started
        problems = [p for s in sessions for p in await _check_history(c, s, sent[s])]
    return {
        "clients": clients,
        "turns": len(times),
        "turns_per_s": len(times) / elapsed,
        "latency_ms": pct(times),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "history_problems": problems[:5],
    }


async def _check_history(c: httpx.AsyncClient, session: str, sent: list[str]) -> list[str]:
    r = await c.get(f"/sessions/{session}/history", params={"limit": 1000})
    entries = r.json()["entries"]
    users = [e["content"] for e in entries if e["role"] == "user"]
    roles = [e["role"] for e in entries]
    problems = []
    if users != sent:
        problems.append(f"{session}: questions {users[:3]}… differ from those sent {sent[:3]}…")
    if roles != ["user", "assistant"] * len(sent):
        problems.append(f"{session}: entries out of turn order ({len(entries)} entries)")
    return problems


def concurrency(base: str, data: Path, clients: int, seconds: float, pg: bool) -> dict[str, Any]:
    env = models_env(base, litellm=False)
    with sprig_serve(data / "storm", env) as client:
        key = client.headers["Authorization"].split()[-1]
        one = asyncio.run(storm(str(client.base_url), key, clients, seconds))
    out = {"sqlite_1_process": one}
    if pg:
        out["postgres_2_workers"] = _postgres_storm(base, data, clients, seconds)
    return out


def _postgres_storm(base: str, data: Path, clients: int, seconds: float) -> dict[str, Any]:
    import pgserver

    server = pgserver.get_server(data / "pg", cleanup_mode="stop")
    try:
        url = server.get_uri().replace("postgresql://", "postgresql+asyncpg://", 1)
        env = {**models_env(base, litellm=False), "SPRIG_DATABASE_URL": url}
        with sprig_serve(data / "storm-pg", env, ["--workers", "2"]) as client:
            key = client.headers["Authorization"].split()[-1]
            return asyncio.run(storm(str(client.base_url), key, clients, seconds))
    finally:
        server.cleanup()


# -- observability ----------------------------------------------------------------------------
TARGET_METRICS_MS = 0.3
OBSERVABILITY_TURNS = 500
TURNS_PER_SESSION = 50


def observability_variants(sink: str) -> dict[str, dict[str, str]]:
    """The settings of each server; (1) is the baseline."""
    traces = {"SPRIG_METRICS": "true", "SPRIG_TURN_TRACES": "true"}
    return {
        "off": {"SPRIG_METRICS": "false", "SPRIG_TURN_TRACES": "false"},
        "metrics": {"SPRIG_METRICS": "true", "SPRIG_TURN_TRACES": "false"},
        "metrics+traces": traces,
        "metrics+traces+otel": {**traces, "SPRIG_OTEL_ENDPOINT": sink},
    }


@contextlib.contextmanager
def trace_sink() -> Iterator[tuple[str, list[int]]]:
    """A local OTLP/HTTP collector: ``POST /v1/traces`` answered 200 (the body read and
    dropped), counted; its base URL and the count."""
    received = [0]

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            ok = self.path == "/v1/traces"
            received[0] += ok
            self.send_response(200 if ok else 404)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


class SavedTurns:
    """Saved chat turns on one server: a new session every `TURNS_PER_SESSION` turns (made
    untimed), so that the history each turn sends stays short."""

    def __init__(self, client: httpx.Client) -> None:
        self.client, self.turns, self.session = client, 0, ""
        self.agent = call(client, "POST", "/agents", {"name": "obs", "model": "stub"})["id"]

    def turn(self) -> tuple[float, float]:
        """One turn: its time at the client and the server's (``Server-Timing``), in ms."""
        if self.turns % TURNS_PER_SESSION == 0:
            self.session = call(self.client, "POST", "/sessions", {"agent": self.agent})["id"]
        self.turns += 1
        ask = {"messages": [{"role": "user", "content": "How are you today?"}], "remember": False}
        started = time.perf_counter()
        r = self.client.post(f"/sessions/{self.session}/chat", json=ask)
        elapsed = (time.perf_counter() - started) * 1000
        if r.status_code != 201:
            raise RuntimeError(f"chat: {r.status_code} {r.text[:300]}")
        return elapsed, server_ms(r)


def measure_observability(clients: dict[str, httpx.Client], turns: int) -> dict[str, Any]:
    runners = {name: SavedTurns(c) for name, c in clients.items()}
    names = list(runners)
    times: dict[str, list[float]] = {n: [] for n in names}
    server: dict[str, list[float]] = {n: [] for n in names}
    for turn in range(turns + WARM_UP):
        k = turn % len(names)
        for name in names[k:] + names[:k]:
            client_ms, server_side = runners[name].turn()
            if turn >= WARM_UP:
                times[name].append(client_ms)
                server[name].append(server_side)
    out = {n: {**pct(times[n]), "server_p50": pct(server[n])["p50"]} for n in names}
    for row in out.values():
        row["added_p50_ms"] = round(row["p50"] - out[names[0]]["p50"], 2)
        row["added_server_p50_ms"] = round(row["server_p50"] - out[names[0]]["server_p50"], 2)
    return out


def observability(base: str, data: Path, turns: int) -> dict[str, Any]:
    with trace_sink() as (sink, received):
        variants = observability_variants(sink)
        with contextlib.ExitStack() as stack:
            clients = {
                name: stack.enter_context(
                    sprig_serve(data / f"obs-{i}", {**models_env(base, litellm=False), **env})
                )
                for i, (name, env) in enumerate(variants.items())
            }
            rows = measure_observability(clients, turns)
        for name, env in variants.items():
            rows[name]["env"] = env
        return {"variants": rows, "otel_posts": received[0]}


def report_observability(results: dict[str, Any]) -> None:
    print(f"load average {results['load']}; {results['turns']} saved turns per variant")
    print(f"{'variant':<22} {'p50':>8} {'p99':>8} {'added p50':>10} {'server p50':>11} "
          f"{'added server p50':>17}")  # fmt: skip
    for name, row in results["variants"].items():
        print(
            f"{name:<22} {row['p50']:>6.2f}ms {row['p99']:>6.2f}ms {row['added_p50_ms']:>8.2f}ms "
            f"{row['server_p50']:>9.2f}ms {row['added_server_p50_ms']:>15.2f}ms"
        )
    print(f"OTLP exports received by the sink: {results['otel_posts']}")


# -- report -----------------------------------------------------------------------------------
def report(results: dict[str, Any]) -> None:
    print(f"load average {results['load']}")
    print(f"{'entries':>8} {'sent':>6} {'direct p50':>11} {'sprig p50':>10} {'sprig p99':>10} "
          f"{'overhead':>9} {'litellm p50':>12} {'litellm overhead':>17}")  # fmt: skip
    for size, row in results["sizes"].items():
        print(
            f"{size:>8} {row['messages_sent']:>6} {row['direct']['p50']:>9.1f}ms "
            f"{row['sprig']['p50']:>8.1f}ms {row['sprig']['p99']:>8.1f}ms "
            f"{row['overhead_p50_ms']:>7.1f}ms {row['litellm']['p50']:>10.1f}ms "
            f"{row['litellm_overhead_p50_ms']:>15.1f}ms"
        )
    print(f"first chat after start: {results['first_chat_s']:.2f} s")
    for name, row in results.get("concurrency", {}).items():
        lat = row["latency_ms"]
        print(
            f"{name}: {row['clients']} clients, {row['turns_per_s']:.1f} turns/s, p50 "
            f"{lat['p50']:.0f} ms, p99 {lat['p99']:.0f} ms, errors {row['errors']}, "
            f"history problems {len(row['history_problems'])}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0,200,2000")
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--observability", action="store_true", help="metrics and tracing cost")
    parser.add_argument("--quick", action="store_true", help="sizes 0,20; 10 turns")
    args = parser.parse_args()
    if args.observability:
        main_observability(args)
        return
    sizes = [0, 20] if args.quick else [int(s) for s in args.sizes.split(",")]
    turns = 10 if args.quick else args.turns
    results: dict[str, Any] = {"load": load_average(), "turns": turns}
    with tempfile.TemporaryDirectory() as tmp, stub() as base:
        data = Path(tmp)
        results["first_chat_s"] = first_chat(base, data)
        # each gateway on its own server: LiteLLM's garbage (hundreds of ms of allocation
        # per turn at 2,000 entries) would otherwise be collected in the direct turns
        with (
            sprig_serve(data / "sprig", models_env(base, litellm=False)) as direct,
            sprig_serve(data / "litellm", models_env(base)) as litellm,
        ):
            clients = {"sprig": direct, "litellm": litellm}
            results["sizes"] = {str(n): measure_size(clients, base, n, turns) for n in sizes}
        if args.concurrency:
            results["concurrency"] = concurrency(
                base, data, args.concurrency, args.seconds, args.postgres
            )
    overheads = [row["overhead_p50_ms"] for row in results["sizes"].values()]
    results["goal_met"] = {
        "overhead": max(overheads) <= TARGET_OVERHEAD_MS,
        "flat": results["sizes"][str(sizes[-1])]["sprig"]["p50"]
        <= TARGET_FLATNESS * results["sizes"][str(sizes[0])]["sprig"]["p50"],
        "first_chat": results["first_chat_s"] <= TARGET_FIRST_CHAT_S,
    }
    report(results)
    print(json.dumps(results))


def main_observability(args: argparse.Namespace) -> None:
    given = "--turns" in sys.argv
    turns = 10 if args.quick else (args.turns if given else OBSERVABILITY_TURNS)
    results: dict[str, Any] = {"bench": "observability", "load": load_average(), "turns": turns}
    with tempfile.TemporaryDirectory() as tmp, stub() as base:
        results.update(observability(base, Path(tmp), turns))
    added = results["variants"]["metrics"]["added_p50_ms"]
    results["goal_met"] = {"metrics": added <= TARGET_METRICS_MS}
    results["load_after"] = load_average()
    report_observability(results)
    print(json.dumps(results))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
