"""A multi-megabyte document does not stall the server: its chunking and token counting run
off the event loop, so ``/healthz`` keeps answering while the create call works, and the
document is then listed and searchable with every chunk (the real MiniLM tokenizer counts)."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sprig.server.embeddings.local import LocalEmbedder
from sprig.server.search.chunking import chunk_document
from sprig.server.settings import Settings
from tests.helpers.processes import ServerProcess, new_key

pytestmark = pytest.mark.e2e
DOC_BYTES = 4_000_000
# A healthz answer takes ~5 ms. With the chunking on the event loop it waited for all of it
# (4 MB: ~7 s before the fix); now the worst seen is ~0.35 s, on 2 cores shared with other
# test runs (the GIL and the CPU are shared with the chunking thread).
HEALTHZ_BOUND_S = 1.0
_VOCABULARY = (
    "the of and to in is was for on that with as by at from his her they this which be "
    "river mountain engine library signal garden protein market window theory harbour "
    "measure student village winter letter surface pattern machine history silver forest "
    "reading running quickly carefully although because between through against during "
    "Amsterdam Berlin Nakamura photosynthesis electromagnetic 1987 3.14 e-mail co-operate"
)
WORDS = _VOCABULARY.split(" ")


def big_text(size: int) -> str:
    """Prose-like paragraphs with markers at the start, the middle and the end."""
    rng = random.Random(7)
    paragraphs, total = ["Zanzibarmarker opens the document."], 0
    while total < size:
        sentences = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 28))).capitalize() + "."
            for _ in range(rng.randint(2, 9))
        ]
        paragraphs.append(" ".join(sentences))
        total += len(paragraphs[-1]) + 2
        if len(paragraphs) == 4000:
            paragraphs.append("Quetzalmarker sits in the middle.")
    paragraphs.append("Xylophonemarker closes the document.")
    return "\n\n".join(paragraphs)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    env = {"SPRIG_IN_PROCESS_WORKER": "false", "SPRIG_DEFAULT_MODEL": "echo"}
    proc = ServerProcess(data_dir=tmp_path / "data", api_key=new_key(), env=env).start()
    yield proc
    proc.stop()


class HealthPoller:
    """Asks ``/healthz`` every 20 ms in a thread and keeps each answer's latency."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as c:
            while not self._stop.wait(0.02):
                started = time.perf_counter()
                r = c.get("/healthz")
                self.latencies.append(time.perf_counter() - started)
                if r.status_code != 200:
                    self.failures.append(r.text)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        while len(self.latencies) < 3:
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def stored_chunks(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "sprig.db") as db:
        rows = db.execute("SELECT content FROM doc_chunks ORDER BY chunk_index").fetchall()
    return [r[0] for r in rows]


def test_big_doc_create_leaves_the_server_responsive(server: ServerProcess) -> None:
    text = big_text(DOC_BYTES)
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=300) as c:
        agent = c.post("/agents", json={"name": "Reader"}).json()["id"]
        with HealthPoller(server.base_url) as health:
            started = time.perf_counter()
            r = c.post(f"/agents/{agent}/docs", json={"title": "Big", "content": text})
            took = time.perf_counter() - started
        assert r.status_code == 201, r.text[:500]
        assert not health.failures
        slowest = sorted(health.latencies)[-3:]
        assert slowest[-1] < HEALTHZ_BOUND_S, (
            f"healthz took {slowest} s during a {took:.1f} s create"
        )
        assert len(health.latencies) >= took / 0.25  # it kept answering all along

        assert r.json()["status"] == "pending" and r.json()["jobs"]  # embedded by a job
        [listed] = c.get(f"/agents/{agent}/docs").json()["items"]
        assert listed["id"] == r.json()["id"] and listed["title"] == "Big"
        for marker in ("Zanzibarmarker", "Quetzalmarker", "Xylophonemarker"):
            body = {"text": marker, "mode": "text", "limit": 3}
            hits = c.post(f"/agents/{agent}/search", json=body).json()["docs"]
            assert marker in hits[0]["snippet"]["content"], marker
    embedder, defaults = LocalEmbedder(), Settings()
    expected = chunk_document(
        "Big",
        text,
        defaults.chunk_tokens,
        defaults.chunk_overlap,
        embedder.count_tokens,
        embedder.token_starts,
    )
    assert len(expected) > 1000
    assert stored_chunks(server.data_dir) == [chunk.text for chunk in expected]
