"""responses, files, vector_stores: the OpenAI-compatible API's own objects

Stored Responses (/v1/responses) and their chains; uploaded files (/v1/files); vector
stores (/v1/vector_stores), whose documents are ordinary docs owned by them.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import sprig.server.store.types as st

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "responses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("developer_id", sa.Uuid(), nullable=False),
        sa.Column("previous_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("input", _json(), nullable=False),
        sa.Column("body", _json(), nullable=False),
        sa.Column("created_at", st.UTCDateTime(), nullable=False),
        sa.Column("updated_at", st.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_responses_developer_id_developers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_responses_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
    )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_responses_developer_id"), ["developer_id"], unique=False
        )

    _files()
    _vector_stores()


def _developer_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["developer_id"],
        ["developers.id"],
        name=op.f(f"fk_{table}_developer_id_developers"),
        ondelete="CASCADE",
    )


def _files() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("developer_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", st.UTCDateTime(), nullable=False),
        _developer_key("files"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
    )
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_files_developer_id"), ["developer_id"], unique=False)


def _vector_stores() -> None:
    op.create_table(
        "vector_stores",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("developer_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", st.UTCDateTime(), nullable=False),
        sa.Column("updated_at", st.UTCDateTime(), nullable=False),
        _developer_key("vector_stores"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vector_stores")),
    )
    with op.batch_alter_table("vector_stores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vector_stores_developer_id"), ["developer_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("vector_stores")
    op.drop_table("files")
    op.drop_table("responses")
