"""Split document text into overlapping chunks of about ``chunk_tokens`` tokens.

Text is cut into units (sentences; runs of words of at most ``chunk_tokens - overlap``
tokens when a sentence is longer, so the overlap still fits beside them); units
are packed greedily. When a chunk is full it ends at the last paragraph break in its second
half if there is one, else at the last sentence boundary. The next chunk starts with the
previous chunk's tail of at most ``overlap`` tokens (whole sentences, or the last words of
a long sentence). Chunk texts are slices of the original, so snippets keep their formatting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sprig.server.embeddings.base import count_tokens_regex

TokenCounter = Callable[[str], int]

_PARAGRAPH_RE = re.compile(r"\S(?:.*?\S)??(?=\s*\n\s*\n|\s*$)", re.DOTALL)
# Sentence ends: . ! ? or an ellipsis before white space; the ideographic full stop and
# fullwidth ! ? anywhere (no spaces in CJK text); then any closing quotes or brackets.
_LATIN_ENDS = re.escape("".join(map(chr, (0x2E, 0x21, 0x3F, 0x2026))))
_CJK_ENDS = re.escape("".join(map(chr, (0x3002, 0xFF01, 0xFF1F))))
_CLOSERS = re.escape("\"')]" + chr(0x201D) + chr(0x2019))
_SENTENCE_RE = re.compile(
    rf"\S.*?(?:[{_LATIN_ENDS}]+[{_CLOSERS}]*(?=\s)|[{_CJK_ENDS}]+[{_CLOSERS}]*|\n|$)",
    re.DOTALL,
)
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


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    for match in _SENTENCE_RE.finditer(text, start, end):
        stripped = match.group().rstrip()
        if stripped:
            spans.append((match.start(), match.start() + len(stripped)))
    return spans


def _words(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD_RE.finditer(text, start, end)]


def _split_long(
    text: str, span: tuple[int, int], limit: int, count: TokenCounter, para: bool
) -> list[_Unit]:
    """A sentence longer than ``limit``: runs of whole words of at most ``limit`` tokens."""
    units: list[_Unit] = []
    run_start, run_tokens, last_end = -1, 0, span[0]
    for w_start, w_end in _words(text, *span):
        tokens = count(text[w_start:w_end])
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


def _units(text: str, limit: int, count: TokenCounter) -> list[_Unit]:
    units: list[_Unit] = []
    for para in _PARAGRAPH_RE.finditer(text):
        for i, span in enumerate(_sentences(text, para.start(), para.end())):
            tokens = count(text[span[0] : span[1]])
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


def _tail(text: str, units: list[_Unit], overlap: int, count: TokenCounter) -> list[_Unit]:
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
        tokens = count(text[w_start:w_end])
        if taken + tokens > overlap:
            break
        start, taken = w_start, taken + tokens
    return [_Unit(start, last.end, taken, False)] if taken else []


def _total(units: list[_Unit]) -> int:
    return sum(u.tokens for u in units)


def _pack(
    text: str, units: list[_Unit], size: int, overlap: int, count: TokenCounter
) -> list[list[_Unit]]:
    """Group units into chunks; ``carry`` is the overlap repeated from the previous chunk."""
    chunks: list[list[_Unit]] = []
    carry: list[_Unit] = []
    fresh: list[_Unit] = []
    for unit in units:
        while fresh and _total(carry + fresh) + unit.tokens > size:
            group = carry + fresh
            keep = max(_cut(group), len(carry) + 1)
            chunks.append(group[:keep])
            carry, fresh = _tail(text, group[:keep], overlap, count), group[keep:]
        while carry and _total(carry + fresh) + unit.tokens > size:
            carry = carry[1:]
        fresh.append(unit)
    if fresh:
        chunks.append(carry + fresh)
    return chunks


def split_text(
    text: str,
    chunk_tokens: int = 256,
    overlap: int = 32,
    count_tokens: TokenCounter = count_tokens_regex,
) -> list[tuple[str, int]]:
    """``text`` as ``(chunk_text, token_count)`` pairs; empty text gives no chunks.

    ``overlap`` is capped at half a chunk. A single word longer than a chunk stays whole.
    """
    if chunk_tokens < 1:
        raise ValueError("chunk_tokens must be positive")
    overlap = max(0, min(overlap, chunk_tokens // 2))
    units = _units(text, max(1, chunk_tokens - overlap), count_tokens)
    out = []
    for group in _pack(text, units, chunk_tokens, overlap, count_tokens):
        piece = text[group[0].start : group[-1].end]
        out.append((piece, count_tokens(piece)))
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
) -> list[Chunk]:
    """Chunks of a doc; each item of a list ``content`` is split on its own."""
    parts = [content] if isinstance(content, str) else list(content)
    chunks: list[Chunk] = []
    for part in parts:
        for piece, tokens in split_text(part, chunk_tokens, overlap, count_tokens):
            chunks.append(Chunk(len(chunks), piece, tokens, embed_text(title, piece)))
    return chunks
