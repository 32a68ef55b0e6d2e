"""Split document text into overlapping chunks of about ``chunk_tokens`` tokens.

Text is cut into units (sentences; runs of words of at most ``chunk_tokens - overlap``
tokens when a sentence is longer, so the overlap still fits beside them); units
are packed greedily. When a chunk is full it ends at the last paragraph break in its second
half if there is one, else at the last sentence boundary. The next chunk starts with the
previous chunk's tail of at most ``overlap`` tokens (whole sentences, or the last words of
a long sentence). Chunk texts are slices of the original, so snippets keep their formatting.

Cost: a tokenizer that gives token starts (`TokenStarts`) runs once over the text, and every
span is then counted by bisection; with only a counting function each sentence (each word of
a long one) is counted on its own. The scans for paragraphs and sentences jump from one
break or end mark to the next, never trying a pattern at every character.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sprig.server.embeddings.base import count_tokens_regex, token_starts_regex

TokenCounter = Callable[[str], int]
# Where each token of a text starts (ascending offsets), or None where the tokenizer cannot
# say: then each piece is counted on its own.
TokenStarts = Callable[[str], Sequence[int] | None]
SpanCounter = Callable[[int, int], int]  # the tokens of text[start:end]

# Paragraphs are separated by white space holding two line breaks or more.
_PARAGRAPH_BREAK_RE = re.compile(r"\n\s*\n")
# Sentence ends: . ! ? or an ellipsis before white space; the ideographic full stop and
# fullwidth ! ? anywhere (no spaces in CJK text); then any closing quotes or brackets.
# A line break ends a sentence too.
_LATIN_ENDS = "".join(map(chr, (0x2E, 0x21, 0x3F, 0x2026)))
_CJK_ENDS = "".join(map(chr, (0x3002, 0xFF01, 0xFF1F)))
_CLOSERS = re.escape("\"')]" + chr(0x201D) + chr(0x2019))
_END_RE = re.compile(
    rf"[{re.escape(_LATIN_ENDS)}]+[{_CLOSERS}]*|[{re.escape(_CJK_ENDS)}]+[{_CLOSERS}]*|\n"
)
_END_CHAR_RE = re.compile(f"[{re.escape(_LATIN_ENDS + _CJK_ENDS)}\n]")  # finds _END_RE fast
_NON_SPACE_RE = re.compile(r"\S")
_WORD_RE = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    text: str
    token_count: int
    embed_text: str  # the title, a newline, then the text: what gets embedded


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    tokens: int
    para_start: bool


def _stripped(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``text[start:end]`` without white space around it (None if nothing is left)."""
    first = _NON_SPACE_RE.search(text, start, end)
    if first is None:
        return None
    return first.start(), start + len(text[start:end].rstrip())


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for gap in _PARAGRAPH_BREAK_RE.finditer(text):
        spans.append(_stripped(text, start, gap.start()))
        start = gap.end()
    spans.append(_stripped(text, start, len(text)))
    return [span for span in spans if span is not None]


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]``: each from a non-space character through the first
    end mark after that character."""
    spans = []
    first = _NON_SPACE_RE.search(text, start, end)
    while first is not None:
        stop = _sentence_end(text, first.start() + 1, end)
        if (span := _stripped(text, first.start(), stop)) is not None:
            spans.append(span)
        first = _NON_SPACE_RE.search(text, stop, end)
    return spans


def _sentence_end(text: str, pos: int, end: int) -> int:
    """Where the first end mark at or after ``pos`` stops (else ``end``): a CJK end, a line
    break, or a Latin end before white space."""
    while (hit := _END_CHAR_RE.search(text, pos, end)) is not None:
        mark = _END_RE.match(text, hit.start(), end)
        pos = mark.end() if mark is not None else end
        if pos == end or hit[0] not in _LATIN_ENDS or text[pos].isspace():
            return pos
    return end


def _words(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD_RE.finditer(text, start, end)]


def span_counter(
    text: str, count: TokenCounter, token_starts: TokenStarts | None = None
) -> SpanCounter:
    """Tokens of any span of ``text``: from one tokenization of the whole text (by
    bisection of its token starts) when ``token_starts`` gives them, else counted apiece."""
    starts = token_starts(text) if token_starts is not None else None
    if starts is None:
        return lambda start, end: count(text[start:end])
    return lambda start, end: bisect_left(starts, end) - bisect_left(starts, start)


def _split_long(
    text: str, span: tuple[int, int], limit: int, count: SpanCounter, para: bool
) -> list[_Unit]:
    """A sentence longer than ``limit``: runs of whole words of at most ``limit`` tokens."""
    units: list[_Unit] = []
    run_start, run_tokens, last_end = -1, 0, span[0]
    for w_start, w_end in _words(text, *span):
        tokens = count(w_start, w_end)
        if run_start >= 0 and run_tokens + tokens > limit:
            units.append(_Unit(run_start, last_end, run_tokens, para and not units))
            run_start, run_tokens = -1, 0
        if run_start < 0:
            run_start = w_start
        run_tokens += tokens
        last_end = w_end
    if run_start >= 0:
        units.append(_Unit(run_start, last_end, run_tokens, para and not units))
    return units


def _units(text: str, limit: int, count: SpanCounter) -> list[_Unit]:
    units: list[_Unit] = []
    for para in _paragraphs(text):
        for i, span in enumerate(_sentences(text, *para)):
            tokens = count(*span)
            if tokens > limit:
                units.extend(_split_long(text, span, limit, count, i == 0))
            else:
                units.append(_Unit(span[0], span[1], tokens, i == 0))
    return units


def _cut(units: list[_Unit]) -> int:
    """How many of ``units`` the full chunk keeps: a paragraph end in its second half wins."""
    total = _total(units)
    before = 0
    best = len(units)
    for i, unit in enumerate(units):
        if i > 0 and unit.para_start and before >= total / 2:
            best = i
        before += unit.tokens
    return best


def _tail(text: str, units: list[_Unit], overlap: int, count: SpanCounter) -> list[_Unit]:
    """The last units of a chunk, at most ``overlap`` tokens (words of the last if needed)."""
    tail: list[_Unit] = []
    total = 0
    for unit in reversed(units):
        if total + unit.tokens > overlap:
            break
        tail.insert(0, unit)
        total += unit.tokens
    if tail or overlap <= 0 or not units:
        return tail
    last = units[-1]
    words = _words(text, last.start, last.end)
    start, taken = last.end, 0
    for w_start, w_end in reversed(words):
        tokens = count(w_start, w_end)
        if taken + tokens > overlap:
            break
        start, taken = w_start, taken + tokens
    return [_Unit(start, last.end, taken, False)] if taken else []


def _total(units: list[_Unit]) -> int:
    return sum(u.tokens for u in units)


def _pack(
    text: str, units: list[_Unit], size: int, overlap: int, count: SpanCounter
) -> list[list[_Unit]]:
    """Group units into chunks; ``carry`` is the overlap repeated from the previous chunk,
    ``held`` the tokens of ``carry + fresh``."""
    chunks: list[list[_Unit]] = []
    carry: list[_Unit] = []
    fresh: list[_Unit] = []
    held = 0
    for unit in units:
        while fresh and held + unit.tokens > size:
            group = carry + fresh
            keep = max(_cut(group), len(carry) + 1)
            chunks.append(group[:keep])
            carry, fresh = _tail(text, group[:keep], overlap, count), group[keep:]
            held = _total(carry) + _total(fresh)
        while carry and held + unit.tokens > size:
            held -= carry[0].tokens
            carry = carry[1:]
        fresh.append(unit)
        held += unit.tokens
    if fresh:
        chunks.append(carry + fresh)
    return chunks


def split_text(
    text: str,
    chunk_tokens: int = 256,
    overlap: int = 32,
    count_tokens: TokenCounter = count_tokens_regex,
    token_starts: TokenStarts | None = None,
) -> list[tuple[str, int]]:
    """``text`` as ``(chunk_text, token_count)`` pairs; empty text gives no chunks.

    ``overlap`` is capped at half a chunk. A single word longer than a chunk stays whole.
    ``token_starts`` (the tokenizer of ``count_tokens``, giving offsets) makes the cost one
    tokenization of the text instead of one per sentence, per word of a long sentence and
    per chunk.
    """
    if chunk_tokens < 1:
        raise ValueError("chunk_tokens must be positive")
    if token_starts is None and count_tokens is count_tokens_regex:
        token_starts = token_starts_regex
    overlap = max(0, min(overlap, chunk_tokens // 2))
    count = span_counter(text, count_tokens, token_starts)
    units = _units(text, max(1, chunk_tokens - overlap), count)
    out = []
    for group in _pack(text, units, chunk_tokens, overlap, count):
        start, end = group[0].start, group[-1].end
        out.append((text[start:end], count(start, end)))
    return out


def embed_text(title: str, text: str) -> str:
    """What gets embedded for a chunk: the title on its own line, then the chunk."""
    title = title.strip()
    return f"{title}\n{text}" if title else text


def chunk_document(
    title: str,
    content: str | Sequence[str],
    chunk_tokens: int = 256,
    overlap: int = 32,
    count_tokens: TokenCounter = count_tokens_regex,
    token_starts: TokenStarts | None = None,
) -> list[Chunk]:
    """Chunks of a doc; each item of a list ``content`` is split on its own."""
    parts = [content] if isinstance(content, str) else list(content)
    chunks: list[Chunk] = []
    for part in parts:
        for piece, tokens in split_text(part, chunk_tokens, overlap, count_tokens, token_starts):
            chunks.append(Chunk(len(chunks), piece, tokens, embed_text(title, piece)))
    return chunks
