"""The store's tables, once for every database: SQLite (the embedded default) and PostgreSQL.

This is the schema as the newest migration leaves it (``tts_service/migrations``); a test compares the two.
Times are ISO 8601 text in UTC with microseconds (``store.now``), which sorts as time does on both
databases; heartbeats and quota clocks are Unix seconds.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)

metadata = MetaData()
_ACTIVE = "status IN ('queued', 'running')"

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", Text, nullable=False, unique=True),
    Column("revision", Integer, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    # The canonical URL of the host page an article is (embedded pages, crawled pages, editors' own).
    Column("url", Text),
    Index(
        "articles_by_url",
        "url",
        unique=True,
        sqlite_where=text("url IS NOT NULL"),
        postgresql_where=text("url IS NOT NULL"),
    ),
    # The editors' list, most recently updated first, a page at a time (catalog.py): an index walk.
    Index("articles_by_updated", "updated_at", "id"),
)

revisions = Table(
    "revisions",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("byline", Text),
    Column("date", Text),
    Column("text", Text, nullable=False),
    Column("engine", Text),
    Column("voice", Text),
    Column("created_at", Text, nullable=False),
    # The engine and voice a revision's audio was actually made with, when its own engine failed.
    Column("audio_engine", Text),
    Column("audio_voice", Text),
    # How the text is written: "text" (plain, with inline readings) or "ssml" (text/source.py).
    Column("format", Text, nullable=False, server_default="text"),
    PrimaryKeyConstraint("article_id", "revision"),
)

audio = Table(
    "audio",
    metadata,
    Column("key", Text, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("duration", Float, nullable=False),
    Column("engine", Text, nullable=False),
    Column("voice", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("sha256", Text),  # what `tts-service cache verify` checks each file against
    Column("marks", Text),  # the audio's word timing, `timing.Timing.to_json` (versioned)
)

lexicon = Table(
    "lexicon",
    metadata,
    Column("written", Text, primary_key=True),
    Column("spoken", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

assemblies = Table(
    "assemblies",
    metadata,
    Column("key", Text, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("duration", Float, nullable=False),
    Column("spans", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("sha256", Text),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("engine", Text, nullable=False),
    Column("voice", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("done", Integer, nullable=False, server_default="0"),
    Column("total", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("fallback", Text),
    Column("owner", Text, nullable=False),
    Column("heartbeat", Float, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("finished_at", Text),
    CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="jobs_status"),
    Index("jobs_by_article", "slug", "revision", "id"),
    Index("jobs_by_status", "status"),
    # At most one active job per article revision, whichever process or machine starts it (migration 0002).
    Index(
        "jobs_one_active",
        "slug",
        "revision",
        unique=True,
        sqlite_where=text(_ACTIVE),
        postgresql_where=text(_ACTIVE),
    ),
    sqlite_autoincrement=True,  # ids are never reused: a client polling job 7 never sees another job 7
)

# The chunks a queued job (TTS_REDIS_URL) still has to make, one row per distinct key, with how many times the
# plan says it (progress counts chunks, as an in-process job does). Workers on any machine mark their chunk
# done here; the one transaction that leaves no chunk undone tells its worker to assemble (migration 0003).
job_chunks = Table(
    "job_chunks",
    metadata,
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("uses", Integer, nullable=False),
    Column("done", Integer, nullable=False, server_default="0"),  # 0 or 1
)

# Editors' sign-in sessions: the cookie holds a random secret, this table its hash, so a session ends on
# the server (sign-out, a new editor token) and a copied cookie stops working at once.
sessions = Table(
    "sessions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("csrf", Text, nullable=False),
    Column("token", Text, nullable=False),
    Column("expires", Float, nullable=False),
    Column("created_at", Text, nullable=False),
)

# What each site stored through /api/embed (quotas.py): one row per new revision, with the characters of
# new text it brought.
embed_usage = Table(
    "embed_usage",
    metadata,
    Column("site", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("chars", Integer, nullable=False),
    Index("embed_usage_by_site", "site", "at"),
    Index("embed_usage_by_time", "at"),
)

# Apps' API keys (keys.py, migration 0004): the secret's SHA-256, never the secret; limits (NULL: none); and
# usage, counted by increments in SQL so that every process adds to the same row. ``day`` (days since 1970,
# UTC) and ``day_chars`` hold the characters of the current day, for the daily budget.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("hash", Text, nullable=False, unique=True),
    Column("prefix", Text, nullable=False),
    Column("rate_per_minute", Integer),
    Column("chars_per_day", BigInteger),
    Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
    Column("requests", BigInteger, nullable=False, server_default="0"),
    Column("chars", BigInteger, nullable=False, server_default="0"),
    Column("cache_hits", BigInteger, nullable=False, server_default="0"),
    Column("day", Integer, nullable=False, server_default="0"),
    Column("day_chars", BigInteger, nullable=False, server_default="0"),
    sqlite_autoincrement=True,  # ids are never reused: a per-key rate limit never passes to a new key
)
