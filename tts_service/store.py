"""The store: articles with their revisions, the lexicon, and a record of every cached audio file.

On SQLite (the embedded default) or PostgreSQL, through ``database.Database``: the same SQL for both, with
named parameters. Every write runs in one transaction on the database's writer thread.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.engine import Row

from tts_service import catalog, retention
from tts_service.article import Article, ArticleDraft
from tts_service.catalog import ArticlePage
from tts_service.database import Database
from tts_service.errors import Conflict, NoArticle, NotFound, SlugTaken, TooLarge
from tts_service.states import JobStatus

T = TypeVar("T")
# Run by ``Store.save_article`` in its transaction before it writes, given the current revision (None for
# a new article); it refuses the save by raising, and then nothing is written.
SaveCheck = Callable[[Connection, Article | None], None]

_ARTICLE_SQL = """
    SELECT a.slug, a.revision, r.title, r.text, r.byline, r.date, r.engine, r.voice,
           a.created_at, r.created_at, r.audio_engine, r.audio_voice, a.url, r.format
    FROM articles a JOIN revisions r ON r.article_id = a.id AND r.revision = a.revision
"""
# The same row with the article's id and update time first: what a page's cursor is made of.
_PAGE_SQL = _ARTICLE_SQL.replace("SELECT", "SELECT a.id, a.updated_at,", 1)
_REVISION_SQL = text("""
    SELECT a.slug, r.revision, r.title, r.text, r.byline, r.date, r.engine, r.voice,
           a.created_at, r.created_at, r.audio_engine, r.audio_voice, a.url, r.format
    FROM articles a JOIN revisions r ON r.article_id = a.id
    WHERE a.slug = :slug AND r.revision = :revision
""")
# Letters in any case: SQLite's LIKE folds ASCII letters; on PostgreSQL, ILIKE folds them (and more).
_SEARCH = "(r.title {like} :q ESCAPE '\\' OR a.slug {like} :q ESCAPE '\\' OR r.byline {like} :q ESCAPE '\\')"
_AUDIO_IN = text("SELECT key, size, duration, sha256, marks FROM audio WHERE key IN :keys").bindparams(
    bindparam("keys", expanding=True)
)
_ASSEMBLY_SQL = "SELECT key, size, duration, spans, sha256 FROM assemblies"


@dataclass(frozen=True)
class AudioRecord:
    key: str
    size: int
    duration: float
    sha256: str | None = None
    marks: str | None = None  # the word timing as stored (`timing.Timing.from_json` reads it)


@dataclass(frozen=True)
class AssemblyRecord:
    """A whole-article MP3: its key, size, duration, and each chunk's (start, end) in seconds."""

    key: str
    size: int
    duration: float
    spans: tuple[tuple[float, float], ...]
    sha256: str | None = None


def _assembly(row: Sequence[Any]) -> AssemblyRecord:
    spans = tuple((start, end) for start, end in json.loads(row[3]))
    return AssemblyRecord(row[0], row[1], row[2], spans, row[4])


def _set_url(conn: Connection, article_id: int, slug: str, url: str) -> None:
    """Give an article its page URL; Conflict if another article has it already."""
    sql = text("SELECT slug FROM articles WHERE url = :url AND id != :id")
    owner = conn.execute(sql, {"url": url, "id": article_id}).first()
    if owner is not None:
        raise Conflict(f"the page {url} is already the article {owner[0]!r}, not {slug!r}")
    conn.execute(text("UPDATE articles SET url = :url WHERE id = :id"), {"url": url, "id": article_id})


def _article(conn: Connection, article_id: int) -> Article:
    return Article(*conn.execute(text(_ARTICLE_SQL + " WHERE a.id = :id"), {"id": article_id}).one())


def _next_revision(
    conn: Connection, slug: str, row: Row[Any] | tuple[Any, ...] | None, stamp: str
) -> tuple[int, int]:
    """(article id, revision number) of the revision about to be written: a new article's first, or the
    next of the article ``row`` (its id and current revision)."""
    if row is None:
        sql = text(
            "INSERT INTO articles (slug, revision, created_at, updated_at) VALUES (:slug, 1, :at, :at)"
            " RETURNING id"
        )
        return conn.execute(sql, {"slug": slug, "at": stamp}).scalar_one(), 1
    article_id, revision = row[0], row[1] + 1
    conn.execute(
        text("UPDATE articles SET revision = :revision, updated_at = :at WHERE id = :id"),
        {"revision": revision, "at": stamp, "id": article_id},
    )
    return article_id, revision


def _insert_revision(
    conn: Connection, article_id: int, revision: int, draft: ArticleDraft, stamp: str
) -> None:
    conn.execute(
        text(
            "INSERT INTO revisions (article_id, revision, title, byline, date, text, engine, voice,"
            " created_at, format)"
            " VALUES (:article_id, :revision, :title, :byline, :date, :text, :engine, :voice, :at, :format)"
        ),
        {
            "article_id": article_id,
            "revision": revision,
            "title": draft.title,
            "byline": draft.byline,
            "date": draft.date and draft.date.isoformat(),
            "text": draft.text,
            "engine": draft.engine,
            "voice": draft.voice,
            "at": stamp,
            "format": draft.format,
        },
    )


def now() -> str:
    """The current UTC time as stored (ISO 8601, microseconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


class Store:
    """Owns the database: a SQLite file's path, or a database URL (``database.database_url``). Async
    methods never block the event loop."""

    def __init__(self, location: Path | str, *, connect_timeout: float = 30.0) -> None:
        self.location = location
        self.db = Database(location, connect_timeout=connect_timeout)
        self.read, self.write = self.db.read, self.db.write
        self.changes = self.db.changes  # moved by every write that commits (see changes.py)
        self.data_version, self.vacuum, self.size = self.db.data_version, self.db.vacuum, self.db.size

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.db.dialect

    def close(self) -> None:
        self.db.close()

    async def ping(self) -> None:
        """Raise unless the database answers a query (for /healthz)."""
        await self.read(lambda c: c.execute(text("SELECT 1")).one())

    # Articles -------------------------------------------------------------------------------------

    async def list_articles(self) -> list[Article]:
        sql = text(_ARTICLE_SQL + " ORDER BY a.updated_at DESC, a.id DESC")
        rows = await self.read(lambda c: c.execute(sql).all())
        return [Article(*row) for row in rows]

    async def find_articles(
        self, *, limit: int, cursor: str | None = None, query: str | None = None
    ) -> ArticlePage:
        """A page of the list in ``list_articles``' order, after ``cursor`` (the previous page's
        ``next_cursor``); with ``query``, only articles whose title, slug or byline contain it (literally,
        ASCII letters in any case). Keyset pagination over ``articles_by_updated``: no OFFSET, so a deep
        page costs what the first does. An article edited meanwhile moves to the top of the list."""
        where: list[str] = []
        params: dict[str, object] = {"limit": limit + 1}
        if cursor is not None:
            where.append("(a.updated_at < :at OR (a.updated_at = :at AND a.id < :id))")
            params["at"], params["id"] = catalog.decode_cursor(cursor)
        if query:
            where.append(_SEARCH.format(like="ILIKE" if self.dialect == "postgresql" else "LIKE"))
            params["q"] = catalog.like_pattern(query)
        sql = _PAGE_SQL + (" WHERE " + " AND ".join(where) if where else "")
        statement = text(sql + " ORDER BY a.updated_at DESC, a.id DESC LIMIT :limit")
        rows = await self.read(lambda c: c.execute(statement, params).all())
        more, rows = len(rows) > limit, rows[:limit]
        after = catalog.encode_cursor(rows[-1][1], rows[-1][0]) if more else None
        return ArticlePage(tuple(Article(*row[2:]) for row in rows), after)

    async def revisions(self, slug: str) -> list[catalog.RevisionInfo]:
        """The article's stored revisions, newest first; NotFound if there is no such article."""
        sql = text(
            "SELECT r.revision, r.title, r.created_at, length(r.text) FROM revisions r"
            " JOIN articles a ON a.id = r.article_id WHERE a.slug = :slug ORDER BY r.revision DESC"
        )
        rows = await self.read(lambda c: c.execute(sql, {"slug": slug}).all())
        if not rows:
            raise NotFound(f"no article {slug!r}")
        return [catalog.RevisionInfo(*row) for row in rows]

    async def get_revision(self, slug: str, revision: int) -> Article:
        """One stored revision of the article (``updated_at``: when it was written); NotFound if gone."""
        params = {"slug": slug, "revision": revision}
        row = await self.read(lambda c: c.execute(_REVISION_SQL, params).first())
        if row is None:
            raise NotFound(f"article {slug!r} has no revision {revision}")
        return Article(*row)

    async def get_article(self, slug: str) -> Article:
        """The current revision of ``slug``; NotFound if there is no such article."""
        sql = text(_ARTICLE_SQL + " WHERE a.slug = :slug")
        row = await self.read(lambda c: c.execute(sql, {"slug": slug}).first())
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

        def write(conn: Connection) -> Article:
            sql = text("SELECT id, revision FROM articles WHERE slug = :slug")
            row = conn.execute(sql, {"slug": slug}).first()
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
        sql = text(_ARTICLE_SQL + " WHERE a.url = :url")
        row = await self.read(lambda c: c.execute(sql, {"url": url}).first())
        if row is None:
            raise NotFound(f"no article for the page {url}")
        return Article(*row)

    async def prune(self, keep_revisions: int) -> tuple[int, int]:
        """Apply retention to every article (``retention.prune_all``); (revisions removed, jobs removed)."""
        return await self.write(lambda conn: retention.prune_all(conn, keep_revisions))

    async def delete_article(self, slug: str) -> None:
        """Delete the article and all its revisions; its audio stays cached for other articles."""

        def write(conn: Connection) -> None:
            if conn.execute(text("DELETE FROM articles WHERE slug = :slug"), {"slug": slug}).rowcount == 0:
                raise NoArticle(slug)
            # A new article may reuse the slug.
            conn.execute(text("DELETE FROM jobs WHERE slug = :slug"), {"slug": slug})

        await self.write(write)

    async def set_audio_voice(self, slug: str, revision: int, engine: str | None, voice: str | None) -> None:
        """Record the engine and voice a revision's audio is made with instead of its own (None: its own)."""
        sql = text(
            "UPDATE revisions SET audio_engine = :engine, audio_voice = :voice"
            " WHERE revision = :revision AND article_id = (SELECT id FROM articles WHERE slug = :slug)"
        )
        params = {"engine": engine, "voice": voice, "revision": revision, "slug": slug}
        await self.write(lambda c: c.execute(sql, params))

    async def job_counts(self) -> dict[JobStatus, int]:
        """How many generation jobs are in each state (for metrics)."""
        sql = text("SELECT status, count(*) FROM jobs GROUP BY status")
        rows = await self.read(lambda c: c.execute(sql).all())
        return {**dict.fromkeys(JobStatus, 0), **{JobStatus(status): count for status, count in rows}}

    async def revision_count(self, slug: str) -> int:
        sql = text(
            "SELECT count(*) FROM revisions r JOIN articles a ON a.id = r.article_id WHERE a.slug = :slug"
        )
        return await self.read(lambda c: int(c.execute(sql, {"slug": slug}).scalar_one()))

    # Lexicon --------------------------------------------------------------------------------------

    async def lexicon(self) -> dict[str, str]:
        """All entries, written form → spoken form."""
        rows = await self.read(lambda c: c.execute(text("SELECT written, spoken FROM lexicon")).all())
        return {written: spoken for written, spoken in rows}

    async def put_lexicon(self, written: str, spoken: str, *, limit: int | None = None) -> bool:
        """Add or replace an entry; True if it is new. TooLarge if a new entry would pass ``limit``."""

        def write(conn: Connection) -> bool:
            stamp = now()
            existed = conn.execute(text("SELECT 1 FROM lexicon WHERE written = :w"), {"w": written}).first()
            if existed is None and limit is not None:
                count = conn.execute(text("SELECT count(*) FROM lexicon")).scalar_one()
                if count >= limit:
                    raise TooLarge(f"the lexicon holds {count} entries, its limit; remove some first")
            conn.execute(
                text(
                    "INSERT INTO lexicon (written, spoken, created_at, updated_at) VALUES (:w, :s, :at, :at)"
                    " ON CONFLICT (written) DO UPDATE"
                    " SET spoken = excluded.spoken, updated_at = excluded.updated_at"
                ),
                {"w": written, "s": spoken, "at": stamp},
            )
            return existed is None

        return await self.write(write)

    async def remove_lexicon(self, written: str) -> None:
        def write(conn: Connection) -> None:
            if conn.execute(text("DELETE FROM lexicon WHERE written = :w"), {"w": written}).rowcount == 0:
                raise NotFound(f"no lexicon entry {written!r}")

        await self.write(write)

    # Audio ----------------------------------------------------------------------------------------

    async def audio_records(self, keys: Iterable[str]) -> dict[str, AudioRecord]:
        """Records for those of ``keys`` that have been synthesised."""
        wanted = list(dict.fromkeys(keys))

        def read(conn: Connection) -> dict[str, AudioRecord]:
            found: dict[str, AudioRecord] = {}
            for i in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
                for row in conn.execute(_AUDIO_IN, {"keys": wanted[i : i + 500]}):
                    found[row[0]] = AudioRecord(*row)
            return found

        return await self.read(read)

    async def record_audio(self, record: AudioRecord, engine: str, voice: str) -> None:
        sql = text(
            "INSERT INTO audio (key, size, duration, sha256, marks, engine, voice, created_at)"
            " VALUES (:key, :size, :duration, :sha256, :marks, :engine, :voice, :at)"
            " ON CONFLICT (key) DO UPDATE SET size = excluded.size, duration = excluded.duration,"
            " sha256 = excluded.sha256, marks = excluded.marks, engine = excluded.engine,"
            " voice = excluded.voice, created_at = excluded.created_at"
        )
        params = {**record.__dict__, "engine": engine, "voice": voice, "at": now()}
        await self.write(lambda c: c.execute(sql, params))

    async def all_audio(self) -> list[AudioRecord]:
        """Every chunk record (for cache verify and gc)."""
        sql = text("SELECT key, size, duration, sha256 FROM audio")
        rows = await self.read(lambda c: c.execute(sql).all())
        return [AudioRecord(*row) for row in rows]

    async def forget_audio(self, keys: Iterable[str]) -> None:
        """Drop the records of chunk and whole-article files that are gone (gc, quarantine)."""
        doomed = [{"key": key} for key in keys]
        if not doomed:
            return

        def write(conn: Connection) -> None:
            conn.execute(text("DELETE FROM audio WHERE key = :key"), doomed)
            conn.execute(text("DELETE FROM assemblies WHERE key = :key"), doomed)

        await self.write(write)

    # Whole-article audio --------------------------------------------------------------------------

    async def assembly(self, key: str) -> AssemblyRecord | None:
        sql = text(_ASSEMBLY_SQL + " WHERE key = :key")
        row = await self.read(lambda c: c.execute(sql, {"key": key}).first())
        return None if row is None else _assembly(row)

    async def all_assemblies(self) -> list[AssemblyRecord]:
        rows = await self.read(lambda c: c.execute(text(_ASSEMBLY_SQL)).all())
        return [_assembly(row) for row in rows]

    async def record_assembly(self, record: AssemblyRecord) -> None:
        sql = text(
            "INSERT INTO assemblies (key, size, duration, spans, sha256, created_at)"
            " VALUES (:key, :size, :duration, :spans, :sha256, :at)"
            " ON CONFLICT (key) DO UPDATE SET size = excluded.size, duration = excluded.duration,"
            " spans = excluded.spans, sha256 = excluded.sha256, created_at = excluded.created_at"
        )
        params = {**record.__dict__, "spans": json.dumps(record.spans), "at": now()}
        await self.write(lambda c: c.execute(sql, params))
