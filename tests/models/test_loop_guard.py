"""The loop guard: a reply that repeats itself is cut after the first copy, and says so;
ordinary text, lists included, is never cut and streams out whole.

A word-level stand-in tokenizer plays the model: no model is loaded here (the real one is
in test_model_local.py and tests/e2e/test_chat_local.py).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from sprig.server.models.base import CompletionChunk, SamplingParams
from sprig.server.models.decoding import LoopGuard, ReplyText
from sprig.server.models.llama_runner import make_plan, run_generation

PIECE = re.compile(r" ?\w+|\s+|[^\w\s]")


class Vocab:
    """Token ids for text pieces (a word with its leading space, a mark, a run of spaces)."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.ids: dict[str, int] = {}

    def encode(self, text: str) -> list[int]:
        return [self._id(piece) for piece in PIECE.findall(text)]

    def _id(self, piece: str) -> int:
        if piece not in self.ids:
            self.ids[piece] = len(self.pieces)
            self.pieces.append(piece)
        return self.ids[piece]

    def detokenize(self, tokens: Sequence[int]) -> bytes:
        return "".join(self.pieces[t] for t in tokens).encode()


def guarded(text: str, stop: Sequence[str] = ()) -> tuple[list[str], ReplyText, int]:
    """Stream `text` through a guarded `ReplyText`: the deltas, the assembler, tokens fed."""
    vocab = Vocab()
    reply = ReplyText(vocab.detokenize, stop, LoopGuard())
    deltas, fed = [], 0
    for token in vocab.encode(text):
        fed += 1
        deltas.append(reply.feed(token))
        if reply.stopped:
            break
    else:
        deltas.append(reply.flush())
    return [d for d in deltas if d], reply, fed


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()]


# -- loops are cut ---------------------------------------------------------------------------


def test_a_cycling_sentence_is_cut_after_its_first_copy() -> None:
    text = "Bonjour! I love France. " + "I'm so glad you're having a wonderful dinner. " * 30
    deltas, reply, fed = guarded(text)
    kept = "".join(deltas)
    assert reply.looped and not reply.flush()
    assert kept == "Bonjour! I love France. I'm so glad you're having a wonderful dinner."
    assert fed < 40  # noticed within the second copy or so, not at the end of the stream
    assert len(sentences(kept)) == len(set(sentences(kept)))


def test_a_short_cycle_is_cut_at_a_clause_end() -> None:
    deltas, reply, _ = guarded("La France" + ", la France" * 40)
    assert reply.looped
    assert "".join(deltas) == "La France, la France"


def test_a_cycle_of_lines_is_cut_and_the_poem_kept() -> None:
    poem = "The waves of the sea,\nA silent force,\n" + "A gentle lover, adoring, unafraid,\n" * 20
    deltas, reply, _ = guarded(poem)
    kept = "".join(deltas)
    assert reply.looped
    assert kept == "The waves of the sea,\nA silent force,\nA gentle lover, adoring, unafraid"


def test_a_cycle_of_paragraphs_is_cut() -> None:
    paragraph = (
        "You need to have a guitar. It's a journey that requires patience, dedication "
        "and a willingness to learn. Practice every day, and play the songs you love.\n\n"
    )
    deltas, reply, fed = guarded("The art of playing the guitar.\n\n" + paragraph * 6)
    kept = "".join(deltas)
    assert reply.looped
    assert kept == "The art of playing the guitar.\n\n" + paragraph.strip()
    assert fed < 2.5 * len(Vocab().encode(paragraph)) + 10


def test_a_loop_starting_mid_sentence_ends_at_the_end_of_a_sentence() -> None:
    # The copy before the loop shares its last words with the block, so the first copy
    # "begins" inside a sentence; the reply is taken on to that sentence's end.
    text = "It's a day where you can rest, and rest. " + (
        "It's a day where you can indulge in your favourite activities, and indulge. " * 12
    )
    deltas, reply, _ = guarded(text)
    kept = "".join(deltas)
    assert reply.looped
    assert kept.endswith(".")
    assert kept.count("indulge in your favourite activities") <= 2
    assert len(kept) < len(text) // 4


def test_one_repeated_token_is_a_loop() -> None:
    deltas, reply, _ = guarded("Wow" + "!" * 60)
    assert reply.looped
    assert "".join(deltas) == "Wow!"


def test_a_counting_loop_is_cut() -> None:
    lines = "".join(f'{i}. "The Nightingale" by J.R.R. Tolkien\n' for i in range(1, 40))
    deltas, reply, _ = guarded("My favourite books:\n" + lines)
    assert reply.looped
    assert "".join(deltas) == 'My favourite books:\n1. "The Nightingale" by J.R.R. Tolkien'


def test_an_empty_bullet_loop_is_cut() -> None:
    deltas, reply, _ = guarded("The password is:\n\n* heron-42-blue\n" + "* \n" * 60)
    assert reply.looped
    assert "".join(deltas) == "The password is:\n\n* heron-42-blue\n*"


def test_the_guard_reports_the_block_and_where_the_copy_ends() -> None:
    guard = LoopGuard(max_period=8, min_repeat=6)
    found = [guard.feed(t) for t in [9, 1, 2, 3, 1, 2, 3, 1, 2, 3]]
    assert found[:-1] == [None] * 9
    loop = found[-1]
    assert loop is not None and (loop.period, loop.cut) == (3, 4)  # keep 9, 1, 2, 3


# -- ordinary text is not cut -------------------------------------------------------------------

ORDINARY = [
    "1. Bananas\n2. Apples\n3. Oranges\n4. Grapes\n5. Strawberries\n\nThese are just a few.",
    "- 2 eggs\n- 2 cups of flour\n- 2 cups of milk\n- 2 spoons of sugar\n- a pinch of salt\n",
    "Shopping list:\n- milk\n- bread\n- milk\n- eggs\n- bread\n- butter\n- cheese\n",
    "| name | age |\n| --- | --- |\n| Ana | 31 |\n| Bob | 42 |\n| Cy | 27 |\n| Di | 35 |\n",
    "It was very, very, very good. Row, row, row your boat, gently down the stream.",
    "Let it be, let it be, let it be, let it be. Whisper words of wisdom, let it be.",
    "Monday: run 5 km. Tuesday: rest. Wednesday: run 5 km. Thursday: rest. Friday: run.",
    "The capital of France is Paris. The capital of Germany is Berlin. The capital of "
    "Italy is Rome. The capital of Spain is Madrid. The capital of Portugal is Lisbon.",
    "| year | people |\n| --- | --- |\n"
    + "".join(f"| {2000 + i} | {1200 + 37 * i} |\n" for i in range(12)),
    "Count with me: " + ", ".join(str(i) for i in range(1, 40)) + ".",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_with_repeated_words_is_not_cut(text: str) -> None:
    deltas, reply, _ = guarded(text)
    assert not reply.looped
    assert "".join(deltas) == text


def test_held_back_text_is_little_and_released_when_the_run_breaks() -> None:
    vocab = Vocab()
    guard = LoopGuard()
    reply = ReplyText(vocab.detokenize, (), guard)
    text = " ".join(ORDINARY)
    held, streamed = [], []
    for token in vocab.encode(text):
        streamed.append(reply.feed(token))
        held.append(guard.held)
    # rows of figures repeat their shape: held up to about min_repeat, then let go
    assert max(held) <= 2 * guard.min_repeat and sum(held) / len(held) < 5
    assert len("".join(streamed)) > len(text) - 60  # out before the end, not at the flush
    assert "".join(streamed) + reply.flush() == text


def test_a_stop_sequence_still_cuts_a_guarded_reply() -> None:
    deltas, reply, _ = guarded("Hello there. END and more text here.", stop=["END"])
    assert "".join(deltas) == "Hello there. "
    assert reply.stopped and not reply.looped


def test_without_a_guard_everything_streams_at_once() -> None:
    vocab = Vocab()
    reply = ReplyText(vocab.detokenize)
    tokens = vocab.encode("la la la la")
    assert [reply.feed(t) for t in tokens] == ["la", " la", " la", " la"]


# -- in the generation loop ---------------------------------------------------------------------


class ScriptedLlama:
    """Enough of `llama_cpp.Llama` for `run_generation`: it "generates" a fixed token list."""

    EOS = 0

    def __init__(self, vocab: Vocab, text: str) -> None:
        self._tokens = [*vocab.encode(text), self.EOS]
        self._vocab = vocab
        self._model = type("Model", (), {"vocab": None})()

    def set_seed(self, seed: int) -> None:
        pass

    def generate(self, prompt: list[int], **sampler: Any) -> Iterator[int]:
        yield from self._tokens

    def detokenize(self, tokens: Sequence[int]) -> bytes:
        return self._vocab.detokenize(tokens)


@pytest.fixture
def scripted_eog(monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "llama_vocab_is_eog", lambda _v, t: t == ScriptedLlama.EOS)


def generate(text: str, *, guard: bool = True, max_tokens: int = 400) -> list[CompletionChunk]:
    vocab = Vocab()
    vocab.encode("<eos>")  # id 0
    llama = ScriptedLlama(vocab, text)
    plan = make_plan([1, 2, 3], SamplingParams(max_tokens=max_tokens), 4096, None, loop_guard=guard)
    chunks: list[CompletionChunk] = []
    run_generation(llama, plan, chunks.append, threading.Event())
    return chunks


@pytest.mark.usefixtures("scripted_eog")
def test_generation_stops_a_loop_with_stop_reason_repetition() -> None:
    chunks = generate("Hello. " + "The story is told from the prince's view. " * 40)
    last = chunks[-1]
    assert "".join(c.content for c in chunks) == "Hello. The story is told from the prince's view."
    assert (last.finish_reason, last.stop_reason) == ("stop", "repetition")
    assert last.usage is not None and last.usage.completion_tokens < 40
    assert all(c.finish_reason is None and c.stop_reason is None for c in chunks[:-1])


@pytest.mark.usefixtures("scripted_eog")
def test_without_the_guard_the_loop_runs_to_max_tokens() -> None:
    chunks = generate("Hello. " + "The story is told. " * 40, guard=False, max_tokens=50)
    last = chunks[-1]
    assert (last.finish_reason, last.stop_reason) == ("length", None)
    assert last.usage is not None and last.usage.completion_tokens == 50


@pytest.mark.usefixtures("scripted_eog")
def test_generation_of_ordinary_text_ends_normally() -> None:
    chunks = generate(ORDINARY[0])
    assert "".join(c.content for c in chunks) == ORDINARY[0]
    assert (chunks[-1].finish_reason, chunks[-1].stop_reason) == ("stop", None)
