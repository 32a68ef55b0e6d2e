"""Turning a stream of token bytes into text deltas, honouring stop sequences; and reading
the text of a JSON string that generation cut short.

Pure and model-free, so the tricky parts (split UTF-8 characters, stop sequences that
arrive across tokens) are tested without loading a model.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Sequence


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


# A trailing escape cut short: an odd backslash, or `\u` with fewer than four hex digits.
_CUT_ESCAPE = re.compile(r"(?:^|[^\\])(?:\\\\)*(\\(?:u[0-9a-fA-F]{0,3})?)$")


def json_string_prefix(body: str) -> str:
    """The text of a JSON string literal's body that was cut before its closing quote."""
    cut = _CUT_ESCAPE.search(body)
    if cut is not None:
        body = body[: cut.start(1)]
    text: str = json.loads(f'"{body}"', strict=False)
    return text
