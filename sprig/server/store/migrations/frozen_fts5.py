"""The SQLite FTS5 indexes over doc chunks as migration 0003 created them (and 0004's
downgrade recreates them), frozen: live search code no longer builds them (0004 dropped them
for an in-memory BM25 index), and a migration must not change when that code does.

Two external-content FTS5 tables index the chunk table (rowid = chunk id, one column
``content``), one per tokenizer:

- English docs: ``porter unicode61 remove_diacritics 2``. The Porter stemmer conflates
  inflections ("mutations" finds "mutation"), which is most of what BM25 gains from
  linguistics in English; ``remove_diacritics 2`` folds "naïve" to "naive".
- Any other language: ``unicode61 remove_diacritics 2``. Porter is English-only and would
  mangle other languages' words; unicode61 still folds case and accents in every script.
  (Scripts written without spaces, e.g. Chinese, would need the ``trigram`` tokenizer.)

What is indexed for a chunk is its doc's title, a newline, then the chunk's text: titles
carry many of a doc's best terms (SciFact, BM25 nDCG@10 0.677 -> 0.689 with them).

Triggers keep the tables in step: a new chunk goes to the table of its doc's language; a
deleted chunk leaves whichever table holds it (checked in the table's ``_docsize`` shadow
table, so the ``delete`` command is never sent for an absent row); deleting a doc takes its
chunks out first (a cascade runs after the doc row is gone, when its title is no longer
readable); changing a doc's title or language re-indexes its chunks. The external content
table is only a source for ``rowid``: never run FTS5's ``rebuild`` (it would index the
chunk text without titles, in both tables); use ``REINDEX``.

Never edit these strings.
"""

from __future__ import annotations

ENGLISH_TABLE = "doc_chunks_fts_en"
GENERIC_TABLE = "doc_chunks_fts"
TABLES = (ENGLISH_TABLE, GENERIC_TABLE)
TRIGGER_SUFFIXES = ("ai", "ad", "au", "dd", "du")

# The tables and their triggers.
SCHEMA = [
    r"""
    CREATE VIRTUAL TABLE IF NOT EXISTS doc_chunks_fts_en USING fts5(content,
    content='doc_chunks', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2')
    """,
    r"""
    CREATE TRIGGER IF NOT EXISTS doc_chunks_fts_en_ai AFTER INSERT ON doc_chunks BEGIN
    INSERT INTO doc_chunks_fts_en(rowid, content) SELECT new.id, coalesce(d.title, '')
    || char(10) || new.content FROM docs d WHERE d.id = new.doc_id AND
    (lower(coalesce(d.language, 'english')) IN ('english', 'en') OR
    lower(coalesce(d.language, 'english')) LIKE 'en-%' OR lower(coalesce(d.language,
    'english')) LIKE 'en\_%' ESCAPE '\'); END
    """,
    r"""
    CREATE TRIGGER IF NOT EXISTS doc_chunks_fts_en_ad AFTER DELETE ON doc_chunks BEGIN
    INSERT INTO doc_chunks_fts_en(doc_chunks_fts_en, rowid, content) SELECT 'delete',
    old.id, coalesce(d.title, '') || char(10) || old.content FROM docs d WHERE d.id =
    old.doc_id AND EXISTS (SELECT 1 FROM doc_chunks_fts_en_docsize WHERE id = old.id);
    END
    """,
    r"""
    CREATE TRIGGER IF NOT EXISTS doc_chunks_fts_en_au AFTER UPDATE OF content, doc_id ON
    doc_chunks BEGIN INSERT INTO doc_chunks_fts_en(doc_chunks_fts_en, rowid, content)
    SELECT 'delete', old.id, coalesce(d.title, '') || char(10) || old.content FROM docs
    d WHERE d.id = old.doc_id AND EXISTS (SELECT 1 FROM doc_chunks_fts_en_docsize WHERE
    id = old.id); INSERT INTO doc_chunks_fts_en(rowid, content) SELECT new.id,
    coalesce(d.title, '') || char(10) || new.content FROM docs d WHERE d.id = new.doc_id
    AND (lower(coalesce(d.language, 'english')) IN ('english', 'en') OR
    lower(coalesce(d.language, 'english')) LIKE 'en-%' OR lower(coalesce(d.language,
    'english')) LIKE 'en\_%' ESCAPE '\'); END
    """,
    r"""
    CREATE TRIGGER IF NOT EXISTS doc_chunks_fts_en_dd BEFORE DELETE ON docs BEGIN INSERT
    INTO doc_chunks_fts_en(doc_chunks_fts_en, rowid, content) SELECT 'delete', c.id,
    coalesce(old.title, '') || char(10) || c.content FROM doc_chunks c WHERE c.doc_id =
    old.id AND EXISTS (SELECT 1 FROM doc_chunks_fts_en_docsize WHERE id = c.id); END
    """,
    r"""
    CREATE TRIGGER IF NOT EXISTS doc_chunks_fts_en_du AFTER UPDATE OF title, language ON
    docs BEGIN INSERT INTO doc_chunks_fts_en(doc_chunks_fts_en, rowid, content) SELECT
    'delete', c.id, coalesce(old.title, '') || char(10) || c.content FROM doc_chunks c
    WHERE c.doc_id = old.id AND EXISTS (SELECT 1 FROM doc_chunks_fts_en_docsize WHERE id
    = c.id); INSERT INTO doc_chunks_fts_en(rowid, content) SELECT c.id,
    coalesce(new.title, '') || char(10) || c.content FROM doc_chunks c WHERE c.doc_id =
    new.id AND (lower(coalesce(new.language, 'english')) IN ('english', 'en') OR
    lower(coalesce(new.language, 'english')) LIKE 'en-%' OR lower(coalesce(new.language,
    'english')) LIKE 'en\_%' ESCAPE '\'); END
    """,
    r"""
    CREATE VIRTUAL TABLE IF NOT EXISTS doc_chunks_fts USING fts5(content,
    content='doc_chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2')
    """,
    r"""
    CREATE TRIGGER IF NOT EXISTS doc_chunks_fts_ai AFTER INSERT ON doc_chunks BEGIN
    INSERT INTO doc_chunks_fts(rowid, content) SELECT new.id, coalesce(d.title, '') ||
    char(10) || new.content FROM docs d WHERE d.id = new.doc_id AND NOT
    (lower(coalesce(d.language, 'english')) IN ('english', 'en') OR
    lower(coalesce(d.language, 'english')) LIKE 'en-%' OR lower(coalesce(d.language,
    'english')) LIKE 'en\_%' ESCAPE '\'); END
    """,
    r"""
    CREATE TRIGGER IF NOT EXISTS doc_chunks_fts_ad AFTER DELETE ON doc_chunks BEGIN
    INSERT INTO doc_chunks_fts(doc_chunks_fts, rowid, content) SELECT 'delete', old.id,
    coalesce(d.title, '') || char(10) || old.content FROM docs d WHERE d.id = old.doc_id
    AND EXISTS (SELECT 1 FROM doc_chunks_fts_docsize WHERE id = old.id); END
    """,
    r"""
    CREATE TRIGGER IF NOT EXISTS doc_chunks_fts_au AFTER UPDATE OF content, doc_id ON
    doc_chunks BEGIN INSERT INTO doc_chunks_fts(doc_chunks_fts, rowid, content) SELECT
    'delete', old.id, coalesce(d.title, '') || char(10) || old.content FROM docs d WHERE
    d.id = old.doc_id AND EXISTS (SELECT 1 FROM doc_chunks_fts_docsize WHERE id =
    old.id); INSERT INTO doc_chunks_fts(rowid, content) SELECT new.id, coalesce(d.title,
    '') || char(10) || new.content FROM docs d WHERE d.id = new.doc_id AND NOT
    (lower(coalesce(d.language, 'english')) IN ('english', 'en') OR
    lower(coalesce(d.language, 'english')) LIKE 'en-%' OR lower(coalesce(d.language,
    'english')) LIKE 'en\_%' ESCAPE '\'); END
    """,
    r"""
    CREATE TRIGGER IF NOT EXISTS doc_chunks_fts_dd BEFORE DELETE ON docs BEGIN INSERT
    INTO doc_chunks_fts(doc_chunks_fts, rowid, content) SELECT 'delete', c.id,
    coalesce(old.title, '') || char(10) || c.content FROM doc_chunks c WHERE c.doc_id =
    old.id AND EXISTS (SELECT 1 FROM doc_chunks_fts_docsize WHERE id = c.id); END
    """,
    r"""
    CREATE TRIGGER IF NOT EXISTS doc_chunks_fts_du AFTER UPDATE OF title, language ON
    docs BEGIN INSERT INTO doc_chunks_fts(doc_chunks_fts, rowid, content) SELECT
    'delete', c.id, coalesce(old.title, '') || char(10) || c.content FROM doc_chunks c
    WHERE c.doc_id = old.id AND EXISTS (SELECT 1 FROM doc_chunks_fts_docsize WHERE id =
    c.id); INSERT INTO doc_chunks_fts(rowid, content) SELECT c.id, coalesce(new.title,
    '') || char(10) || c.content FROM doc_chunks c WHERE c.doc_id = new.id AND NOT
    (lower(coalesce(new.language, 'english')) IN ('english', 'en') OR
    lower(coalesce(new.language, 'english')) LIKE 'en-%' OR lower(coalesce(new.language,
    'english')) LIKE 'en\_%' ESCAPE '\'); END
    """,
]

# Empty both indexes, then fill them from the chunk rows.
REINDEX = [
    r"""
    INSERT INTO doc_chunks_fts_en(doc_chunks_fts_en) VALUES ('delete-all')
    """,
    r"""
    INSERT INTO doc_chunks_fts(doc_chunks_fts) VALUES ('delete-all')
    """,
    r"""
    INSERT INTO doc_chunks_fts_en(rowid, content) SELECT c.id, coalesce(d.title, '') ||
    char(10) || c.content FROM doc_chunks c JOIN docs d ON d.id = c.doc_id WHERE
    (lower(coalesce(d.language, 'english')) IN ('english', 'en') OR
    lower(coalesce(d.language, 'english')) LIKE 'en-%' OR lower(coalesce(d.language,
    'english')) LIKE 'en\_%' ESCAPE '\')
    """,
    r"""
    INSERT INTO doc_chunks_fts(rowid, content) SELECT c.id, coalesce(d.title, '') ||
    char(10) || c.content FROM doc_chunks c JOIN docs d ON d.id = c.doc_id WHERE NOT
    (lower(coalesce(d.language, 'english')) IN ('english', 'en') OR
    lower(coalesce(d.language, 'english')) LIKE 'en-%' OR lower(coalesce(d.language,
    'english')) LIKE 'en\_%' ESCAPE '\')
    """,
]
