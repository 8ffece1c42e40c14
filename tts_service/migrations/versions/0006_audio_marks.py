"""Word timings for each chunk's audio (`tts_service.timing`): JSON with its own version, so audio recorded
before this (or with an older timing version) is read as having none until it is made again or backfilled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audio") as batch:
        batch.add_column(sa.Column("marks", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("audio") as batch:
        batch.drop_column("marks")
