"""search on PostgreSQL: pgvector column + HNSW index, stored tsvector + GIN index

Revision ID: 0005
Revises: 0004

PostgreSQL only (a no-op on SQLite): needs the ``vector`` extension (created here when the
migrating role may; otherwise have an administrator run ``CREATE EXTENSION vector`` once).
Existing chunks are backfilled in one pass: ``tsv`` from their doc's title, text and
language, ``embedding_vector`` from the ``embedding`` blob; the indexes are built after the
backfill (faster than filling indexed columns). A big store: VACUUM doc_chunks afterwards.
See sprig/server/search/postgres.py for the design.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

from sprig.server.search import postgres

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 2000

_SELECT = sa.text(
    "SELECT c.id, c.embedding, d.language FROM doc_chunks c JOIN docs d ON d.id = c.doc_id "
    "WHERE c.id > :after ORDER BY c.id LIMIT :batch"
)
_FILL = sa.text(
    "UPDATE doc_chunks c SET embedding_vector = CAST(CAST(:vector AS real[]) AS vector), "
    "tsv = to_tsvector(CAST(:config AS regconfig), d.title || chr(10) || c.content) "
    "FROM docs d WHERE c.id = :id AND d.id = c.doc_id"
)


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
                "config": postgres.ts_config(lang),
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
    for statement in postgres.schema_sql():
        op.execute(statement)
    _backfill(bind)
    op.execute(postgres.TEXT_INDEX_SQL)
    dims = sa.text(
        "SELECT DISTINCT vector_dims(embedding_vector) FROM doc_chunks "
        "WHERE embedding_vector IS NOT NULL"
    )
    for (d,) in bind.execute(dims).all():
        if 0 < int(d) <= postgres.HNSW_MAX_DIMS:
            op.execute(postgres.vector_index_sql(int(d)))


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
