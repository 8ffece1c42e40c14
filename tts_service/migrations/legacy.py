"""The SQLite store's hand-written migrations, from before Alembic (PRAGMA user_version 1 to 8).

A database one of them made is brought to version 8 here and then stamped with Alembic's first revision
(``versions/0001_baseline.py``, the same schema); from there on Alembic migrates it like any other.
Frozen: nothing is ever added here.
"""

from __future__ import annotations

import sqlite3

# Each entry upgraded the schema by one version (PRAGMA user_version).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        revision INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE revisions (
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        revision INTEGER NOT NULL,
        title TEXT NOT NULL,
        byline TEXT,
        date TEXT,
        text TEXT NOT NULL,
        engine TEXT,
        voice TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (article_id, revision)
    );
    CREATE TABLE audio (
        key TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        duration REAL NOT NULL,
        engine TEXT NOT NULL,
        voice TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE lexicon (
        written TEXT PRIMARY KEY,
        spoken TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE assemblies (
        key TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        duration REAL NOT NULL,
        spans TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        slug TEXT NOT NULL,
        revision INTEGER NOT NULL,
        engine TEXT NOT NULL,
        voice TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        fallback TEXT,
        owner TEXT NOT NULL,
        heartbeat REAL NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX jobs_by_article ON jobs (slug, revision, id);
    CREATE INDEX jobs_by_status ON jobs (status);
    -- The engine and voice a revision's audio was actually made with, when its own engine failed.
    ALTER TABLE revisions ADD COLUMN audio_engine TEXT;
    ALTER TABLE revisions ADD COLUMN audio_voice TEXT;
    -- What `tts-service cache verify` checks each file against.
    ALTER TABLE audio ADD COLUMN sha256 TEXT;
    ALTER TABLE assemblies ADD COLUMN sha256 TEXT;
    """,
    """
    -- Editors' sign-in sessions: the cookie holds a random secret, this table its hash, so a session ends
    -- on the server (sign-out, a new editor token) and a copied cookie stops working at once.
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        csrf TEXT NOT NULL,
        token TEXT NOT NULL,
        expires REAL NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    """
    -- The canonical URL of the host page an article is (embedded pages, crawled pages, editors' own).
    ALTER TABLE articles ADD COLUMN url TEXT;
    CREATE UNIQUE INDEX articles_by_url ON articles (url) WHERE url IS NOT NULL;
    """,
    """
    -- What each site stored through /api/embed (quotas.py): one row per new revision, with the characters
    -- of new text it brought. Rows older than the day and the minute being counted go at each use.
    CREATE TABLE embed_usage (
        site TEXT NOT NULL,
        at REAL NOT NULL,
        chars INTEGER NOT NULL
    );
    CREATE INDEX embed_usage_by_site ON embed_usage (site, at);
    CREATE INDEX embed_usage_by_time ON embed_usage (at);
    """,
    """
    -- The editors' list, most recently updated first, a page at a time (catalog.py): an index walk.
    CREATE INDEX articles_by_updated ON articles (updated_at, id);
    """,
)


def upgrade(conn: sqlite3.Connection) -> int:
    """Apply the hand-written migrations a database made by them still lacks, inside the caller's write
    transaction; its version before (0: a database they never touched, left alone)."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        return 0
    for script in MIGRATIONS[version:]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    return version


def _statements(script: str) -> list[str]:
    """A migration's statements, one by one (executescript would commit the transaction it runs in)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete statement in a migration: {pending.strip()[:60]!r}")
    return statements
