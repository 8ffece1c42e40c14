"""The schema as of the SQLite store's eighth hand-written migration (PRAGMA user_version 8).

A SQLite database made by those migrations is brought to version 8 by them (``migrations.legacy``) and
stamped with this revision; a new database, SQLite or PostgreSQL, is created here.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.Text, nullable=False, unique=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
    )
    op.create_index(
        "articles_by_url",
        "articles",
        ["url"],
        unique=True,
        sqlite_where=sa.text("url IS NOT NULL"),
        postgresql_where=sa.text("url IS NOT NULL"),
    )
    op.create_index("articles_by_updated", "articles", ["updated_at", "id"])
    op.create_table(
        "revisions",
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("byline", sa.Text),
        sa.Column("date", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("engine", sa.Text),
        sa.Column("voice", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("audio_engine", sa.Text),
        sa.Column("audio_voice", sa.Text),
        sa.PrimaryKeyConstraint("article_id", "revision"),
    )
    op.create_table(
        "audio",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("engine", sa.Text, nullable=False),
        sa.Column("voice", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text),
    )
    op.create_table(
        "lexicon",
        sa.Column("written", sa.Text, primary_key=True),
        sa.Column("spoken", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "assemblies",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("spans", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("engine", sa.Text, nullable=False),
        sa.Column("voice", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("fallback", sa.Text),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("heartbeat", sa.Float, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("finished_at", sa.Text),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="jobs_status"),
        sqlite_autoincrement=True,
    )
    op.create_index("jobs_by_article", "jobs", ["slug", "revision", "id"])
    op.create_index("jobs_by_status", "jobs", ["status"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("csrf", sa.Text, nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "embed_usage",
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("chars", sa.Integer, nullable=False),
    )
    op.create_index("embed_usage_by_site", "embed_usage", ["site", "at"])
    op.create_index("embed_usage_by_time", "embed_usage", ["at"])


def downgrade() -> None:
    for table in (
        "embed_usage",
        "sessions",
        "jobs",
        "assemblies",
        "lexicon",
        "audio",
        "revisions",
        "articles",
    ):
        op.drop_table(table)
