"""API keys for apps (``tts-service keys``): a SHA-256 of each secret, the key's limits, and its usage.

Usage is counted on the key's row, by increments in SQL, so every process of a deployment adds to the same
numbers; ``day`` and ``day_chars`` are the characters spoken on one UTC day (``day``: days since 1970), for
the key's daily budget, started again by the first charge of a new day.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("hash", sa.Text, nullable=False, unique=True),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("rate_per_minute", sa.Integer),
        sa.Column("chars_per_day", sa.BigInteger),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.Text),
        sa.Column("requests", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("chars", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("cache_hits", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("day", sa.Integer, nullable=False, server_default="0"),
        sa.Column("day_chars", sa.BigInteger, nullable=False, server_default="0"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("api_keys")
