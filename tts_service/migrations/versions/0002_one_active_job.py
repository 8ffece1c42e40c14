"""At most one active (queued or running) job per article revision, kept by the database.

Two processes, on one machine or several, may both see no job for a new revision and both create one; with
this unique index the second insert fails (and ``JobStore.create`` returns the first job instead). Active
duplicates a database may hold already are marked failed first, all but the newest.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ACTIVE = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.execute(
        "UPDATE jobs SET status = 'failed', error = 'superseded: a newer job for the same revision'"
        f" WHERE {_ACTIVE} AND id < (SELECT max(j.id) FROM jobs j"
        f" WHERE j.slug = jobs.slug AND j.revision = jobs.revision AND j.{_ACTIVE})"
    )
    op.create_index(
        "jobs_one_active",
        "jobs",
        ["slug", "revision"],
        unique=True,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("jobs_one_active", "jobs")
