# ruff: noqa: S608 -- SQL here is built from identifiers checked by _IDENT_RE; values are bound.
"""Language helpers for full-text search, and the SQLite FTS5 schema of migration 0003.

Text search no longer runs on FTS5 (``search.lexical`` explains why; migration 0004 drops
the tables). The DDL stays here because migration 0003 creates, and 0004's downgrade
recreates, exactly these tables and triggers. What follows describes that schema.

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
chunk text without titles, in both tables); use ``reindex_sql``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sprig.server.search.language import is_english

ENGLISH_TOKENIZER = "porter unicode61 remove_diacritics 2"
GENERIC_TOKENIZER = "unicode61 remove_diacritics 2"
MAX_QUERY_TERMS = 64

# Tokens as unicode61 sees them: runs of letters and digits (underscore separates).
_TERM_RE = re.compile(r"[^\W_]+", re.UNICODE)
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# A small English stop list (articles, pronouns, auxiliaries, prepositions): dropped from
# OR queries because each one matches most chunks and only adds noise and cost.
_STOPWORDS_TEXT = """a about above after again against all am an and any are as at be because
been before being below between both but by can could did do does doing down during each few
for from further had has have having he her here hers herself him himself his how i if in into
is it its itself just me more most my myself no nor not of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves"""
ENGLISH_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def tokenizer_for(language: str | None) -> str:
    return ENGLISH_TOKENIZER if is_english(language) else GENERIC_TOKENIZER


@dataclass(frozen=True, slots=True)
class FtsSchema:
    """Names of the chunk table and of its two FTS5 indexes."""

    chunks: str = "doc_chunks"
    docs: str = "docs"
    english: str = "doc_chunks_fts_en"
    generic: str = "doc_chunks_fts"

    def __post_init__(self) -> None:
        for name in (self.chunks, self.docs, self.english, self.generic):
            if not _IDENT_RE.match(name):
                raise ValueError(f"not a plain SQL identifier: {name!r}")

    def table_for(self, language: str | None) -> str:
        """The index holding the chunks of a doc in ``language``."""
        return self.english if is_english(language) else self.generic


_ENGLISH_SQL = (
    "(lower({col}) IN ('english', 'en') OR lower({col}) LIKE 'en-%' "
    "OR lower({col}) LIKE 'en\\_%' ESCAPE '\\')"
)


def english_sql(column: str) -> str:
    """SQL that is true when ``column`` names English (same rule as ``is_english``)."""
    return _ENGLISH_SQL.format(col=f"coalesce({column}, 'english')")


def _text(title: str, content: str) -> str:
    """The indexed text of a chunk: its doc's title, a newline, the chunk."""
    return f"coalesce({title}, '') || char(10) || {content}"


def _chunk_triggers(s: FtsSchema, t: str, lang: str) -> list[str]:
    present = f"EXISTS (SELECT 1 FROM {t}_docsize WHERE id = old.id)"
    delete = (
        f"INSERT INTO {t}({t}, rowid, content) SELECT 'delete', old.id, "
        f"{_text('d.title', 'old.content')} FROM {s.docs} d "
        f"WHERE d.id = old.doc_id AND {present};"
    )
    insert = (
        f"INSERT INTO {t}(rowid, content) SELECT new.id, {_text('d.title', 'new.content')} "
        f"FROM {s.docs} d WHERE d.id = new.doc_id AND {lang.format(col='d.language')};"
    )
    return [
        f"CREATE TRIGGER IF NOT EXISTS {t}_ai AFTER INSERT ON {s.chunks} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_ad AFTER DELETE ON {s.chunks} BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_au AFTER UPDATE OF content, doc_id ON {s.chunks} "
        f"BEGIN {delete} {insert} END",
    ]


def _doc_triggers(s: FtsSchema, t: str, lang: str) -> list[str]:
    # Before the doc row goes (a cascade deletes its chunks after it, when its title can
    # no longer be read), take its chunks out of the index.
    present = f"EXISTS (SELECT 1 FROM {t}_docsize WHERE id = c.id)"
    delete = (
        f"INSERT INTO {t}({t}, rowid, content) SELECT 'delete', c.id, "
        f"{_text('old.title', 'c.content')} FROM {s.chunks} c "
        f"WHERE c.doc_id = old.id AND {present};"
    )
    insert = (
        f"INSERT INTO {t}(rowid, content) SELECT c.id, {_text('new.title', 'c.content')} "
        f"FROM {s.chunks} c WHERE c.doc_id = new.id AND {lang.format(col='new.language')};"
    )
    return [
        f"CREATE TRIGGER IF NOT EXISTS {t}_dd BEFORE DELETE ON {s.docs} BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_du AFTER UPDATE OF title, language ON {s.docs} "
        f"BEGIN {delete} {insert} END",
    ]


def schema_sql(schema: FtsSchema | None = None) -> list[str]:
    """DDL for both FTS5 tables and their triggers (run after the docs and chunk tables).

    The chunk table needs ``id`` (integer primary key), ``doc_id`` and ``content``; the docs
    table needs ``id``, ``title`` and ``language``. Docs are inserted before their chunks.
    """
    s = schema or FtsSchema()
    statements = []
    for table, tokenizer in ((s.english, ENGLISH_TOKENIZER), (s.generic, GENERIC_TOKENIZER)):
        lang = english_sql("{col}") if table == s.english else f"NOT {english_sql('{col}')}"
        statements.append(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5(content, "
            f"content='{s.chunks}', content_rowid='id', tokenize='{tokenizer}')"
        )
        statements.extend(_chunk_triggers(s, table, lang))
        statements.extend(_doc_triggers(s, table, lang))
    return statements


def reindex_sql(schema: FtsSchema | None = None) -> list[str]:
    """Rebuild both indexes from the chunk and docs tables (e.g. after a bulk load)."""
    s = schema or FtsSchema()
    english = english_sql("d.language")
    select = (
        f"SELECT c.id, {_text('d.title', 'c.content')} "
        f"FROM {s.chunks} c JOIN {s.docs} d ON d.id = c.doc_id"
    )
    return [
        f"INSERT INTO {s.english}({s.english}) VALUES ('delete-all')",
        f"INSERT INTO {s.generic}({s.generic}) VALUES ('delete-all')",
        f"INSERT INTO {s.english}(rowid, content) {select} WHERE {english}",
        f"INSERT INTO {s.generic}(rowid, content) {select} WHERE NOT {english}",
    ]


def query_terms(text: str, language: str | None = "english") -> list[str]:
    """Distinct lower-cased terms of ``text``, English stop words dropped unless all are."""
    seen: dict[str, None] = {}
    for term in _TERM_RE.findall(text.lower()):
        seen.setdefault(term, None)
    terms = list(seen)
    if is_english(language):
        content = [t for t in terms if t not in ENGLISH_STOPWORDS]
        terms = content or terms
    return terms[:MAX_QUERY_TERMS]
