"""search: developers.docs_version; SQLite FTS5 indexes over doc chunks

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sprig.server.store.migrations import frozen_fts5

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("developers") as batch:
        batch.add_column(
            sa.Column("docs_version", sa.BigInteger(), nullable=False, server_default="0")
        )
    if op.get_bind().dialect.name == "sqlite":
        for statement in [*frozen_fts5.SCHEMA, *frozen_fts5.REINDEX]:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in frozen_fts5.TABLES:
            op.execute(f"DROP TABLE IF EXISTS {table}")
    with op.batch_alter_table("developers") as batch:
        batch.drop_column("docs_version")
