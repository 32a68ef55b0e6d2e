"""What is left of FTS5: language helpers, and the schema migration 0003 created (and
0004's downgrade recreates), frozen in store/migrations/frozen_fts5.py, kept exact by its
triggers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from sprig.server.search.fts import is_english, query_terms
from sprig.server.store.migrations.frozen_fts5 import REINDEX, SCHEMA


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, title TEXT, language TEXT NOT NULL)")
    conn.execute(
        "CREATE TABLE doc_chunks (id INTEGER PRIMARY KEY, "
        "doc_id TEXT REFERENCES docs(id) ON DELETE CASCADE, content TEXT NOT NULL)"
    )
    for statement in SCHEMA:
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


def test_language_is_english() -> None:
    assert all(is_english(x) for x in ("english", "en", "en-US", "EN_gb", None))
    assert not any(is_english(x) for x in ("german", "de-DE", "fr", "eng", "enx"))


def test_the_frozen_schema_stems_english_only(db: sqlite3.Connection) -> None:
    add(db, "en", "en-US", (1, "mutations"))
    add(db, "fr", "french", (2, "mutations"))
    hits = db.execute(
        "SELECT rowid FROM doc_chunks_fts_en WHERE doc_chunks_fts_en MATCH 'mutation'"
    )
    assert [r[0] for r in hits] == [1]  # Porter: "mutation" finds "mutations"
    generic = "SELECT rowid FROM doc_chunks_fts WHERE doc_chunks_fts MATCH ?"
    assert [r[0] for r in db.execute(generic, ("mutation",))] == []
    assert [r[0] for r in db.execute(generic, ("mutations",))] == [2]


def test_query_terms_drop_stopwords_and_duplicates() -> None:
    assert query_terms("The cat and THE Cat sat on the mat") == ["cat", "sat", "mat"]
    assert query_terms("to be or not to be") == ["to", "be", "or", "not"]  # all stop words
    assert query_terms("der die das", "german") == ["der", "die", "das"]
    assert query_terms("the", "de") == ["the"]


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
    for statement in REINDEX:
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


def test_triggers_follow_deletes_and_title_changes(db: sqlite3.Connection) -> None:
    add(db, "d1", "english", (1, "alpha beta"), (2, "gamma"), title="Greek letters")
    add(db, "d2", "german", (3, "alpha"), title="Buchstaben")
    assert indexed(db, "doc_chunks_fts_en") == [1, 2] and indexed(db, "doc_chunks_fts") == [3]
    db.execute("DELETE FROM docs WHERE id = 'd1'")  # cascades to its chunks
    assert indexed(db, "doc_chunks_fts_en") == []
    db.execute("UPDATE docs SET title = 'Letters', language = 'en' WHERE id = 'd2'")
    assert indexed(db, "doc_chunks_fts_en") == [3] and indexed(db, "doc_chunks_fts") == []
    integrity_check(db)
