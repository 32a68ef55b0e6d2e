"""search: SQLite drops its FTS5 indexes (text search runs over an in-memory index)

Full-text search on SQLite is BM25 over each tenant's in-memory inverted index
(``sprig.server.search.lexical``), built from the chunk rows; the FTS5 tables of 0003 and
the triggers that kept them in step only slowed every chunk write. PostgreSQL is untouched.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

from sprig.server.store.migrations import frozen_fts5

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in frozen_fts5.TABLES:
        for suffix in frozen_fts5.TRIGGER_SUFFIXES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in [*frozen_fts5.SCHEMA, *frozen_fts5.REINDEX]:
        op.execute(statement)
