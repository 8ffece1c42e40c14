"""How a revision's text is written: "text" (plain, with inline readings) or "ssml".

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every revision written before this was plain text.
    with op.batch_alter_table("revisions") as batch:
        batch.add_column(sa.Column("format", sa.Text, nullable=False, server_default="text"))


def downgrade() -> None:
    with op.batch_alter_table("revisions") as batch:
        batch.drop_column("format")
