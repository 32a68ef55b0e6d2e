"""search on PostgreSQL: pgvector column + HNSW index, stored tsvector + GIN index

Revision ID: 0005
Revises: 0004

PostgreSQL only (a no-op on SQLite): needs the ``vector`` extension (created here when the
migrating role may; otherwise have an administrator run ``CREATE EXTENSION vector`` once).
Existing chunks are backfilled in one pass: ``tsv`` from their doc's title, text and
language, ``embedding_vector`` from the ``embedding`` blob; the indexes are built after the
backfill (faster than filling indexed columns). A big store: VACUUM doc_chunks afterwards.
See sprig/server/search/postgres.py for the design. The DDL and the language table below
are this revision's, frozen: the live code may change, this migration must not.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 2000
HNSW_MAX_DIMS = 2000  # pgvector's limit for an HNSW index on `vector`

_SCHEMA = [
    "ALTER TABLE doc_chunks ADD COLUMN IF NOT EXISTS embedding_vector vector",
    "ALTER TABLE doc_chunks ADD COLUMN IF NOT EXISTS tsv tsvector",
    "ALTER TABLE doc_chunks ALTER COLUMN tsv SET STORAGE MAIN",
    "ALTER TABLE doc_chunks ALTER COLUMN embedding SET STORAGE EXTERNAL",
    "ALTER TABLE doc_chunks ALTER COLUMN embedding_vector SET STORAGE EXTERNAL",
]
_TEXT_INDEX = "CREATE INDEX IF NOT EXISTS ix_doc_chunks_tsv ON doc_chunks USING gin (tsv)"
_VECTOR_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_doc_chunks_embedding_hnsw_{d} ON doc_chunks USING hnsw "
    "((embedding_vector::vector({d})) vector_cosine_ops) WITH (m = 16, ef_construction = 64) "
    "WHERE vector_dims(embedding_vector) = {d}"
)
# ISO 639-1 code -> PostgreSQL text search configuration
_CONFIGS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish",
    "nl": "dutch", "en": "english", "fi": "finnish", "fr": "french", "de": "german",
    "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "nn": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip

_SELECT = sa.text(
    "SELECT c.id, c.embedding, d.language FROM doc_chunks c JOIN docs d ON d.id = c.doc_id "
    "WHERE c.id > :after ORDER BY c.id LIMIT :batch"
)
_FILL = sa.text(
    "UPDATE doc_chunks c SET embedding_vector = CAST(CAST(:vector AS real[]) AS vector), "
    "tsv = to_tsvector(CAST(:config AS regconfig), d.title || chr(10) || c.content) "
    "FROM docs d WHERE c.id = :id AND d.id = c.doc_id"
)


def _ts_config(language: str | None) -> str:
    lang = (language or "english").strip().lower()
    if lang in ("english", "en") or lang.startswith(("en-", "en_")):
        return "english"
    if lang in _CONFIGS.values():
        return lang
    return _CONFIGS.get(re.split(r"[-_]", lang)[0], "simple")


def _create_extension(bind: Any) -> None:
    present = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'vector'"))
    if present.first() is not None:
        return
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError as err:
        raise RuntimeError(
            "Sprig needs the pgvector extension: install it on the server and have a "
            "superuser run `CREATE EXTENSION vector;` in this database, then migrate again"
        ) from err


def _backfill(bind: Any) -> None:
    """Both columns of every existing chunk, in one pass (one new row version each)."""
    after = -1
    while rows := bind.execute(_SELECT, {"after": after, "batch": BATCH}).all():
        values = [
            {
                "id": int(i),
                "vector": None if b is None else np.frombuffer(bytes(b), np.float32).tolist(),
                "config": _ts_config(lang),
            }
            for i, b, lang in rows
        ]
        bind.execute(_FILL, values)
        after = int(rows[-1][0])


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _create_extension(bind)
    for statement in _SCHEMA:
        op.execute(statement)
    _backfill(bind)
    op.execute(_TEXT_INDEX)
    dims = sa.text(
        "SELECT DISTINCT vector_dims(embedding_vector) FROM doc_chunks "
        "WHERE embedding_vector IS NOT NULL"
    )
    for (d,) in bind.execute(dims).all():
        if 0 < int(d) <= HNSW_MAX_DIMS:
            op.execute(_VECTOR_INDEX.format(d=int(d)))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    names = sa.text(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'doc_chunks' "
        "AND indexname LIKE 'ix_doc_chunks_embedding_hnsw_%'"
    )
    for (name,) in bind.execute(names).all():
        op.execute(f'DROP INDEX IF EXISTS "{name}"')
    op.execute("DROP INDEX IF EXISTS ix_doc_chunks_tsv")
    op.execute("ALTER TABLE doc_chunks DROP COLUMN IF EXISTS tsv")
    op.execute("ALTER TABLE doc_chunks DROP COLUMN IF EXISTS embedding_vector")
