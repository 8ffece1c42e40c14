"""SQLite store: articles with their revisions, and a record of every cached audio file.

One writer thread owns the write connection (writes are serialised, as in datasette's
``execute_write_fn``); reads run in worker threads on their own connections (WAL mode).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tts_service import catalog, retention
from tts_service.article import Article, ArticleDraft
from tts_service.catalog import ArticlePage
from tts_service.changes import Changes
from tts_service.errors import Conflict, NoArticle, NotFound, SlugTaken, StorageFull, TooLarge
from tts_service.states import JobStatus

T = TypeVar("T")
READ_THREADS = 6  # as many as asyncio's default executor gives reads on 2 cores
# Run by ``Store.save_article`` in its transaction before it writes, given the current revision (None for
# a new article); it refuses the save by raising, and then nothing is written.
SaveCheck = Callable[[sqlite3.Connection, Article | None], None]

# Append-only: each entry upgrades the schema by one version (PRAGMA user_version).
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

_ARTICLE_SQL = """
    SELECT a.slug, a.revision, r.title, r.text, r.byline, r.date, r.engine, r.voice,
           a.created_at, r.created_at, r.audio_engine, r.audio_voice, a.url
    FROM articles a JOIN revisions r ON r.article_id = a.id AND r.revision = a.revision
"""
# The same row with the article's id and update time first: what a page's cursor is made of.
_PAGE_SQL = _ARTICLE_SQL.replace("SELECT", "SELECT a.id, a.updated_at,", 1)
_REVISION_SQL = """
    SELECT a.slug, r.revision, r.title, r.text, r.byline, r.date, r.engine, r.voice,
           a.created_at, r.created_at, r.audio_engine, r.audio_voice, a.url
    FROM articles a JOIN revisions r ON r.article_id = a.id
    WHERE a.slug = ? AND r.revision = ?
"""
_SEARCH = "(r.title LIKE ? ESCAPE '\\' OR a.slug LIKE ? ESCAPE '\\' OR r.byline LIKE ? ESCAPE '\\')"


@dataclass(frozen=True)
class AudioRecord:
    key: str
    size: int
    duration: float
    sha256: str | None = None


@dataclass(frozen=True)
class AssemblyRecord:
    """A whole-article MP3: its key, size, duration, and each chunk's (start, end) in seconds."""

    key: str
    size: int
    duration: float
    spans: tuple[tuple[float, float], ...]
    sha256: str | None = None


def _assembly(row: tuple[Any, ...]) -> AssemblyRecord:
    spans = tuple((start, end) for start, end in json.loads(row[3]))
    return AssemblyRecord(row[0], row[1], row[2], spans, row[4])


def _set_url(conn: sqlite3.Connection, article_id: int, slug: str, url: str) -> None:
    """Give an article its page URL; Conflict if another article has it already."""
    owner = conn.execute("SELECT slug FROM articles WHERE url = ? AND id != ?", (url, article_id)).fetchone()
    if owner is not None:
        raise Conflict(f"the page {url} is already the article {owner[0]!r}, not {slug!r}")
    conn.execute("UPDATE articles SET url = ? WHERE id = ?", (url, article_id))


def _article(conn: sqlite3.Connection, article_id: int) -> Article:
    return Article(*conn.execute(_ARTICLE_SQL + " WHERE a.id = ?", (article_id,)).fetchone())


def _next_revision(
    conn: sqlite3.Connection, slug: str, row: tuple[int, int] | None, stamp: str
) -> tuple[int, int]:
    """(article id, revision number) of the revision about to be written: a new article's first, or the
    next of the article ``row`` (its id and current revision)."""
    if row is None:
        inserted = conn.execute(
            "INSERT INTO articles (slug, revision, created_at, updated_at) VALUES (?, 1, ?, ?)",
            (slug, stamp, stamp),
        )
        assert inserted.lastrowid is not None  # an INSERT into a rowid table always sets it
        return inserted.lastrowid, 1
    article_id, revision = row[0], row[1] + 1
    conn.execute(
        "UPDATE articles SET revision = ?, updated_at = ? WHERE id = ?", (revision, stamp, article_id)
    )
    return article_id, revision


def _insert_revision(
    conn: sqlite3.Connection, article_id: int, revision: int, draft: ArticleDraft, stamp: str
) -> None:
    conn.execute(
        "INSERT INTO revisions (article_id, revision, title, byline, date, text, engine, voice, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            article_id,
            revision,
            draft.title,
            draft.byline,
            draft.date and draft.date.isoformat(),
            draft.text,
            draft.engine,
            draft.voice,
            stamp,
        ),
    )


def now() -> str:
    """The current UTC time as stored (ISO 8601, microseconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction; return the schema version.

    The version is read inside the write transaction that applies the next step, so two processes opening
    a new database at once never both run the same step: the second waits for the first's lock, then sees
    its version."""
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < len(MIGRATIONS):
                for statement in _statements(MIGRATIONS[version]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if version >= len(MIGRATIONS) - 1:
            return len(MIGRATIONS)


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


class Store:
    """Owns the database file. Async methods never block the event loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        # Reads run in threads of their own (each with its own connection), so that close can wait for them.
        self._readers = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="store-reader")
        self._write_conn = _connect(path)
        migrate(self._write_conn)
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.changes = Changes()  # moved by every write that commits (see changes.py)
        self._version_conn: sqlite3.Connection | None = None  # for data_version only

    def close(self) -> None:
        """Close the database once every read and write in flight has ended (closing a connection under
        a running query can crash the interpreter); reads and writes after this raise RuntimeError."""
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        for conn in [self._write_conn, *self._read_conns]:
            conn.close()

    def _read_conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _connect(self.path)
            with self._lock:
                self._read_conns.append(conn)
        return conn

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` with this thread's read connection, in a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._readers, lambda: fn(self._read_conn()))

    async def write(self, fn: Callable[[sqlite3.Connection], T], *, transaction: bool = True) -> T:
        """Run ``fn`` in one transaction on the single writer thread (``transaction=False``: without one,
        for the few statements that refuse to run inside a transaction, such as VACUUM)."""

        def run() -> T:
            conn = self._write_conn
            if not transaction:
                try:
                    return fn(conn)
                finally:
                    self.changes.bump()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            # Here, in the writer thread, and only once committed: a reader that sees the new generation
            # reads the new data. (After the await, a cancelled caller would never move it.)
            self.changes.bump()
            return result

        try:
            return await asyncio.get_running_loop().run_in_executor(self._writer, run)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                raise StorageFull(f"no space left for the database ({self.path})") from exc
            raise

    async def data_version(self) -> int:
        """A number that moves when another connection, in this process or another, commits a write
        (SQLite's ``PRAGMA data_version``, on a connection of its own): what ``Changes.follow`` watches."""

        def read() -> int:
            if self._version_conn is None:
                self._version_conn = _connect(self.path)
                with self._lock:
                    self._read_conns.append(self._version_conn)  # closed with the others
            version: int = self._version_conn.execute("PRAGMA data_version").fetchone()[0]
            return version

        return await asyncio.get_running_loop().run_in_executor(self._readers, read)

    # Articles -------------------------------------------------------------------------------------

    async def list_articles(self) -> list[Article]:
        rows = await self.read(
            lambda c: c.execute(_ARTICLE_SQL + " ORDER BY a.updated_at DESC, a.id DESC").fetchall()
        )
        return [Article(*row) for row in rows]

    async def find_articles(
        self, *, limit: int, cursor: str | None = None, query: str | None = None
    ) -> ArticlePage:
        """A page of the list in ``list_articles``' order, after ``cursor`` (the previous page's
        ``next_cursor``); with ``query``, only articles whose title, slug or byline contain it (literally,
        ASCII letters in any case). Keyset pagination over ``articles_by_updated``: no OFFSET, so a deep
        page costs what the first does. An article edited meanwhile moves to the top of the list."""
        where: list[str] = []
        params: list[str | int] = []
        if cursor is not None:
            where.append("(a.updated_at, a.id) < (?, ?)")
            params += catalog.decode_cursor(cursor)
        if query:
            where.append(_SEARCH)
            params += [catalog.like_pattern(query)] * 3
        sql = _PAGE_SQL + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY a.updated_at DESC, a.id DESC LIMIT ?"
        rows = await self.read(lambda c: c.execute(sql, (*params, limit + 1)).fetchall())
        more, rows = len(rows) > limit, rows[:limit]
        after = catalog.encode_cursor(rows[-1][1], rows[-1][0]) if more else None
        return ArticlePage(tuple(Article(*row[2:]) for row in rows), after)

    async def revisions(self, slug: str) -> list[catalog.RevisionInfo]:
        """The article's stored revisions, newest first; NotFound if there is no such article."""
        sql = (
            "SELECT r.revision, r.title, r.created_at, length(r.text) FROM revisions r"
            " JOIN articles a ON a.id = r.article_id WHERE a.slug = ? ORDER BY r.revision DESC"
        )
        rows = await self.read(lambda c: c.execute(sql, (slug,)).fetchall())
        if not rows:
            raise NotFound(f"no article {slug!r}")
        return [catalog.RevisionInfo(*row) for row in rows]

    async def get_revision(self, slug: str, revision: int) -> Article:
        """One stored revision of the article (``updated_at``: when it was written); NotFound if gone."""
        row = await self.read(lambda c: c.execute(_REVISION_SQL, (slug, revision)).fetchone())
        if row is None:
            raise NotFound(f"article {slug!r} has no revision {revision}")
        return Article(*row)

    async def get_article(self, slug: str) -> Article:
        """The current revision of ``slug``; NotFound if there is no such article."""
        row = await self.read(lambda c: c.execute(_ARTICLE_SQL + " WHERE a.slug = ?", (slug,)).fetchone())
        if row is None:
            raise NoArticle(slug)
        return Article(*row)

    async def save_article(
        self,
        draft: ArticleDraft,
        *,
        must_exist: bool = False,
        must_be_new: bool = False,
        keep_revisions: int = 0,
        if_changed: bool = False,
        check: SaveCheck | None = None,
    ) -> Article:
        """Store the draft as a new article, or as the next revision of the article with its slug; the
        revision as this call wrote it (read in its own transaction, whatever other writers do next).
        With ``keep_revisions``, older revisions beyond that many, and their finished jobs, go.
        ``if_changed``: when the current revision has the draft's title and text already, write nothing and
        answer with it (many readers of one edited page make one revision). ``check`` runs first (SaveCheck).
        ``must_be_new``: SlugTaken if the slug is in use (checked in the writing transaction, so of two
        concurrent creations one wins and the other is told).
        """
        slug = draft.resolved_slug()

        def write(conn: sqlite3.Connection) -> Article:
            row = conn.execute("SELECT id, revision FROM articles WHERE slug = ?", (slug,)).fetchone()
            if row is None and must_exist:
                raise NoArticle(slug)
            if row is not None and must_be_new:
                raise SlugTaken(slug)
            current = _article(conn, row[0]) if row is not None and (if_changed or check) else None
            if (
                if_changed
                and current is not None
                and (current.title, current.text) == (draft.title, draft.text)
            ):
                return current
            if check is not None:
                check(conn, current)
            stamp = now()
            article_id, revision = _next_revision(conn, slug, row, stamp)
            if draft.url is not None:
                _set_url(conn, article_id, slug, draft.url)
            _insert_revision(conn, article_id, revision, draft, stamp)
            if keep_revisions:
                retention.prune_article(conn, article_id, slug, keep_revisions)
            return _article(conn, article_id)

        return await self.write(write)

    async def article_by_url(self, url: str) -> Article:
        """The current revision of the article stored under a canonical page URL; NotFound if none."""
        sql = _ARTICLE_SQL + " WHERE a.url = ?"
        row = await self.read(lambda c: c.execute(sql, (url,)).fetchone())
        if row is None:
            raise NotFound(f"no article for the page {url}")
        return Article(*row)

    async def prune(self, keep_revisions: int) -> tuple[int, int]:
        """Apply retention to every article (``retention.prune_all``); (revisions removed, jobs removed)."""
        return await self.write(lambda conn: retention.prune_all(conn, keep_revisions))

    async def vacuum(self) -> None:
        """Give the space of deleted rows back to the file system (rewrites the database file)."""
        await self.write(lambda c: c.execute("VACUUM"), transaction=False)

    async def delete_article(self, slug: str) -> None:
        """Delete the article and all its revisions; its audio stays cached for other articles."""

        def write(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM articles WHERE slug = ?", (slug,)).rowcount == 0:
                raise NoArticle(slug)
            conn.execute("DELETE FROM jobs WHERE slug = ?", (slug,))  # a new article may reuse the slug

        await self.write(write)

    async def set_audio_voice(self, slug: str, revision: int, engine: str | None, voice: str | None) -> None:
        """Record the engine and voice a revision's audio is made with instead of its own (None: its own)."""
        sql = (
            "UPDATE revisions SET audio_engine = ?, audio_voice = ?"
            " WHERE revision = ? AND article_id = (SELECT id FROM articles WHERE slug = ?)"
        )
        await self.write(lambda c: c.execute(sql, (engine, voice, revision, slug)))

    async def job_counts(self) -> dict[JobStatus, int]:
        """How many generation jobs are in each state (for metrics)."""
        sql = "SELECT status, count(*) FROM jobs GROUP BY status"
        rows = await self.read(lambda c: c.execute(sql).fetchall())
        return {**dict.fromkeys(JobStatus, 0), **{JobStatus(status): count for status, count in rows}}

    async def revision_count(self, slug: str) -> int:
        sql = "SELECT count(*) FROM revisions r JOIN articles a ON a.id = r.article_id WHERE a.slug = ?"
        return await self.read(lambda c: c.execute(sql, (slug,)).fetchone()[0])

    # Lexicon --------------------------------------------------------------------------------------

    async def lexicon(self) -> dict[str, str]:
        """All entries, written form → spoken form."""
        rows = await self.read(lambda c: c.execute("SELECT written, spoken FROM lexicon").fetchall())
        return dict(rows)

    async def put_lexicon(self, written: str, spoken: str, *, limit: int | None = None) -> bool:
        """Add or replace an entry; True if it is new. TooLarge if a new entry would pass ``limit``."""

        def write(conn: sqlite3.Connection) -> bool:
            stamp = now()
            existed = conn.execute("SELECT 1 FROM lexicon WHERE written = ?", (written,)).fetchone()
            if existed is None and limit is not None:
                count = conn.execute("SELECT count(*) FROM lexicon").fetchone()[0]
                if count >= limit:
                    raise TooLarge(f"the lexicon holds {count} entries, its limit; remove some first")
            conn.execute(
                "INSERT INTO lexicon (written, spoken, created_at, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(written) DO UPDATE"
                " SET spoken = excluded.spoken, updated_at = excluded.updated_at",
                (written, spoken, stamp, stamp),
            )
            return existed is None

        return await self.write(write)

    async def remove_lexicon(self, written: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM lexicon WHERE written = ?", (written,)).rowcount == 0:
                raise NotFound(f"no lexicon entry {written!r}")

        await self.write(write)

    # Audio ----------------------------------------------------------------------------------------

    async def audio_records(self, keys: Iterable[str]) -> dict[str, AudioRecord]:
        """Records for those of ``keys`` that have been synthesised."""
        wanted = list(dict.fromkeys(keys))

        def read(conn: sqlite3.Connection) -> dict[str, AudioRecord]:
            found: dict[str, AudioRecord] = {}
            for i in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
                batch = wanted[i : i + 500]
                marks = ",".join("?" * len(batch))
                for row in conn.execute(
                    f"SELECT key, size, duration, sha256 FROM audio WHERE key IN ({marks})", batch
                ):
                    found[row[0]] = AudioRecord(*row)
            return found

        return await self.read(read)

    async def record_audio(self, record: AudioRecord, engine: str, voice: str) -> None:
        await self.write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO audio (key, size, duration, sha256, engine, voice, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.key, record.size, record.duration, record.sha256, engine, voice, now()),
            )
        )

    async def all_audio(self) -> list[AudioRecord]:
        """Every chunk record (for cache verify and gc)."""
        sql = "SELECT key, size, duration, sha256 FROM audio"
        rows = await self.read(lambda c: c.execute(sql).fetchall())
        return [AudioRecord(*row) for row in rows]

    async def forget_audio(self, keys: Iterable[str]) -> None:
        """Drop the records of chunk and whole-article files that are gone (gc, quarantine)."""
        doomed = [(key,) for key in keys]

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM audio WHERE key = ?", doomed)
            conn.executemany("DELETE FROM assemblies WHERE key = ?", doomed)

        await self.write(write)

    # Whole-article audio --------------------------------------------------------------------------

    async def assembly(self, key: str) -> AssemblyRecord | None:
        row = await self.read(
            lambda c: c.execute(
                "SELECT key, size, duration, spans, sha256 FROM assemblies WHERE key = ?", (key,)
            ).fetchone()
        )
        return None if row is None else _assembly(row)

    async def all_assemblies(self) -> list[AssemblyRecord]:
        sql = "SELECT key, size, duration, spans, sha256 FROM assemblies"
        return [_assembly(row) for row in await self.read(lambda c: c.execute(sql).fetchall())]

    async def record_assembly(self, record: AssemblyRecord) -> None:
        await self.write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO assemblies (key, size, duration, spans, sha256, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (record.key, record.size, record.duration, json.dumps(record.spans), record.sha256, now()),
            )
        )
