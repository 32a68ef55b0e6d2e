"""The in-memory corpus: BM25 analysis per language, scoping masks, vectors, deletes."""

from __future__ import annotations

import math
from uuid import NAMESPACE_URL, UUID, uuid5

import numpy as np
import pytest

from sprig.server.errors import BadRequestError
from sprig.server.search.corpus import ChunkRow, Corpus
from sprig.server.search.lexical import LexicalIndex, stemmer_name, words

AGENT = ("agent", uuid5(NAMESPACE_URL, "agent"))
USER = ("user", uuid5(NAMESPACE_URL, "user"))

NASTY = [
    'say "hello',
    "cats AND dogs",
    "NEAR(cats dogs, 2)",
    "cat*",
    "content:cats",
    "'; DROP TABLE doc_chunks; --",
    "cats\x00dogs",
    "naïve café Ünïcödé 日本語 emoji 🐈",
    "\\",
    "",
    "   ",
]


def doc(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, name)


def row(
    chunk_id: int,
    text: str,
    *,
    name: str | None = None,
    owner: tuple[str, UUID] = AGENT,
    language: str = "english",
    title: str = "",
    vector: list[float] | None = None,
) -> ChunkRow:
    blob = None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()
    return ChunkRow(chunk_id, doc(name or f"d{chunk_id}"), owner, language, title, text, blob)


def text_ids(
    corpus: Corpus, query: str, k: int = 10, owners: list[object] | None = None
) -> list[int]:
    mask = corpus.mask(owners or [AGENT, USER])  # type: ignore[arg-type]
    return [chunk for chunk, _, _ in corpus.text_search(query, mask, k)]


def test_words_fold_case_and_accents_and_split_like_unicode61() -> None:
    assert words("Naïve CAFÉ, naive_cafe x-ray 42") == [
        "naive",
        "cafe",
        "naive",
        "cafe",
        "x",
        "ray",
        "42",
    ]


def test_languages_pick_their_stemmer() -> None:
    assert stemmer_name("en-US") == stemmer_name(None) == "porter"
    assert stemmer_name("de") == stemmer_name("german") == stemmer_name("de_AT") == "german"
    assert stemmer_name("xx-unknown") == "simple"


def test_bm25_ranks_more_matching_terms_first_and_skips_non_matches() -> None:
    corpus = Corpus()
    corpus.add(
        [
            row(1, "vitamin d deficiency lowers bone density"),
            row(2, "vitamin c and the common cold"),
            row(3, "sleep duration and obesity"),
        ]
    )
    assert text_ids(corpus, "vitamin D deficiency and bone density") == [1, 2]


def test_english_stems_and_stop_words_do_not_match() -> None:
    corpus = Corpus()
    corpus.add([row(1, "The mutations were running"), row(2, "it is what it is")])
    assert text_ids(corpus, "mutation runs") == [1]
    assert text_ids(corpus, "what is it") == []  # stop words only: nothing to rank by


def test_each_doc_is_analysed_in_its_language() -> None:
    corpus = Corpus()
    corpus.add(
        [
            row(1, "Die Häuser sind groß", language="de"),
            row(2, "running dogs", language="en"),
        ]
    )
    assert text_ids(corpus, "Haus") == [1]  # German stemmer, accents folded
    assert text_ids(corpus, "dog ran running") == [2]


def test_titles_are_searchable_in_every_chunk() -> None:
    corpus = Corpus()
    corpus.add(
        [
            row(1, "first part", name="a", title="Photosynthesis"),
            row(2, "second part", name="a", title="Photosynthesis"),
        ]
    )
    assert sorted(text_ids(corpus, "photosynthesis")) == [1, 2]


@pytest.mark.parametrize("query", NASTY)
def test_any_text_is_a_safe_query(query: str) -> None:
    corpus = Corpus()
    corpus.add([row(1, "cats and dogs"), row(2, "naive cafe")])
    hits = text_ids(corpus, query)
    assert set(hits) <= {1, 2}


def test_scores_are_okapi_bm25() -> None:
    index = LexicalIndex()
    index.add(
        0,
        [("porter", "apple banana"), ("porter", "apple apple cherry durian"), ("porter", "cherry")],
    )
    live = np.ones(3, dtype=bool)
    scores = index.scores("apple", live, 3)
    n, df, avg = 3, 2, (2 + 4 + 1) / 3

    def expected(tf: float, length: float) -> float:
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * length / avg))

    assert scores[0] == pytest.approx(expected(1, 2), rel=1e-5)
    assert scores[1] == pytest.approx(expected(2, 4), rel=1e-5)
    assert scores[2] == 0


def test_masks_scope_by_owner_and_doc() -> None:
    corpus = Corpus()
    corpus.add(
        [
            row(1, "shared words here", name="a", owner=AGENT),
            row(2, "shared words here", name="b", owner=USER),
            row(3, "shared words there", name="c", owner=AGENT),
        ]
    )
    assert sorted(text_ids(corpus, "shared", owners=[AGENT])) == [1, 3]
    assert text_ids(corpus, "shared", owners=[USER]) == [2]
    assert text_ids(corpus, "shared", owners=[("session", doc("nobody"))]) == []
    only_c = corpus.mask([AGENT], docs={doc("c")})
    assert [c for c, _, _ in corpus.text_search("shared", only_c, 10)] == [3]


def test_an_owners_mask_is_reused_until_a_write_and_never_modified() -> None:
    corpus = Corpus()
    corpus.add([row(1, "x", owner=AGENT), row(2, "x", owner=USER)])
    first = corpus.mask([AGENT])
    assert corpus.mask([AGENT]) is first  # a repeated search reuses it
    with pytest.raises(ValueError):
        first[1] = True  # read-only: a caller cannot widen another search's scope
    narrowed = corpus.mask([AGENT], docs={doc("nothing")})
    assert not narrowed.any() and first.tolist() == [True, False]
    corpus.add([row(3, "x", owner=AGENT)])
    assert corpus.mask([AGENT]).tolist() == [True, False, True]
    corpus.remove([1])  # a third dead: compacted to chunks 2 (user) and 3 (agent)
    assert corpus.mask([AGENT]).tolist() == [False, True]
    assert corpus.mask([USER, AGENT]).tolist() == [True, True]


def test_vector_search_is_exact_cosine_within_the_mask() -> None:
    corpus = Corpus()
    corpus.add(
        [
            row(1, "a", vector=[1, 0, 0], owner=AGENT),
            row(2, "b", vector=[0.9, 0.1, 0], owner=USER),
            row(3, "c", vector=[0, 1, 0], owner=AGENT),
            row(4, "pending", owner=AGENT),  # no embedding yet: never a vector hit
        ]
    )
    hits = corpus.vector_search([2, 0, 0], corpus.mask([AGENT]), 10)
    assert [(c, round(s, 4)) for c, _, s in hits] == [(1, 1.0), (3, 0.0)]
    with pytest.raises(BadRequestError):
        corpus.vector_search([1, 0], corpus.mask([AGENT]), 10)
    corpus.set_embeddings([(4, np.asarray([0, 0, 3], dtype=np.float32).tobytes())])
    assert corpus.vector_search([0, 0, 1], corpus.mask([AGENT]), 1)[0][0] == 4
    assert np.allclose(corpus.vectors([4, 99]), [[0, 0, 1], [0, 0, 0]])


def test_deletes_tombstone_then_compact_keeping_results_right() -> None:
    corpus = Corpus()
    corpus.add([row(i, f"common word{i}", vector=[1, i, 0]) for i in range(1, 41)])
    corpus.remove([2, 3])
    assert 2 not in corpus and len(corpus) == 38
    assert 2 not in text_ids(corpus, "common", k=50)
    corpus.remove(range(4, 30))  # over a quarter dead: compacted
    assert corpus.size == len(corpus) == 12
    assert sorted(text_ids(corpus, "common", k=50)) == [1, *range(30, 41)]
    assert text_ids(corpus, "word35") == [35]
    assert corpus.vector_search([1, 35, 0], corpus.mask([AGENT]), 1)[0][0] == 35
    corpus.add([row(50, "common fresh", vector=[1, 1, 1])])
    assert text_ids(corpus, "fresh") == [50]


def test_re_adding_an_id_replaces_it() -> None:
    corpus = Corpus()
    corpus.add([row(1, "old text", name="old")])
    corpus.add([row(1, "new text", name="new")])
    assert len(corpus) == 1
    assert text_ids(corpus, "old") == []
    assert corpus.doc_of(1) == doc("new")
