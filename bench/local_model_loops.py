"""Does the bundled local model answer, or loop? Old decoding defaults against the new ones.

A fixed set of everyday requests goes to the bundled SmolLM2-135M through a real
``sprig serve`` process over HTTP, streamed (SSE), as a user's client would send them:
32 single questions, 3 conversations of 3 turns (each reply saved, so it is part of the
next turn's prompt) and 2 questions answered from an agent's documents. 43 replies.

Two servers run side by side, their requests interleaved (alternating which goes first),
so that load on the shared machine hits both alike:

- ``before``: the decoding of the earlier release, sent explicitly with each request
  (temperature 0.2, top_p 0.9, max_tokens 512, no repetition penalty) to a server whose
  loop guard is off (``SPRIG_LOCAL_MODEL_LOOP_GUARD=false``);
- ``after``: the server's defaults; nothing but the seed is sent.

Every request carries a seed (the same in both phases), so a run is reproducible.

A reply counts as **looping** when the server's loop guard cut it (``stop_reason:
"repetition"``) or when its text still repeats itself (a run of 10 words or marks that
occurs 3 times or more: the judge, independent of the guard); **capped** when it ended at
``max_tokens`` (``finish_reason: "length"``). Latency: the reply's wall time at the client
(p50, p90), the time to its first text, and tokens/s (completion tokens over the wall time,
the median of the replies; and from the first text on, for replies of 20 tokens or more:
the generation speed without the prompt's evaluation, which short replies are mostly). Conversations report the prompt tokens of their later turns,
which a looped reply inflates; document questions whether the fact was in the reply.

    python bench/local_model_loops.py [--seeds 1] [--phases before,after] [--quick]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _process import call, sprig_serve

OLD_DEFAULTS = {"temperature": 0.2, "top_p": 0.9, "max_tokens": 512, "repetition_penalty": 1.0}
GOAL = 0.05  # share of replies that loop or hit the cap
JUDGE_WORDS, JUDGE_TIMES = 10, 3

QUESTIONS = [
    "What is the capital of France?",
    "Tell me about France.",
    "Hello! How are you today?",
    "What is your name?",
    "Give me three tips for sleeping better.",
    "How do I boil an egg?",
    "Write a short poem about the sea.",
    "What is two plus two?",
    "Explain photosynthesis in simple words.",
    "What should I cook for dinner tonight?",
    'Translate "good morning" into Spanish.',
    "What is the weather like on Mars?",
    "Can you recommend a good book?",
    "How many days are there in a week?",
    "Write a haiku about autumn.",
    "What is the difference between a cat and a dog?",
    "Summarise the story of Cinderella.",
    "Why is the sky blue?",
    "How do I make a cup of tea?",
    "List five fruits.",
    "What is Python used for?",
    "Tell me a joke.",
    "Tell me about Paris.",
    "What are the benefits of drinking water?",
    "How can I learn to play the guitar?",
    "Write an email to my boss asking for a day off.",
    "What is the largest planet in the solar system?",
    "Who wrote Romeo and Juliet?",
    "Give me a recipe for pancakes.",
    "What are the colours of the rainbow?",
    "How do I stay motivated when studying?",
    "Describe your perfect weekend.",
]
CONVERSATIONS = [
    ["What is the capital of France?", "What is it famous for?", "What should I visit there?"],
    ["Hi, I'm planning a trip to Italy.", "Which cities should I see?", "What food should I try?"],
    ["I want to start running.", "How often should I run?", "What shoes should I buy?"],
]
DOCS = [
    ("Office wifi", "The office wifi password is heron-42-blue."),
    ("Canteen", "Lunch is served in the canteen from noon to 2 pm. Fridays are pizza days."),
    ("Parking", "Visitors park on level -2 of the garage; the code for the gate is 7731."),
]
DOC_QUESTIONS = [
    ("What is the office wifi password?", "heron-42-blue"),
    ("What is the code for the garage gate?", "7731"),
]


@dataclass
class Reply:
    kind: str  # question | conversation | docs
    text: str
    seconds: float
    first_text: float | None
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    stop_reason: str | None
    turn: int = 0
    found: bool | None = None  # docs: the fact is in the reply

    @property
    def capped(self) -> bool:
        return self.finish_reason == "length"

    @property
    def cut(self) -> bool:
        return self.stop_reason == "repetition"

    @property
    def repetitive(self) -> bool:
        return repeats_itself(self.text)

    @property
    def looping(self) -> bool:
        return self.cut or self.repetitive

    @property
    def bad(self) -> bool:
        return self.looping or self.capped


def repeats_itself(text: str) -> bool:
    """The judge: some run of `JUDGE_WORDS` words or marks occurs `JUDGE_TIMES` times."""
    words = re.findall(r"\w+|[^\w\s]", text.lower())
    runs = Counter(tuple(words[i : i + JUDGE_WORDS]) for i in range(len(words) - JUDGE_WORDS + 1))
    return bool(runs) and max(runs.values()) >= JUDGE_TIMES


# -- one phase: a server and the settings it is sent -----------------------------------------


@dataclass
class Phase:
    name: str
    client: httpx.Client
    sampling: dict[str, Any]
    agent: str = ""
    docs_agent: str = ""
    replies: list[Reply] = field(default_factory=list)

    def setup(self) -> None:
        self.agent = call(self.client, "POST", "/agents", _agent("Pip"))["id"]
        self.docs_agent = call(self.client, "POST", "/agents", _agent("Concierge"))["id"]
        for title, content in DOCS:
            body = {"title": title, "content": content}
            call(self.client, "POST", f"/agents/{self.docs_agent}/docs", body)
        _wait_searchable(self.client, self.docs_agent)
        warm_up = {"save": False, "max_tokens": 4}  # loads the model
        self.chat(self.new_session(self.agent), "Hi", seed=0, **warm_up)

    def new_session(self, agent: str) -> str:
        return str(call(self.client, "POST", "/sessions", {"agent": agent})["id"])

    def chat(self, session: str, text: str, *, seed: int, **extra: Any) -> Reply:
        body = {
            "messages": [{"role": "user", "content": text}],
            "stream": True,
            "seed": seed,
            **self.sampling,
            **extra,
        }
        return stream_reply(self.client, session, body)


def _agent(name: str) -> dict[str, Any]:
    return {"name": name, "about": "A friendly assistant."}


def _wait_searchable(client: httpx.Client, agent: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        found = call(client, "POST", f"/agents/{agent}/search", {"text": "wifi password"})
        if found["docs"]:
            return
        time.sleep(1)
    raise RuntimeError("the bench's documents never became searchable")


def stream_reply(client: httpx.Client, session: str, body: dict[str, Any]) -> Reply:
    headers = {"Accept": "text/event-stream"}
    started, first, parts = time.perf_counter(), None, []
    last: dict[str, Any] = {}
    with client.stream("POST", f"/sessions/{session}/chat", json=body, headers=headers) as r:
        if r.status_code != 201:
            raise RuntimeError(f"chat: {r.status_code} {r.read()[:500]!r}")
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if "error" in chunk:
                raise RuntimeError(f"chat failed mid-stream: {chunk['error']}")
            if text := chunk["choices"][0]["delta"].get("content"):
                first = first if first is not None else time.perf_counter() - started
                parts.append(text)
            if chunk["choices"][0]["finish_reason"] is not None:
                last = chunk
    usage = last.get("usage") or {}
    return Reply(
        kind="question",
        text="".join(parts),
        seconds=time.perf_counter() - started,
        first_text=first,
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
        finish_reason=last["choices"][0]["finish_reason"] if last else None,
        stop_reason=last.get("stop_reason"),
    )


# -- the workload ------------------------------------------------------------------------------


@dataclass
class Workload:
    questions: list[str]
    conversations: list[list[str]]
    doc_questions: list[tuple[str, str]]
    seeds: int
    max_tokens: int | None = None  # --quick only: a short cap on both phases

    def items(self) -> Iterator[tuple[str, Any, int]]:
        """(kind, item, seed) in a fixed order."""
        for round_ in range(self.seeds):
            base = 1000 * round_
            for i, question in enumerate(self.questions):
                yield "question", question, base + i
            for i, turns in enumerate(self.conversations):
                yield "conversation", turns, base + 100 + i
            for i, doc_question in enumerate(self.doc_questions):
                yield "docs", doc_question, base + 200 + i


def run_item(phase: Phase, kind: str, item: Any, seed: int) -> None:
    if kind == "question":
        phase.replies.append(phase.chat(phase.new_session(phase.agent), item, seed=seed))
    elif kind == "conversation":
        session = phase.new_session(phase.agent)
        for turn, text in enumerate(item):
            reply = phase.chat(session, text, seed=seed + 10 * turn)
            reply.kind, reply.turn = "conversation", turn
            phase.replies.append(reply)
    else:
        question, fact = item
        reply = phase.chat(phase.new_session(phase.docs_agent), question, seed=seed)
        reply.kind, reply.found = "docs", fact.lower() in reply.text.lower()
        phase.replies.append(reply)


def run(phases: list[Phase], workload: Workload) -> None:
    for phase in phases:
        phase.setup()
    for index, (kind, item, seed) in enumerate(workload.items()):
        order = phases if index % 2 == 0 else phases[::-1]
        for phase in order:
            run_item(phase, kind, item, seed)
        print(f"  {index + 1} items done", file=sys.stderr, flush=True)


# -- figures -----------------------------------------------------------------------------------


def _share(replies: list[Reply], test: str) -> float:
    return sum(bool(getattr(r, test)) for r in replies) / len(replies)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def figures(phase: Phase) -> dict[str, Any]:
    replies = phase.replies
    later = [r.prompt_tokens for r in replies if r.kind == "conversation" and r.turn > 0]
    docs = [r for r in replies if r.kind == "docs"]
    seconds = [r.seconds for r in replies]
    firsts = [r.first_text for r in replies if r.first_text is not None]
    rates = [r.completion_tokens / r.seconds for r in replies if r.seconds > 0]
    decode = [
        (r.completion_tokens - 1) / (r.seconds - r.first_text)
        for r in replies
        if r.first_text is not None and r.completion_tokens >= 20 and r.seconds > r.first_text
    ]
    return {
        "replies": len(replies),
        "looping_or_capped": _share(replies, "bad"),
        "capped": _share(replies, "capped"),
        "cut_by_guard": _share(replies, "cut"),
        "repetitive_text": _share(replies, "repetitive"),
        "reply_s_p50": statistics.median(seconds),
        "reply_s_p90": _pct(seconds, 0.9),
        "first_text_s_p50": statistics.median(firsts) if firsts else None,
        "tokens_per_s_p50": statistics.median(rates),
        "decode_tokens_per_s_p50": statistics.median(decode) if decode else None,
        "completion_tokens_mean": statistics.mean(r.completion_tokens for r in replies),
        "completion_tokens_max": max(r.completion_tokens for r in replies),
        "later_turn_prompt_tokens_mean": statistics.mean(later) if later else None,
        "later_turn_prompt_tokens_max": max(later) if later else None,
        "doc_facts_found": sum(bool(r.found) for r in docs) / len(docs) if docs else None,
    }


ROWS = [
    ("replies", "replies", "{:d}"),
    ("looping or capped", "looping_or_capped", "{:.1%}"),
    ("  capped (max_tokens)", "capped", "{:.1%}"),
    ("  cut by the loop guard", "cut_by_guard", "{:.1%}"),
    ("  text repeats itself (judge)", "repetitive_text", "{:.1%}"),
    ("reply time p50, s", "reply_s_p50", "{:.2f}"),
    ("reply time p90, s", "reply_s_p90", "{:.2f}"),
    ("first text p50, s", "first_text_s_p50", "{:.2f}"),
    ("tokens/s p50", "tokens_per_s_p50", "{:.1f}"),
    ("  after the first text, p50", "decode_tokens_per_s_p50", "{:.1f}"),
    ("completion tokens, mean", "completion_tokens_mean", "{:.0f}"),
    ("completion tokens, max", "completion_tokens_max", "{:d}"),
    ("later turns' prompt tokens, mean", "later_turn_prompt_tokens_mean", "{:.0f}"),
    ("later turns' prompt tokens, max", "later_turn_prompt_tokens_max", "{:d}"),
    ("document facts found", "doc_facts_found", "{:.0%}"),
]


def print_table(results: dict[str, dict[str, Any]]) -> None:
    names = list(results)
    print(f"{'':34}" + "".join(f"{n:>12}" for n in names))
    for label, key, fmt in ROWS:
        cells = [results[n][key] for n in names]
        print(f"{label:34}" + "".join(f"{_fmt(fmt, c):>12}" for c in cells))


def _fmt(fmt: str, value: Any) -> str:
    return "-" if value is None else fmt.format(value)


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1, help="rounds, each with its own seeds")
    parser.add_argument("--phases", default="before,after")
    parser.add_argument("--quick", action="store_true", help="a few short replies (smoke test)")
    parser.add_argument("--dump", type=Path, help="write every reply's text and figures here")
    args = parser.parse_args()
    workload = _workload(args.seeds, args.quick)
    names = [n.strip() for n in args.phases.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="sprig-loops-") as tmp, ExitStack() as stack:
        phases = [_phase(stack, Path(tmp), name, workload) for name in names]
        started = time.perf_counter()
        run(phases, workload)
        wall = time.perf_counter() - started
    results = {p.name: figures(p) for p in phases}
    if args.dump:
        args.dump.write_text(json.dumps({p.name: [vars(r) for r in p.replies] for p in phases}))
    print_table(results)
    print(f"goal: looping or capped under {GOAL:.0%}; wall time {wall:.0f} s; ", end="")
    print(f"load average {os.getloadavg()[0]:.2f}")
    out = {"seeds": args.seeds, "quick": args.quick, "goal": GOAL, "phases": results}
    print(json.dumps(out))


def _workload(seeds: int, quick: bool) -> Workload:
    if quick:
        return Workload(QUESTIONS[:2], [CONVERSATIONS[0][:2]], DOC_QUESTIONS[:1], 1, 32)
    return Workload(QUESTIONS, CONVERSATIONS, DOC_QUESTIONS, seeds)


def _phase(stack: ExitStack, tmp: Path, name: str, workload: Workload) -> Phase:
    if name not in ("before", "after"):
        raise SystemExit(f"unknown phase {name!r}: before, after")
    env = {"SPRIG_LOCAL_MODEL_LOOP_GUARD": "false" if name == "before" else "true"}
    client = stack.enter_context(sprig_serve(tmp / name, env))
    sampling = dict(OLD_DEFAULTS) if name == "before" else {}
    if workload.max_tokens is not None:
        sampling["max_tokens"] = workload.max_tokens
    return Phase(name, client, sampling)


if __name__ == "__main__":
    main()
