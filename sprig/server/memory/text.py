"""Text relevance for memory search: BM25 computed in Python over the memories in scope.

Memories are searched within one agent (and usually one user), a few hundred to a few
thousand short texts, so scoring them here needs no full-text index to keep in step, and
runs the same on SQLite and PostgreSQL. Terms are words as FTS5 splits them (lower-cased,
English stop words dropped), reduced by a light English suffix stripper, so "married" meets "marry"
and "dogs" meets "dog" as FTS5's Porter tokenizer would make them meet in document search.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from sprig.server.search.fts import ENGLISH_STOPWORDS

K1 = 1.2
B = 0.75
_VOWELS = frozenset("aeiou")
_TERM_RE = re.compile(r"[^\W_]+", re.UNICODE)  # as FTS5's unicode61 splits words


def _plural(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _undouble(word: str) -> str:
    if len(word) > 2 and word[-1] == word[-2] and word[-1] not in _VOWELS | {"l", "s", "z"}:
        return word[:-1]
    return word


def _ending(word: str) -> str:
    for suffix in ("ing", "ed", "ly"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3 and _VOWELS & set(base):
            return _undouble(base) if suffix != "ly" else base
    return word


@lru_cache(maxsize=100_000)  # a vocabulary is small; stemming is most of scoring's cost
def stem(word: str) -> str:
    """A light, deterministic English stemmer (plural, -ing, -ed, -ly, final -e and -y)."""
    if not word.isalpha():
        return word
    word = _plural(word)
    if len(word) <= 3:
        return word
    word = _ending(word)
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if word.endswith("y") and len(word) > 2 and _VOWELS & set(word[:-1]):
        word = word[:-1] + "i"
    return word


def term_counts(text: str) -> Counter[str]:
    """Stemmed terms of ``text`` with their counts; English stop words are dropped unless
    the text has nothing else."""
    words = _TERM_RE.findall(text.lower())
    content = [w for w in words if w not in ENGLISH_STOPWORDS] or words
    return Counter(stem(w) for w in content)


def bm25(query: str, documents: Sequence[Counter[str]]) -> list[tuple[int, float]]:
    """``(position, score > 0)`` of the documents matching any query term, best first.

    Okapi BM25 (k1 1.2, b 0.75) with the non-negative idf ``ln(1 + (N - df + .5)/(df + .5))``.
    """
    wanted = set(term_counts(query))
    if not wanted or not documents:
        return []
    lengths = [sum(doc.values()) for doc in documents]
    average = sum(lengths) / len(lengths) or 1.0
    n = len(documents)
    df = {t: sum(1 for doc in documents if t in doc) for t in wanted}
    idf = {t: math.log(1.0 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in wanted if df[t]}
    scores: list[tuple[int, float]] = []
    for i, doc in enumerate(documents):
        norm = K1 * (1.0 - B + B * lengths[i] / average)
        score = sum(w * doc[t] * (K1 + 1) / (doc[t] + norm) for t, w in idf.items() if t in doc)
        if score > 0:
            scores.append((i, score))
    scores.sort(key=lambda hit: -hit[1])
    return scores
