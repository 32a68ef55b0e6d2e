"""turn_traces, jobs.traceparent: what each chat turn did, and traces across the queue

A stored trace per saved chat turn (``GET /sessions/{id}/turns/{entry_id}/trace``), keyed
by the turn's reply entry; a job keeps the W3C ``traceparent`` of the request that queued
it, so its span continues that trace.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import sprig.server.store.types as st

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "turn_traces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("developer_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("trace", _json(), nullable=False),
        sa.Column("created_at", st.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_turn_traces_developer_id_developers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_turn_traces_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turn_traces")),
    )
    with op.batch_alter_table("turn_traces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_turn_traces_developer_id"), ["developer_id"], unique=False
        )
        batch_op.create_index(
            "ix_turn_traces_session_created", ["session_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_turn_traces_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("traceparent", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("traceparent")
    op.drop_table("turn_traces")
