"""FTS5: safe MATCH queries from any text, BM25 ranking, language routing, triggers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from sprig.server.search.fts import (
    FtsSchema,
    bm25_search,
    is_english,
    match_query,
    prune_common_terms,
    query_terms,
    reindex_sql,
    schema_sql,
    tokenizer_for,
)

NASTY = [
    'say "hello',
    '""""',
    "cats AND dogs",
    "cats OR",
    "NOT cats",
    "NEAR(cats dogs, 2)",
    "cat*",
    "*",
    "(cats",
    "cats)",
    "content:cats",
    "^cats",
    "cats -dogs +birds",
    "a'b'c",
    "{cats dogs}",
    "cats\x00dogs",
    "naïve café Ünïcödé 日本語 emoji 🐈",
    "'; DROP TABLE doc_chunks; --",
    "AND OR NOT NEAR",
    "\\",
]


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, title TEXT, language TEXT NOT NULL)")
    conn.execute(
        "CREATE TABLE doc_chunks (id INTEGER PRIMARY KEY, "
        "doc_id TEXT REFERENCES docs(id) ON DELETE CASCADE, content TEXT NOT NULL)"
    )
    for statement in schema_sql():
        conn.execute(statement)
    yield conn
    conn.close()


def add(
    conn: sqlite3.Connection, doc: str, language: str, *chunks: tuple[int, str], title: str = ""
) -> None:
    conn.execute("INSERT INTO docs VALUES (?, ?, ?)", (doc, title, language))
    conn.executemany(
        "INSERT INTO doc_chunks VALUES (?, ?, ?)", [(i, doc, text) for i, text in chunks]
    )


def indexed(conn: sqlite3.Connection, table: str) -> list[int]:
    return [r[0] for r in conn.execute(f"SELECT id FROM {table}_docsize ORDER BY id")]


def test_language_picks_tokenizer() -> None:
    assert all(is_english(x) for x in ("english", "en", "en-US", "EN_gb", None))
    assert not any(is_english(x) for x in ("german", "de-DE", "fr", "eng", "enx"))
    assert tokenizer_for("en-US").startswith("porter ")
    assert tokenizer_for("french") == "unicode61 remove_diacritics 2"


def test_query_terms_drop_stopwords_and_duplicates() -> None:
    assert query_terms("The cat and THE Cat sat on the mat") == ["cat", "sat", "mat"]
    assert query_terms("to be or not to be") == ["to", "be", "or", "not"]  # all stop words
    assert query_terms("der die das", "german") == ["der", "die", "das"]
    assert query_terms("the", "de") == ["the"]
    assert match_query("snake_case x") == '"snake" OR "case" OR "x"'


@pytest.mark.parametrize("text", ["", "   ", "!!! ??? ...", "*", "()", '"'])
def test_text_without_terms_gives_no_query_and_no_hits(db: sqlite3.Connection, text: str) -> None:
    add(db, "d", "english", (1, "anything at all"))
    assert match_query(text) is None
    assert bm25_search(db, text, limit=5) == []


@pytest.mark.parametrize("text", NASTY)
def test_nasty_input_never_breaks_the_query(db: sqlite3.Connection, text: str) -> None:
    add(db, "d1", "english", (1, "cats and dogs live together"), (2, "hello birds"))
    add(db, "d2", "french", (3, "naive cafe unicode 日本語"))
    hits = bm25_search(db, text, limit=10)
    assert all(relevance > 0 for _, relevance in hits)
    assert db.execute("SELECT count(*) FROM doc_chunks").fetchone() == (3,)


def test_operators_are_plain_words(db: sqlite3.Connection) -> None:
    add(db, "d1", "english", (1, "cats"), (2, "dogs"), (3, "near the river"))
    found = {chunk for chunk, _ in bm25_search(db, "cats AND dogs", limit=10)}
    assert found == {1, 2}  # AND is not an operator: OR of the terms, "and" a stop word
    assert {c for c, _ in bm25_search(db, "NEAR(cats dogs)", limit=10)} == {1, 2, 3}
    assert bm25_search(db, "NOT cats", limit=10)[0][0] == 1  # NOT is not negation


def test_bm25_ranks_more_matching_terms_first(db: sqlite3.Connection) -> None:
    add(
        db,
        "d",
        "english",
        (1, "the weather today is sunny"),
        (2, "vitamin d deficiency and bone density in adults"),
        (3, "bone marrow transplant outcomes"),
        (4, "vitamin c and the common cold"),
    )
    hits = bm25_search(db, "Does vitamin D deficiency reduce bone density?", limit=10)
    assert [chunk for chunk, _ in hits][:1] == [2]
    assert {chunk for chunk, _ in hits} == {2, 3, 4}  # partial matches are found too
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_english_index_stems_and_generic_index_folds_accents(db: sqlite3.Connection) -> None:
    add(db, "en", "en-US", (1, "Mutations were observed in running mice"))
    add(db, "fr", "french", (2, "Le café était délicieux"))
    assert indexed(db, "doc_chunks_fts_en") == [1]
    assert indexed(db, "doc_chunks_fts") == [2]
    assert [c for c, _ in bm25_search(db, "mutation run", limit=5)] == [1]
    assert [c for c, _ in bm25_search(db, "cafe etait", limit=5, language="fr")] == [2]
    assert bm25_search(db, "délicieuse", limit=5, language="fr") == []  # no French stemming


def postings(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every (term, rowid, offset) of both indexes (through fts5vocab), and row sizes."""
    out = {}
    for table in ("doc_chunks_fts_en", "doc_chunks_fts"):
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table}_v USING fts5vocab(main, {table}, "
            "instance)"
        )
        rows = conn.execute(f"SELECT term, doc, offset FROM temp.{table}_v ORDER BY 1, 2, 3")
        sizes = conn.execute(f"SELECT id, sz FROM {table}_docsize ORDER BY id")
        out[table] = rows.fetchall() + sizes.fetchall()
    return out


def integrity_check(conn: sqlite3.Connection) -> None:
    """The trigger-maintained indexes equal indexes rebuilt from scratch (no ghosts)."""
    maintained = postings(conn)
    for statement in reindex_sql():
        conn.execute(statement)
    assert maintained == postings(conn)


def test_integrity_check_catches_a_bad_delete(db: sqlite3.Connection) -> None:
    add(db, "d", "english", (1, "hello world"), (2, "bye"), title="T")
    integrity_check(db)
    db.execute("DROP TRIGGER doc_chunks_fts_en_ad")
    db.execute("DELETE FROM doc_chunks WHERE id = 2")  # leaves a ghost in the index
    with pytest.raises(AssertionError):
        integrity_check(db)
    db.execute(
        "INSERT INTO doc_chunks_fts_en(doc_chunks_fts_en, rowid, content) "
        "VALUES ('delete', 1, 'wrong text')"
    )
    with pytest.raises(AssertionError):
        integrity_check(db)


def test_titles_are_searchable_in_every_chunk(db: sqlite3.Connection) -> None:
    add(db, "d1", "english", (1, "first part"), (2, "second part"), title="Zebra migration")
    add(db, "d2", "english", (3, "zebras are mentioned once"), title="Other")
    hits = bm25_search(db, "zebra migration", limit=5)
    assert {c for c, _ in hits[:2]} == {1, 2}
    assert {c for c, _ in hits} == {1, 2, 3}


def test_triggers_follow_deletes_and_updates(db: sqlite3.Connection) -> None:
    add(db, "d1", "english", (1, "alpha beta"), (2, "gamma"), title="Greek letters")
    add(db, "d2", "german", (3, "alpha"), title="Buchstaben")
    add(db, "d3", "english", (4, "epsilon"), title="Letters")
    db.execute("DELETE FROM docs WHERE id = 'd1'")  # cascades to its chunks
    assert indexed(db, "doc_chunks_fts_en") == [4]
    assert [c for c, _ in bm25_search(db, "alpha", limit=5)] == [3]
    assert [c for c, _ in bm25_search(db, "greek", limit=5)] == []
    db.execute("UPDATE doc_chunks SET content = 'delta' WHERE id = 3")
    assert bm25_search(db, "alpha", limit=5) == []
    assert [c for c, _ in bm25_search(db, "delta buchstaben", limit=5)] == [3]
    db.execute("DELETE FROM doc_chunks WHERE id = 3")  # a chunk alone
    assert bm25_search(db, "delta buchstaben", limit=5) == []
    integrity_check(db)


def test_doc_title_and_language_changes_reindex(db: sqlite3.Connection) -> None:
    add(db, "d1", "english", (1, "running shoes"), title="Sport")
    db.execute("UPDATE docs SET title = 'Footwear', language = 'de' WHERE id = 'd1'")
    assert indexed(db, "doc_chunks_fts_en") == [] and indexed(db, "doc_chunks_fts") == [1]
    assert bm25_search(db, "sport", limit=5) == []
    assert [c for c, _ in bm25_search(db, "footwear running", limit=5)] == [1]
    assert bm25_search(db, "run", limit=5) == []  # no stemming outside English
    integrity_check(db)


def test_scope_restricts_hits(db: sqlite3.Connection) -> None:
    add(db, "d1", "english", (1, "shared words here"))
    add(db, "d2", "english", (2, "shared words there"))
    scoped = bm25_search(
        db,
        "shared words",
        limit=5,
        scope_sql="SELECT id FROM doc_chunks WHERE doc_id = :doc",
        scope_params={"doc": "d2"},
    )
    assert [c for c, _ in scoped] == [2]


def test_limit_and_reindex(db: sqlite3.Connection) -> None:
    add(db, "d", "english", *[(i, f"term{i % 3} common") for i in range(1, 31)])
    assert len(bm25_search(db, "common", limit=7)) == 7
    for statement in reindex_sql():
        db.execute(statement)
    assert indexed(db, "doc_chunks_fts_en") == list(range(1, 31))
    assert len(bm25_search(db, "common", limit=100)) == 30
    integrity_check(db)


def test_schema_names_are_checked() -> None:
    with pytest.raises(ValueError, match="identifier"):
        FtsSchema(chunks="chunks; DROP TABLE x")


def test_common_terms_are_pruned_in_large_indexes(db: sqlite3.Connection) -> None:
    rows = [(i, f"cells grow {'fast' if i % 3 else 'slow'} number{i}") for i in range(1, 6001)]
    rows[41] = (42, "cells grow under a rare zebra lamp")
    add(db, "d", "english", *rows)
    terms = query_terms("zebra lamp cells grow fast unknownword")
    assert prune_common_terms(db, "doc_chunks_fts_en", terms, 0.2) == ["zebra", "lamp"]
    assert prune_common_terms(db, "doc_chunks_fts_en", terms, None) == terms[:-1]
    assert prune_common_terms(db, "doc_chunks_fts_en", ["cells", "fast"], 0.2) == [
        "fast",
        "cells",
    ]  # too few rare terms: the two rarest present ones
    assert prune_common_terms(db, "doc_chunks_fts_en", ["zebra", "cells"], 0.2, 10**6) == [
        "zebra",
        "cells",
    ]  # small index: nothing pruned
    hits = bm25_search(db, "zebra lamp cells grow", limit=3)
    assert [c for c, _ in hits] == [42]
    assert len(bm25_search(db, "zebra lamp cells grow", limit=3, common_ratio=None)) == 3
