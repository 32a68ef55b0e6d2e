"""Turning a stream of tokens into text deltas, honouring stop sequences and stopping a
reply that repeats itself; and reading the text of a JSON string that generation cut short.

Pure and model-free, so the tricky parts (split UTF-8 characters, stop sequences that
arrive across tokens, loops) are tested without loading a model.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass


class TextAssembler:
    """Feed token bytes; get back the text that is safe to emit now.

    Text that could be the start of a stop sequence is held back until it is known not to
    be one. Once a stop sequence appears, `stopped` is set and nothing more is emitted
    (the stop sequence itself never is).
    """

    def __init__(self, stop: Sequence[str] = ()) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stop = [s for s in stop if s]
        self._pending = ""
        self.stopped = False

    def feed(self, data: bytes) -> str:
        if self.stopped:
            return ""
        return self._scan(self._decoder.decode(data))

    def flush(self) -> str:
        """The held-back text at the end of generation (no stop sequence followed)."""
        if self.stopped:
            return ""
        text = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        return text

    def _scan(self, text: str) -> str:
        buffer = self._pending + text
        cut = _first_stop(buffer, self._stop)
        if cut is not None:
            self.stopped = True
            self._pending = ""
            return buffer[:cut]
        keep = _held_back(buffer, self._stop)
        self._pending = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep]


def _first_stop(text: str, stops: Sequence[str]) -> int | None:
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(hits) if hits else None


def _held_back(text: str, stops: Sequence[str]) -> int:
    """Length of the longest tail of `text` that begins some stop sequence."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if stop.startswith(text[-size:]):
                longest = size
                break
    return longest


# --- the loop guard ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Loop:
    """A reply repeating itself: keep its first `cut` tokens (one copy of the block)."""

    cut: int
    period: int


class LoopGuard:
    """Watches a reply's token ids for a loop: one block of at most `max_period` tokens
    repeated back to back, for at least `min_repeat` tokens (and one whole copy) past its
    first copy.

    ``runs[p]`` counts how many of the last tokens each equal the token `p` before them;
    a loop of period `p` is a run of ``max(p, min_repeat)``. Only back-to-back copies
    count, so a list whose items share words is not a loop. `held` is the longest
    current run: the tokens a loop found later could cut. A streaming caller emits only
    the tokens before them; in ordinary text runs are a few tokens long.
    """

    def __init__(self, max_period: int = 256, min_repeat: int = 16) -> None:
        self.max_period = max_period
        self.min_repeat = min_repeat
        self.held = 0
        self._tokens: list[int] = []
        self._runs = [0] * (max_period + 1)

    def feed(self, token: int) -> Loop | None:
        tokens, runs = self._tokens, self._runs
        tokens.append(token)
        last = len(tokens) - 1
        found: Loop | None = None
        for period in range(1, min(self.max_period, last) + 1):
            if tokens[last - period] != token:
                runs[period] = 0
                continue
            runs[period] += 1
            if found is None and runs[period] >= max(period, self.min_repeat):
                found = Loop(len(tokens) - runs[period], period)
        self.held = max(runs)
        return found

    def forget(self, loop: Loop) -> None:
        """Not a loop after all (the caller says): its runs, and those of its multiples,
        start again from nothing."""
        for period in range(loop.period, self.max_period + 1, loop.period):
            self._runs[period] = 0
        self.held = max(self._runs)


Detokenize = Callable[[Sequence[int]], bytes]
_SENTENCE_END = re.compile(rb"[.!?\n]")
_CLAUSE_END = re.compile(rb"[,;:]")
NUMBER = -1  # what the guard sees in place of a number token
_LOOSE_END = " \t\r\n,;:"


class ReplyText:
    """Token ids in, text deltas out: stop sequences (`TextAssembler`) and, with a
    `LoopGuard`, a reply that repeats itself is cut after the first copy of the
    repeated block (`looped` is then set). Tokens a loop could still cut are held back,
    so the text emitted is exactly the reply kept.

    The guard sees every number as the same token, so that a counting loop ("14. The
    Nightingale\n15. The Nightingale\n...") is one too; such a loop counts only if its
    block has a word in it, so rows of figures in a table are not cut.
    """

    def __init__(
        self, detokenize: Detokenize, stop: Sequence[str] = (), guard: LoopGuard | None = None
    ) -> None:
        self._detokenize = detokenize
        self._text = TextAssembler(stop)
        self._guard = guard
        self._tokens: list[int] = []
        self._pieces: dict[int, bytes] = {}
        self._released = 0
        self.looped = False

    @property
    def stopped(self) -> bool:
        return self._text.stopped or self.looped

    def feed(self, token: int) -> str:
        if self.stopped:
            return ""
        self._tokens.append(token)
        if self._guard is None:
            return self._release(len(self._tokens))
        loop = self._guard.feed(NUMBER if self._piece_of(token).strip().isdigit() else token)
        if loop is not None:
            if self._real(loop):
                return self._cut(loop)
            self._guard.forget(loop)
        return self._release(self._unheld())

    def _unheld(self) -> int:
        """Tokens that may go out: all but the held ones and trailing white space (so that
        a cut reply can end without it)."""
        assert self._guard is not None
        upto = len(self._tokens) - self._guard.held
        while upto > self._released and self._piece(upto - 1).isspace():
            upto -= 1
        return upto

    def flush(self) -> str:
        """The text still held back, at the end of generation."""
        if self.stopped:
            return ""
        return self._release(len(self._tokens)) + self._text.flush()

    def _release(self, upto: int) -> str:
        if upto <= self._released:
            return ""
        data = self._detokenize(self._tokens[self._released : upto])
        self._released = upto
        return self._text.feed(data)

    def _cut(self, loop: Loop) -> str:
        """The reply up to the end of the block's first copy (see `_sentence_end`),
        without trailing spaces and commas."""
        text = self._release(self._sentence_end(loop))
        if self._text.stopped:  # a stop sequence came first
            return text
        self.looped = True
        return (text + self._text.flush()).rstrip(_LOOSE_END)

    def _sentence_end(self, loop: Loop) -> int:
        """Where the kept reply ends: after the first copy of the block, moved on (into
        the next copy, which is held) to the end of its sentence, else of its clause."""
        for mark in (_SENTENCE_END, _CLAUSE_END):
            if loop.cut and mark.search(self._piece(loop.cut - 1)):
                return loop.cut
            for index in range(loop.cut, loop.cut + loop.period - 1):
                if mark.search(self._piece(index)):
                    return index + 1
        return loop.cut

    def _piece(self, index: int) -> bytes:
        return self._piece_of(self._tokens[index])

    def _piece_of(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = self._detokenize([token])
        return piece

    def _real(self, loop: Loop) -> bool:
        """The tokens repeat exactly, or (numbers aside) in a block with a word in it."""
        tokens, period = self._tokens, loop.period
        if all(tokens[i] == tokens[i - period] for i in range(loop.cut, len(tokens))):
            return True
        block = range(loop.cut - period, loop.cut)
        return any(_has_letter(self._piece(i)) for i in block)


def _has_letter(piece: bytes) -> bool:
    return any(c.isalpha() for c in piece.decode("utf-8", errors="ignore"))


# A trailing escape cut short: an odd backslash, or `\u` with fewer than four hex digits.
_CUT_ESCAPE = re.compile(r"(?:^|[^\\])(?:\\\\)*(\\(?:u[0-9a-fA-F]{0,3})?)$")


def json_string_prefix(body: str) -> str:
    """The text of a JSON string literal's body that was cut before its closing quote."""
    cut = _CUT_ESCAPE.search(body)
    if cut is not None:
        body = body[: cut.start(1)]
    text: str = json.loads(f'"{body}"', strict=False)
    return text
