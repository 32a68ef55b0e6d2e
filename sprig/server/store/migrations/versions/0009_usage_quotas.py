"""usage_daily, tenant_limits, rate_buckets, stream_leases: usage and quotas per tenant

What each tenant used per UTC day and model (tokens, turns, tool calls, embedded chunks,
estimated cost); the limits set on a tenant (`sprig keys limits`); the token buckets and
stream leases that hold those limits across API processes.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sprig.server.store.types as st

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _developer_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["developer_id"],
        ["developers.id"],
        name=op.f(f"fk_{table}_developer_id_developers"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "usage_daily",
        sa.Column("developer_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("tokens_in", sa.BigInteger(), nullable=False),
        sa.Column("tokens_out", sa.BigInteger(), nullable=False),
        sa.Column("turns", sa.BigInteger(), nullable=False),
        sa.Column("tool_calls", sa.BigInteger(), nullable=False),
        sa.Column("embedded_chunks", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.Double(), nullable=True),
        _developer_key("usage_daily"),
        sa.PrimaryKeyConstraint("developer_id", "day", "model", name=op.f("pk_usage_daily")),
    )
    op.create_table(
        "tenant_limits",
        sa.Column("developer_id", sa.Uuid(), nullable=False),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
        sa.Column("tokens_per_minute", sa.BigInteger(), nullable=True),
        sa.Column("tokens_per_day", sa.BigInteger(), nullable=True),
        sa.Column("cost_per_month", sa.Double(), nullable=True),
        sa.Column("concurrent_streams", sa.Integer(), nullable=True),
        sa.Column("updated_at", st.UTCDateTime(), nullable=False),
        _developer_key("tenant_limits"),
        sa.PrimaryKeyConstraint("developer_id", name=op.f("pk_tenant_limits")),
    )
    op.create_table(
        "rate_buckets",
        sa.Column("developer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        _developer_key("rate_buckets"),
        sa.PrimaryKeyConstraint("developer_id", "kind", name=op.f("pk_rate_buckets")),
    )
    op.create_table(
        "stream_leases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("developer_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        _developer_key("stream_leases"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_leases")),
    )
    with op.batch_alter_table("stream_leases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stream_leases_developer_id"), ["developer_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("stream_leases")
    op.drop_table("rate_buckets")
    op.drop_table("tenant_limits")
    op.drop_table("usage_daily")
