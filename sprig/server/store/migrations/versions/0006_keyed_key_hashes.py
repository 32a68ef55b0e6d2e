"""api_keys.hash_scheme: keyed (HMAC-SHA256) key hashes; short display prefixes

Revision ID: 0006
Revises: 0005

Keys stored so far are unsalted SHA-256 digests: they are marked ``sha256`` here and keep
working; the server rehashes each one with HMAC-SHA256 under its secret key the first time
the key is used (or at start-up, for the key it is given in SPRIG_API_KEY). ``prefix`` held
the first 13 characters of a key; a key Sprig generated (``sk-sprig-`` + 43 random
characters) keeps its 4 after ``sk-sprig-``, any other key's prefix is cleared until its
next use writes a short one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("hash_scheme", sa.String(16), nullable=False, server_default="sha256")
        )
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("hash_scheme", server_default=None)
    op.execute(
        "UPDATE api_keys SET prefix = '' "
        "WHERE NOT (prefix LIKE 'sk-sprig-%' AND length(prefix) <= 13)"
    )


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("hash_scheme")
