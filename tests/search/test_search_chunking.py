"""Chunking: sizes, sentence and paragraph boundaries, overlap, list content, titles."""

from __future__ import annotations

import itertools
import re

import pytest

from sprig.server.embeddings.base import count_tokens_regex, token_starts_regex
from sprig.server.embeddings.local import LocalEmbedder
from sprig.server.search.chunking import chunk_document, embed_text, split_text


def words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


def sentence(i: int, n_words: int = 9) -> str:
    return " ".join(f"s{i}w{j}" for j in range(n_words)) + "."  # n_words + 1 tokens


def test_short_text_is_one_chunk_verbatim() -> None:
    text = "  Cats purr.  Dogs bark!  "
    assert split_text(text, 50, 8) == [("Cats purr.  Dogs bark!", 6)]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n"])
def test_empty_text_has_no_chunks(text: str) -> None:
    assert split_text(text, 32, 4) == []
    assert chunk_document("Title", text) == []


def test_chunks_respect_size_and_cut_between_sentences() -> None:
    text = " ".join(sentence(i) for i in range(12))  # 12 sentences of 10 tokens
    chunks = split_text(text, 35, 0)
    assert all(tokens <= 35 for _, tokens in chunks)
    assert [tokens for _, tokens in chunks] == [30, 30, 30, 30]
    for piece, _ in chunks:
        assert piece.startswith("s") and piece.endswith(".")  # whole sentences only
    assert words(" ".join(p for p, _ in chunks)) == words(text)  # nothing lost, no repeats


def test_overlap_repeats_the_previous_tail() -> None:
    text = " ".join(sentence(i) for i in range(12))
    chunks = split_text(text, 35, 10)
    assert all(tokens <= 35 for _, tokens in chunks)
    for (prev, _), (nxt, _) in itertools.pairwise(chunks):
        last_sentence = prev.rsplit(". ", 1)[-1]
        assert nxt.startswith(last_sentence)  # one whole 10-token sentence carried over
    covered = [w for p, _ in chunks for w in words(p)]
    assert set(covered) == set(words(text))
    assert len(covered) > len(words(text))


def test_overlap_inside_a_long_sentence_is_measured_in_words() -> None:
    text = " ".join(f"w{i}" for i in range(100)) + "."
    chunks = split_text(text, 20, 5)
    assert all(tokens <= 20 for _, tokens in chunks)
    for (prev, _), (nxt, _) in itertools.pairwise(chunks):
        assert words(nxt)[:5] == words(prev)[-5:]
    assert words(chunks[-1][0])[-1] == "w99."


def test_paragraph_break_is_preferred_over_a_sentence_break() -> None:
    para1 = " ".join(sentence(i) for i in range(3))  # 30 tokens
    para2 = " ".join(sentence(i) for i in range(10, 14))  # 40 tokens
    chunks = split_text(f"{para1}\n\n{para2}", 50, 0)
    assert chunks[0][0] == para1  # not para1 + the first sentence of para2
    assert chunks[1][0] == para2


def test_paragraph_break_too_early_is_not_used() -> None:
    head = sentence(0)  # 10 tokens: under half of a 50-token chunk
    body = " ".join(sentence(i) for i in range(10, 16))
    chunks = split_text(f"{head}\n\n{body}", 50, 0)
    assert chunks[0][0].startswith(head + "\n\n" + sentence(10))


def test_token_counter_is_pluggable() -> None:
    text = " ".join(sentence(i) for i in range(6))

    def count_chars(piece: str) -> int:
        return len(piece)

    by_chars = split_text(text, 100, 0, count_chars)
    assert all(len(piece) <= 100 for piece, _ in by_chars)
    assert len(by_chars) > len(split_text(text, 100, 0, count_tokens_regex))


def test_chunk_document_prepends_title_and_numbers_chunks() -> None:
    chunks = chunk_document("Cat facts", ["Cats purr.", "Cats sleep a lot."], 16, 2)
    assert [c.index for c in chunks] == [0, 1]
    assert [c.text for c in chunks] == ["Cats purr.", "Cats sleep a lot."]
    assert chunks[1].embed_text == "Cat facts\nCats sleep a lot."
    assert chunks[0].token_count == 3
    assert embed_text("  ", "body") == "body"


def test_unicode_sentences_split() -> None:
    text = "第一句话。第二句话\uff01第三句话\uff1f" * 10  # fullwidth ! and ?
    chunks = split_text(text, 8, 0, len)
    assert all(len(piece) <= 8 for piece, _ in chunks)
    assert "".join(p for p, _ in chunks) == text


def test_sentence_ends_need_white_space_after_latin_marks() -> None:
    text = 'Pi is 3.14 or so. "Really?" she asked...  Yes!)\nNew line e.g. here。第二'
    pieces = [p for p, _ in split_text(text, 1, 0, lambda _: 1)]  # a sentence per chunk
    assert pieces == [
        "Pi is 3.14 or so.",
        '"Really?"',
        "she asked...",
        "Yes!)",
        "New line e.g.",
        "here。",
        "第二",
    ]


def prose(n_paragraphs: int) -> str:
    words = [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "eta",
        "theta",
        "iota",
        "kappa",
        "lambda",
        "mu",
    ]
    paragraphs = []
    for p in range(n_paragraphs):
        sentences = [
            " ".join(words[(p * 7 + s * 3 + w) % len(words)] for w in range(3 + (p + s) % 40))
            + ("." if s % 5 else "")  # some sentences run on into the next
            for s in range(1 + p % 9)
        ]
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


@pytest.mark.parametrize(("size", "overlap"), [(16, 0), (40, 8), (256, 32)])
def test_one_tokenization_gives_the_same_chunks_as_counting_each_piece(
    size: int, overlap: int
) -> None:
    """With token starts, the text is tokenized once: same chunks and counts, no per-piece
    counting (the cost that made a 5 MB doc take seconds)."""
    text = prose(60)
    counted: list[str] = []

    def count(piece: str) -> int:
        counted.append(piece)
        return count_tokens_regex(piece)

    per_piece = split_text(text, size, overlap, count)
    assert len(counted) > len(per_piece)
    counted.clear()
    starts_asked: list[str] = []

    def starts(whole: str) -> list[int]:
        starts_asked.append(whole)
        return token_starts_regex(whole)

    assert split_text(text, size, overlap, count, starts) == per_piece
    assert counted == [] and starts_asked == [text]


def test_minilm_token_starts_count_like_its_tokenizer() -> None:
    embedder = LocalEmbedder()
    text = prose(40) + "\n\nUnbelievably, naïve co-operation costs 3.5€ — 東京タワー。 Done."
    by_starts = chunk_document("T", text, 64, 8, embedder.count_tokens, embedder.token_starts)
    by_pieces = chunk_document("T", text, 64, 8, embedder.count_tokens)
    assert [(c.text, c.token_count) for c in by_starts] == [
        (c.text, c.token_count) for c in by_pieces
    ]
    assert all(c.token_count == embedder.count_tokens(c.text) for c in by_starts)
