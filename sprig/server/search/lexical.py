"""BM25 over an in-memory inverted index, with a Snowball stemmer per document language.

Why not SQLite FTS5: FTS5 scores every row that matches any OR'ed query term (its
``bm25()`` runs per match, about 0.9 µs each), and a ten-word claim matches a quarter of
a 100k-chunk corpus: 27 ms p50 (bench/search_latency.py), over the whole latency budget
of a hybrid search. Its statistics (document frequencies, average length) are also those
of the whole table, every tenant mixed. Here each tenant has its own index: postings per
term as numpy arrays, scored by one ``bincount`` over the query terms' postings (about a
millisecond at 100k chunks), with the tenant's own statistics.

Analysis mirrors what FTS5's ``unicode61 remove_diacritics 2`` tokenizer does (words are
runs of letters and digits, case and accents folded), then drops English stop words from
English text and stems each word with the Snowball stemmer of the document's language
(``porter`` for English, as FTS5's porter tokenizer; ``german`` for German...; no stemming
for a language without one). Terms are keyed by analyzer, so a query is analysed once per
language present and meets each document only in its own language's terms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from sprig.server.search.fts import ENGLISH_STOPWORDS
from sprig.server.search.language import is_english, language_name

K1 = 1.2
B = 0.75
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)

Positions = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float32]


@cache
def fold(word: str) -> str:
    """A lower-cased word without accents (``naïve`` -> ``naive``), as unicode61 folds."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Runs of letters and digits, lower case, accents folded."""
    found = _WORD_RE.findall(text.lower())
    if text.isascii():
        return found
    return [w if w.isascii() else fold(w) for w in found]


def stemmer_name(language: str | None) -> str:
    """The Snowball algorithm for a language name or code (``simple`` when none fits;
    ``porter``, as FTS5's tokenizer, for English)."""
    if is_english(language):
        return "porter"
    name = language_name(language)
    return name if name in _algorithms() else "simple"


@cache
def _algorithms() -> frozenset[str]:
    import Stemmer

    return frozenset(Stemmer.algorithms())


def stems(analyzer: str, found: list[str]) -> list[str]:
    """Snowball stems of ``found`` (the words themselves for ``simple``)."""
    if analyzer == "simple" or not found:
        return found
    return [str(s) for s in _stemmer(analyzer).stemWords(found)]


@cache
def _stemmer(name: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(name)


def stop_words(analyzer: str) -> frozenset[str]:
    return ENGLISH_STOPWORDS if analyzer == "porter" else frozenset()


class LexicalIndex:
    """Postings (chunk position, term frequency) per term, for positions ``0..n-1``.

    Words are mapped to term ids through a per-analyzer cache (a word is stemmed once per
    index; a stop word maps to -1), so indexing costs one dict lookup per word. Positions
    are the owner's (``search.corpus.Corpus``); dead positions are excluded by the
    ``live`` mask given to ``scores``, so deletion costs nothing here until ``remap``.
    """

    def __init__(self) -> None:
        self._term_ids: dict[str, int] = {}  # "analyzer:stem" -> term id
        self._word_ids: dict[str, dict[str, int]] = {}  # analyzer -> word -> term id | -1
        self._segments: list[list[tuple[Positions, Floats]]] = []
        self._lengths: Floats = np.zeros(1024, dtype=np.float32)

    @property
    def analyzers(self) -> list[str]:
        return sorted(self._word_ids)

    def add(self, start: int, texts: Sequence[tuple[str, str]]) -> None:
        """Index ``(analyzer, text)`` pairs at positions ``start, start + 1, ...``."""
        self._grow(start + len(texts))
        tids: list[int] = []
        counts: list[int] = []
        for analyzer, text in texts:
            ids = self._ids(analyzer, words(text), create=True)
            tids.extend(ids)
            counts.append(len(ids))
        owners = np.repeat(np.arange(start, start + len(texts), dtype=np.int64), counts)
        term_ids = np.asarray(tids, dtype=np.int64)
        keep = term_ids >= 0
        counted = np.bincount(owners[keep] - start, minlength=len(texts))
        self._lengths[start : start + len(texts)] = counted
        self._segments.extend([] for _ in range(len(self._term_ids) - len(self._segments)))
        if keep.any():
            self._append_postings(term_ids[keep], owners[keep])

    def query_ids(self, text: str) -> list[int]:
        """Distinct term ids of ``text`` under every analyzer in use (unknown terms left out)."""
        found = words(text)
        ids = [t for a in self.analyzers for t in self._ids(a, found, create=False)]
        return [t for t in dict.fromkeys(ids) if t >= 0]

    def _ids(self, analyzer: str, found: list[str], create: bool) -> list[int]:
        cache = self._word_ids.setdefault(analyzer, {})
        ids = list(map(cache.get, found))
        if None not in ids:
            return ids  # type: ignore[return-value]  # no None left
        new = sorted({w for w, i in zip(found, ids, strict=True) if i is None})
        stop = stop_words(analyzer)
        for word, stem in zip(new, stems(analyzer, new), strict=True):
            tid = -1 if word in stop else self._term_id(f"{analyzer}:{stem}", create)
            if tid is not None:
                cache[word] = tid
        return [cache.get(w, -1) for w in found]

    def _term_id(self, term: str, create: bool) -> int | None:
        tid = self._term_ids.get(term)
        if tid is None and create:
            tid = self._term_ids[term] = len(self._term_ids)
        return tid

    def _append_postings(self, tids: npt.NDArray[np.int64], owners: npt.NDArray[np.int64]) -> None:
        keys, counts = np.unique((tids << 32) | owners, return_counts=True)
        term_of = keys >> 32
        position = (keys & 0xFFFFFFFF).astype(np.int32)
        bounds = np.flatnonzero(np.diff(term_of)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(keys)], strict=True):
            segment = (position[lo:hi], counts[lo:hi].astype(np.float32))
            self._segments[int(term_of[lo])].append(segment)

    def _grow(self, needed: int) -> None:
        if needed > len(self._lengths):
            grown = np.zeros(max(needed, 2 * len(self._lengths)), dtype=np.float32)
            grown[: len(self._lengths)] = self._lengths
            self._lengths = grown

    def _postings_of(self, tid: int) -> tuple[Positions, Floats] | None:
        """A term's postings as one (positions, frequencies) pair, positions ascending."""
        segments = self._segments[tid]
        if not segments:
            return None
        if len(segments) > 1:
            merged = (
                np.concatenate([p for p, _ in segments]),
                np.concatenate([f for _, f in segments]),
            )
            self._segments[tid] = [merged]
        return self._segments[tid][0]

    def scores(self, text: str, live: npt.NDArray[np.bool_], n: int) -> Floats:
        """Okapi BM25 (k1 1.2, b 0.75, idf ``ln(1 + (N - df + .5) / (df + .5))``) of each
        position for the query ``text``; statistics over the live positions."""
        live = live[:n]
        total = int(live.sum())
        if total == 0:
            return np.zeros(n, dtype=np.float32)
        lengths = self._lengths[:n]
        average = float(lengths[live].mean()) or 1.0
        parts: list[tuple[Positions, Floats]] = []
        for tid in self.query_ids(text):
            found = self._postings_of(tid)
            if found is not None:
                parts.append(_term_weights(found, live, lengths, total, average))
        if not parts:
            return np.zeros(n, dtype=np.float32)
        positions = np.concatenate([p for p, _ in parts])
        weights = np.concatenate([w for _, w in parts])
        return np.bincount(positions, weights=weights, minlength=n).astype(np.float32)

    def remap(self, new_position: npt.NDArray[np.int64], size: int) -> None:
        """Renumber positions (``new_position[old]``, -1 = dropped) after compaction."""
        lengths = np.zeros(max(size, 1024), dtype=np.float32)
        kept = new_position >= 0
        lengths[new_position[kept]] = self._lengths[: len(new_position)][kept]
        self._lengths = lengths
        for tid in range(len(self._segments)):
            found = self._postings_of(tid)
            if found is None:
                continue
            positions, freqs = found
            moved = new_position[positions]
            keep = moved >= 0
            self._segments[tid] = (
                [(moved[keep].astype(np.int32), freqs[keep])] if keep.any() else []
            )


def _term_weights(
    found: tuple[Positions, Floats],
    live: npt.NDArray[np.bool_],
    lengths: Floats,
    total: int,
    average: float,
) -> tuple[Positions, Floats]:
    positions, freqs = found
    alive = live[positions]
    df = int(alive.sum())
    idf = np.log1p((total - df + 0.5) / (df + 0.5))
    norm = K1 * (1.0 - B + B * lengths[positions] / average)
    weights = idf * freqs * (K1 + 1.0) / (freqs + norm) * alive
    return positions, weights.astype(np.float32)
