"""Does a big document's embedding starve chat? And how fast does ingestion go?

A real ``sprig serve`` process (default settings: the bundled SmolLM2 for chat, MiniLM on
ONNX Runtime for embeddings, SQLite, the job worker in the same process) is driven over
HTTP as a user's client would:

1. **Idle.** ``--turns`` chat turns of 20 tokens (``max_tokens: 20``, ``save: false``, a
   fixed seed, the same short question) to an agent without documents, one after another,
   and as many text searches of that agent's documents; the wall time of each at the client.
2. **Busy.** A ``--mb`` MB document (SciFact abstracts, read in place from
   ``../shared/data/scifact``, joined until the size is reached) is created for another
   agent; its ``embed_doc`` job runs in the background, its progress polled
   (``GET /jobs/{id}``) twice a second. Once the embedding has started, the same chat turns
   and searches, ``--turns`` of each, back to back.
3. **Ingestion alone**: nothing else is asked until the job ends.
4. **Idle again** after the job has finished, so that drift on the shared machine shows.

Reported: p50 and p90 of the chat and search times in each phase, and the busy/idle ratio
of the p50s against the goal (a concurrent 20-token chat stays under 2x its idle latency);
the create request's time and response size; the job's wall time and chunks (counted in
the store afterwards); chunks/s over the whole job and over phase 3 alone (from the
progress: the fraction embedded times the chunks); whether the job was still running when
the busy phase ended.

    python bench/big_doc_chat.py [--mb 5] [--turns 12]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _common import SCIFACT
from _process import call, sprig_serve

GOAL = 2.0  # busy chat p50 / idle chat p50
QUESTION = "What is the capital of France?"


@dataclass
class Phase:
    name: str
    chats: list[float] = field(default_factory=list)
    searches: list[float] = field(default_factory=list)
    job_running: bool | None = None  # busy: the job still ran when the phase ended

    def figures(self) -> dict[str, Any]:
        return {
            "chat_p50_s": _pct(self.chats, 0.5),
            "chat_p90_s": _pct(self.chats, 0.9),
            "search_p50_s": _pct(self.searches, 0.5),
            "search_p90_s": _pct(self.searches, 0.9),
            "turns": len(self.chats),
        }


@dataclass
class Ingest:
    create_s: float = 0.0
    response_bytes: int = 0
    job_s: float = 0.0
    chunks: int = 0
    progress: list[tuple[float, float]] = field(default_factory=list)  # (time, fraction)
    state: str = ""
    started: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def rate_after(self, moment: float) -> float:
        """Chunks/s from ``moment`` to the last progress report before the end."""
        later = [(t, f) for t, f in self.progress if t >= moment and f < 1.0]
        if len(later) < 2 or not self.chunks:
            return float("nan")
        (t0, f0), (t1, f1) = later[0], later[-1]
        return (f1 - f0) * self.chunks / (t1 - t0) if t1 > t0 else float("nan")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def big_text(megabytes: float) -> str:
    """SciFact abstracts joined into paragraphs until ``megabytes`` MB of UTF-8."""
    target, parts, size = int(megabytes * 1_000_000), [], 0
    with (SCIFACT / "corpus.jsonl").open() as lines:
        for line in lines:
            doc = json.loads(line)
            paragraph = doc["title"] + "\n" + doc["text"]
            parts.append(paragraph)
            size += len(paragraph.encode()) + 2
            if size >= target:
                break
    return "\n\n".join(parts)


class Driver:
    """The chat session and search scope that every phase measures alike."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.agent = call(client, "POST", "/agents", {"name": "chatty", "about": "bench"})["id"]
        body = {"agent": self.agent, "recall": False}
        self.session = call(client, "POST", "/sessions", body)["id"]

    def chat(self) -> float:
        body = {
            "messages": [{"role": "user", "content": QUESTION}],
            "max_tokens": 20,
            "seed": 1,
            "save": False,
        }
        started = time.perf_counter()
        call(self.client, "POST", f"/sessions/{self.session}/chat", body)
        return time.perf_counter() - started

    def search(self) -> float:
        started = time.perf_counter()
        call(self.client, "POST", f"/agents/{self.agent}/search", {"text": "capital of France"})
        return time.perf_counter() - started

    def round(self, phase: Phase) -> None:
        phase.chats.append(self.chat())
        phase.searches.append(self.search())


def ingest(client: httpx.Client, text: str, result: Ingest) -> None:
    """Create the big doc for a second agent, then follow its job until it ends."""
    owner = call(client, "POST", "/agents", {"name": "reader", "about": "bench"})["id"]
    started = time.perf_counter()
    response = client.post(f"/agents/{owner}/docs", json={"title": "big", "content": text})
    result.create_s = time.perf_counter() - started
    result.response_bytes = len(response.content)
    response.raise_for_status()
    job = response.json()["jobs"][0]
    while True:
        state = call(client, "GET", f"/jobs/{job}")
        fraction = float(state["progress"] or 0.0)
        result.progress.append((time.perf_counter(), fraction))
        if fraction > 0.0 or state["state"] != "queued":
            result.started.set()
        if state["state"] in ("succeeded", "failed"):
            result.state = state["state"]
            break
        time.sleep(0.5)
    result.job_s = time.perf_counter() - started - result.create_s
    result.started.set()
    result.done.set()


def count_chunks(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / 'sprig.db'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM doc_chunks").fetchone()[0])


def run(megabytes: float, turns: int, data_dir: Path) -> tuple[list[Phase], Ingest, float]:
    idle, busy, after, ingested = Phase("idle"), Phase("busy"), Phase("idle after"), Ingest()
    with sprig_serve(data_dir, {}) as client:
        driver = Driver(client)
        driver.round(Phase("warm-up"))
        for _ in range(turns):
            driver.round(idle)
        text = big_text(megabytes)
        with httpx.Client(base_url=client.base_url, headers=client.headers, timeout=600) as c2:
            worker = threading.Thread(target=ingest, args=(c2, text, ingested))
            worker.start()
            ingested.started.wait()
            for _ in range(turns):
                driver.round(busy)
            busy_end = time.perf_counter()
            busy.job_running = not ingested.done.is_set()
            worker.join()
        for _ in range(turns):
            driver.round(after)
    ingested.chunks = count_chunks(data_dir)
    return [idle, busy, after], ingested, busy_end


def report(
    phases: list[Phase], ingested: Ingest, busy_end: float, megabytes: float
) -> dict[str, Any]:
    figures = {p.name: p.figures() for p in phases}
    idle = statistics.fmean([figures["idle"]["chat_p50_s"], figures["idle after"]["chat_p50_s"]])
    moved = [f for _, f in ingested.progress if 0.0 < f < 1.0]
    return {
        "megabytes": megabytes,
        "phases": figures,
        "busy_over_idle_chat_p50": figures["busy"]["chat_p50_s"] / idle,
        "busy_over_idle_search_p50": figures["busy"]["search_p50_s"]
        / statistics.fmean(
            [figures["idle"]["search_p50_s"], figures["idle after"]["search_p50_s"]]
        ),
        "goal": GOAL,
        "create_s": ingested.create_s,
        "create_response_bytes": ingested.response_bytes,
        "job_state": ingested.state,
        "job_s": ingested.job_s,
        "chunks": ingested.chunks,
        "chunks_per_s": ingested.chunks / ingested.job_s if ingested.job_s else 0.0,
        "chunks_per_s_alone": ingested.rate_after(busy_end),
        "job_running_through_busy_phase": phases[1].job_running,
        "progress_reports_between_0_and_1": len(moved),
        "load_average": os.getloadavg()[0],
    }


def print_table(out: dict[str, Any]) -> None:
    print(f"{'phase':<12}{'turns':>7}{'chat p50':>10}{'chat p90':>10}{'search p50':>12}")
    for name, f in out["phases"].items():
        print(
            f"{name:<12}{f['turns']:>7}{f['chat_p50_s']:>9.2f}s{f['chat_p90_s']:>9.2f}s"
            f"{f['search_p50_s'] * 1000:>10.0f}ms"
        )
    print(
        f"busy/idle chat p50 {out['busy_over_idle_chat_p50']:.2f}x (goal < {GOAL:.0f}x), "
        f"search {out['busy_over_idle_search_p50']:.2f}x"
    )
    print(
        f"{out['megabytes']} MB doc: create {out['create_s']:.1f} s, "
        f"{out['create_response_bytes']:,} bytes back; job {out['job_state']} in "
        f"{out['job_s']:.0f} s, {out['chunks']:,} chunks, {out['chunks_per_s']:.1f} chunks/s "
        f"({out['chunks_per_s_alone']:.1f} alone; running through the busy phase: "
        f"{out['job_running_through_busy_phase']}); "
        f"{out['progress_reports_between_0_and_1']} progress reports between 0 and 1; "
        f"load average {out['load_average']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=5.0, help="size of the document")
    parser.add_argument("--turns", type=int, default=12, help="chat turns in each idle phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sprig-bigdoc-") as tmp:
        phases, ingested, busy_end = run(args.mb, args.turns, Path(tmp) / "data")
    out = report(phases, ingested, busy_end, args.mb)
    print_table(out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
