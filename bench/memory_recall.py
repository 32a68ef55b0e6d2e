"""Memory recall on LoCoMo through Sprig's HTTP API: recall@5 and recall@10 of the annotated
evidence turns, against BM25-over-turns and dense-over-turns baselines run on the same texts.

What runs is the real server in process (httpx over ASGITransport, a temp SQLite data dir,
the default embedding model: the bundled all-MiniLM-L6-v2; the chat model is ``echo``,
never called). LoCoMo is read in place from ../shared/data/locomo, never copied.

1. Load: per conversation, one agent and one user; every dialogue turn becomes one memory
   (``POST /agents/{id}/memories``, 256 per call; type ``episode``; timestamp = its session's
   date; entity = the speaker). The text is ``"<speaker>: <text>"`` plus ``[shares a photo
   of <caption>]`` when the turn shares an image. Forming memories with an LLM is not
   possible offline, so this measures memory search over turns, not extraction.
2. Questions of categories 1-4 (1,540; category 5 is adversarial, without evidence turns):
   ``POST /agents/{id}/memories/search`` with ``limit`` k, for k = 5 and 10.
3. Baselines over the same turn texts, in the same run: BM25 = the BM25 of Sprig's document
   search (``search.corpus.Corpus``: Okapi BM25, Porter stemming, English stop words); dense =
   cosine similarity of the question's MiniLM embedding to the turns' stored embeddings.
4. recall@k = |evidence in top k| / |evidence|, averaged over questions (evidence ids are
   normalised, ``D30:05`` -> ``D30:5``; ids absent from the conversation are dropped).
   Tokens of recalled context = the all-MiniLM-L6-v2 (WordPiece) tokens of the k texts.

    python bench/memory_recall.py [--conversations N]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa
from _common import server_ms

from sprig.server.app import create_app
from sprig.server.runtime import Runtime
from sprig.server.search.corpus import ChunkRow, Corpus
from sprig.server.settings import Settings
from sprig.server.store import tables

ROOT = Path(__file__).resolve().parents[1]
LOCOMO = ROOT.parent / "shared" / "data" / "locomo" / "locomo10.json"
KEY = "sk-bench-" + "m" * 32
KS = (5, 10)
METHODS = ("bm25", "dense", "sprig")
BATCH = 256
BM25_OWNER = ("agent", uuid.UUID(int=0))


@dataclass
class Turn:
    dia_id: str
    speaker: str
    text: str
    when: datetime


@dataclass
class Question:
    text: str
    category: int
    evidence: set[str]


@dataclass
class Conversation:
    sample_id: str
    turns: list[Turn]
    questions: list[Question]
    dropped_evidence: int = 0


@dataclass
class Scores:
    """Per method and k: recall of each question, tokens recalled, and by category."""

    recall: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    tokens: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    category: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    server_ms: list[float] = field(default_factory=list)

    def add(self, method: str, k: int, q: Question, recall: float, tokens: int) -> None:
        self.recall.setdefault((method, k), []).append(recall)
        self.tokens.setdefault((method, k), []).append(tokens)
        if k == max(KS):
            self.category.setdefault((method, q.category), []).append(recall)


def turn_text(turn: dict[str, Any]) -> str:
    text = f"{turn['speaker']}: {turn['text']}"
    caption = turn.get("blip_caption")
    return f"{text} [shares a photo of {caption}]" if caption else text


def dia_ids(raw: Sequence[str]) -> set[str]:
    return {f"D{int(a)}:{int(b)}" for item in raw for a, b in re.findall(r"D(\d+):(\d+)", item)}


def session_turns(conversation: dict[str, Any]) -> list[Turn]:
    turns = []
    numbers = sorted(
        int(k.split("_")[1])
        for k, v in conversation.items()
        if k.startswith("session_") and isinstance(v, list)
    )
    for n in numbers:
        stamp = conversation[f"session_{n}_date_time"]
        when = datetime.strptime(stamp, "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)
        for t in conversation[f"session_{n}"]:
            turns.append(Turn(t["dia_id"], t["speaker"], turn_text(t), when))
    return turns


def load(path: Path, limit: int | None) -> list[Conversation]:
    out = []
    for sample in json.loads(path.read_text())[:limit]:
        turns = session_turns(sample["conversation"])
        known = {t.dia_id for t in turns}
        conv = Conversation(sample["sample_id"], turns, [])
        for qa in sample["qa"]:
            evidence = dia_ids(qa.get("evidence", []))
            conv.dropped_evidence += len(evidence - known)
            if 1 <= qa["category"] <= 4 and evidence & known:
                conv.questions.append(Question(qa["question"], qa["category"], evidence & known))
        out.append(conv)
    return out


@dataclass
class Sprig:
    client: httpx.AsyncClient
    runtime: Runtime

    async def call(self, method: str, path: str, body: Any, status: int = 200) -> Any:
        response = await self.client.request(method, path, json=body)
        if response.status_code != status:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json(), server_ms(response)


@asynccontextmanager
async def sprig_app(data_dir: Path) -> AsyncIterator[Sprig]:
    settings = Settings(data_dir=data_dir, api_key=KEY, default_model="echo")  # type: ignore[arg-type]
    runtime = Runtime.build(settings)
    app = create_app(settings, runtime)
    headers = {"Authorization": f"Bearer {KEY}"}
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers, timeout=600
        ) as client,
    ):
        yield Sprig(client, runtime)


@dataclass
class Loaded:
    agent: str
    user: str
    dia_of: dict[str, str]  # memory id -> dia id
    texts: dict[str, str]  # dia id -> text


async def load_conversation(sprig: Sprig, conv: Conversation) -> Loaded:
    agent, _ = await sprig.call("POST", "/agents", {"name": f"locomo {conv.sample_id}"}, 201)
    user, _ = await sprig.call("POST", "/users", {"name": conv.sample_id}, 201)
    loaded = Loaded(agent["id"], user["id"], {}, {t.dia_id: t.text for t in conv.turns})
    for start in range(0, len(conv.turns), BATCH):
        batch = conv.turns[start : start + BATCH]
        items = [
            {
                "content": t.text,
                "type": "episode",
                "user_id": user["id"],
                "timestamp": t.when.isoformat(),
                "entities": [t.speaker],
            }
            for t in batch
        ]
        made, _ = await sprig.call("POST", f"/agents/{agent['id']}/memories", items, 201)
        loaded.dia_of.update({m["id"]: t.dia_id for m, t in zip(made["items"], batch, strict=True)})
    return loaded


def bm25_index(turns: list[Turn]) -> Corpus:
    """The turns as one owner's chunks in the corpus Sprig's document search uses."""
    corpus = Corpus()
    rows = [
        ChunkRow(i, uuid.uuid5(uuid.NAMESPACE_URL, t.dia_id), BM25_OWNER, "en", "", t.text, None)
        for i, t in enumerate(turns, start=1)
    ]
    corpus.add(rows)
    return corpus


def bm25_top(index: Corpus, turns: list[Turn], text: str, k: int) -> list[str]:
    hits = index.text_search(text, index.mask([BM25_OWNER]), k)
    return [turns[chunk - 1].dia_id for chunk, _, _ in hits]


async def dense_matrix(sprig: Sprig, loaded: Loaded) -> tuple[list[str], np.ndarray[Any, Any]]:
    """The turns' embeddings as stored by Sprig (the dense baseline uses the same vectors)."""
    m = tables.memories
    stmt = sa.select(m.c.id, m.c.embedding).where(m.c.agent_id == uuid.UUID(loaded.agent))
    async with sprig.runtime.db.read() as conn:
        rows = [(str(i), bytes(b)) for i, b in await conn.execute(stmt)]
    ids = [loaded.dia_of[i] for i, _ in rows]
    matrix = np.frombuffer(b"".join(b for _, b in rows), dtype=np.float32)
    return ids, matrix.reshape(len(rows), -1)


def recall_at(ranked: Sequence[str], evidence: set[str], k: int) -> float:
    return len(evidence & set(ranked[:k])) / len(evidence)


async def sprig_top(sprig: Sprig, loaded: Loaded, q: Question, k: int, scores: Scores) -> list[str]:
    body = {"text": q.text, "user_id": loaded.user, "limit": k}
    found, ms = await sprig.call("POST", f"/agents/{loaded.agent}/memories/search", body)
    scores.server_ms.append(ms)
    return [loaded.dia_of[item["id"]] for item in found["items"]]


async def evaluate(sprig: Sprig, conv: Conversation, loaded: Loaded, scores: Scores) -> None:
    index = bm25_index(conv.turns)
    dense_ids, matrix = await dense_matrix(sprig, loaded)
    vectors = await sprig.runtime.indexer.embed([q.text for q in conv.questions])
    count = sprig.runtime.indexer.embedder.count_tokens
    for q, vector in zip(conv.questions, vectors, strict=True):
        bm25 = bm25_top(index, conv.turns, q.text, 10)
        order = np.argsort(-(matrix @ vector), kind="stable")[:10]
        ranked = {"bm25": bm25, "dense": [dense_ids[i] for i in order]}
        for k in KS:
            ranked["sprig"] = await sprig_top(sprig, loaded, q, k, scores)
            for method in METHODS:
                top = ranked[method][:k]
                tokens = sum(count(loaded.texts[d]) for d in top)
                scores.add(method, k, q, recall_at(top, q.evidence, k), tokens)


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def report(scores: Scores, convs: list[Conversation], load_s: float, turns: int) -> None:
    names = {"bm25": "BM25 over turns (FTS5)", "dense": "dense over turns (MiniLM)"}
    names["sprig"] = "Sprig memory search (hybrid)"
    print(
        f"{'method':32} {'R@5':>7} {'R@10':>7} {'tok@5':>7} {'tok@10':>7}  R@10 by category 1/2/3/4"
    )
    for method in METHODS:
        r5, r10 = (mean(scores.recall[(method, k)]) for k in KS)
        t5, t10 = (mean(scores.tokens[(method, k)]) for k in KS)
        cats = " / ".join(f"{mean(scores.category.get((method, c), [])):.3f}" for c in (1, 2, 3, 4))
        print(f"{names[method]:32} {r5:7.3f} {r10:7.3f} {t5:7.0f} {t10:7.0f}  {cats}")
    questions = len(scores.recall[("sprig", 10)])
    p50 = statistics.median(scores.server_ms)
    print(
        f"\n{len(convs)} conversations, {turns} turns loaded in {load_s:.1f} s "
        f"({turns / load_s:.0f} turns/s, embeddings included); {questions} questions; "
        f"search p50 {p50:.1f} ms server-side"
    )
    figures: dict[str, Any] = {
        "bench": "memory_recall",
        "conversations": len(convs),
        "turns": turns,
        "questions": questions,
        "dropped_evidence_ids": sum(c.dropped_evidence for c in convs),
        "load_turns_per_s": round(turns / load_s, 1),
        "search_p50_ms": round(p50, 2),
    }
    for method in METHODS:
        for k in KS:
            figures[f"{method}_recall@{k}"] = round(mean(scores.recall[(method, k)]), 4)
            figures[f"{method}_tokens@{k}"] = round(mean(scores.tokens[(method, k)]), 1)
    print(json.dumps(figures))


async def main(args: argparse.Namespace) -> None:
    convs = load(LOCOMO, args.conversations)
    scores = Scores()
    with tempfile.TemporaryDirectory(prefix="sprig-locomo-") as tmp:
        async with sprig_app(Path(tmp)) as sprig:
            started = time.perf_counter()
            loaded = [await load_conversation(sprig, c) for c in convs]
            load_s = time.perf_counter() - started
            print(f"loaded in {load_s:.1f} s; asking...", file=sys.stderr)
            for conv, done in zip(convs, loaded, strict=True):
                await evaluate(sprig, conv, done, scores)
    report(scores, convs, load_s, sum(len(c.turns) for c in convs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=None, help="first N only")
    asyncio.run(main(parser.parse_args()))
